// The daemon's control socket (/run/ublkcrypt/NAME.sock): one JSON object per line in,
// one per line out, one request per connection. Requests: {"cmd":"status"},
// {"cmd":"close"}, {"cmd":"move","backend":"kernel:DRIVER"} (`migrate`: move the session,
// e.g. back to a card that returned; answers {"ok":...,"provider":...,"variant":...}).
#pragma once

#include <string>

#include "base/status.h"

namespace ublkcrypt {

class ControlListener {
 public:
  ControlListener() = default;
  ~ControlListener();
  ControlListener(const ControlListener&) = delete;
  ControlListener& operator=(const ControlListener&) = delete;

  // Binds `path` (mode 0600; a stale socket file is replaced).
  Status listen(const std::string& path);
  int fd() const { return fd_; }
  // Accepts one connection and reads its request line (bounded wait). Returns the client
  // fd (to answer with reply()) or -1.
  int accept_request(std::string* request);
  static void reply(int client, const std::string& response);

 private:
  int fd_ = -1;
  std::string path_;
};

// Sends `request` to the socket at `path` and waits up to `timeout_ms` for the answer.
Status control_request(const std::string& path, const std::string& request, int timeout_ms,
                       std::string* response);

}  // namespace ublkcrypt

// The daemon's control socket (/run/ublkcrypt/NAME.sock): one JSON object per line in, one
// per line out, one request per connection (tools/serve/control_request.h has the requests).
//
// Bad input must not stop the daemon, nor a slow client stall it: every client has one
// deadline for its whole request line, counted from its connection (not per read), many
// clients are read at once, and whatever breaks the protocol — a line too long, a
// connection closed before its line, a deadline missed, too many clients at once — is
// answered with one error line and closed here, without the daemon's loop seeing it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace ublkcrypt {

// A complete request line and the client waiting for its answer (see reply()).
struct ControlConnection {
  int client = -1;
  std::string line;  // without its newline
};

class ControlListener {
 public:
  static constexpr int kDefaultDeadlineMs = 2000;
  static constexpr size_t kMaxClients = 16;

  explicit ControlListener(int deadline_ms = kDefaultDeadlineMs) : deadline_ms_(deadline_ms) {}
  ~ControlListener();
  ControlListener(const ControlListener&) = delete;
  ControlListener& operator=(const ControlListener&) = delete;

  // Binds `path` (mode 0600; a stale socket file is replaced).
  Status listen(const std::string& path);
  // Readable when a connection or request bytes wait: the serving loop polls it, then calls
  // take().
  int fd() const { return epoll_fd_; }
  // How long the serving loop may sleep before take() has a deadline to enforce: the
  // milliseconds to the nearest one, -1 with no client waiting.
  int timeout_ms() const;
  // Accepts, reads and enforces deadlines without blocking; returns the requests now
  // complete. Clients that broke the protocol were answered and closed.
  std::vector<ControlConnection> take();
  // Sends `response` and a newline (waiting at most a second for a client that does not
  // read), then closes `client`.
  static void reply(int client, const std::string& response);

 private:
  struct Client {
    int fd;
    std::string bytes;
    std::chrono::steady_clock::time_point deadline;
  };
  void accept_clients();
  // Reads what `client` sent; true when it is finished with (complete, or answered and
  // closed).
  bool read_client(Client& client, std::vector<ControlConnection>* complete);
  void refuse(int fd, const Status& why);

  int deadline_ms_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  std::string path_;
  std::vector<Client> clients_;
};

// Sends `request` to the socket at `path` and waits up to `timeout_ms` for the whole answer.
Status control_request(const std::string& path, const std::string& request, int timeout_ms,
                       std::string* response);

}  // namespace ublkcrypt

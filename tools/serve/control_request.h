// ControlRequest: one line from the control socket, checked before the daemon acts on it.
// The protocol (tools/serve/control_socket.h) is one JSON object per line:
//   {"cmd":"status"}
//   {"cmd":"close"}                      {"cmd":"close","force":true}
//   {"cmd":"move","backend":"kernel:DRIVER"}
//   {"cmd":"handover"}                   leave the disk to `open --recover` (an upgrade)
//   {"cmd":"suspend"}                    hold I/O, wipe the key (luksSuspend)
//   {"cmd":"resume"}                     take the key the CLI parked, release I/O (luksResume)
//   {"cmd":"resize","size_bytes":N}      serve N bytes; 0: to the backing's end (resize)
//   {"cmd":"refresh","allow_discards":B} pass discards to the backing or not (refresh)
// Fields the daemon does not know are ignored (a newer CLI may send more); a known field of
// the wrong type is an error. Parsing never throws, whatever the bytes: anything malformed
// becomes Errc::invalid_argument with a one-line message, which control_error_reply() turns
// into the answer, and the daemon serves on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ublkcrypt {

struct ControlRequest {
  enum class Command { status, close, move, handover, suspend, resume, resize, refresh };
  Command command = Command::status;
  bool force = false;   // close: even while the disk is in use
  std::string backend;  // move: provider to move the session to (not empty)
  uint64_t size_bytes = 0;  // resize: the volume's new size; 0 = to the backing's end
  bool allow_discards = false;  // refresh: discards pass to the backing
};

// A request line longer than this is refused without being parsed.
inline constexpr size_t kMaxControlRequestBytes = 4096;

Status parse_control_request(std::string_view line, ControlRequest* out);

// {"ok":false,"code":N,"error":"..."}: one line, valid JSON whatever the message holds.
std::string control_error_reply(const Status& status);

}  // namespace ublkcrypt

// Exit codes, as cryptsetup's so scripts written for it keep working:
//   0 success
//   1 wrong parameters (bad option, unknown cipher, malformed header or response)
//   2 no permission or bad passphrase / password
//   3 out of memory
//   4 wrong device specified (missing, too small, card or drive gone)
//   5 device already exists or is busy
#pragma once

#include "base/status.h"

namespace ublkcrypt {

enum ExitCode : int {
  exit_ok = 0,
  exit_wrong_parameters = 1,
  exit_no_permission = 2,
  exit_no_memory = 3,
  exit_wrong_device = 4,
  exit_busy = 5,
};

inline int exit_code_for(Errc code) {
  switch (code) {
    case Errc::ok: return exit_ok;
    case Errc::permission: return exit_no_permission;
    case Errc::no_memory: return exit_no_memory;
    case Errc::not_found:
    case Errc::device_gone:
    case Errc::io_error: return exit_wrong_device;
    case Errc::busy: return exit_busy;
    case Errc::invalid_argument:
    case Errc::unsupported:
    case Errc::corrupt:
    case Errc::timeout: return exit_wrong_parameters;
  }
  return exit_wrong_parameters;
}

}  // namespace ublkcrypt

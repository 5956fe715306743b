// Closing a name, as `close` does and `detach-all` does for each crypttab line: ask its
// daemon to stop its disk (flush, STOP_DEV, DEL_DEV) and wait until the daemon is gone. A
// name whose daemon died is cleaned up instead.
#pragma once

#include <string>

#include "base/status.h"

namespace ublkcrypt {

enum class CloseOutcome {
  closed,        // a live daemon stopped its disk and exited
  cleaned_dead,  // its daemon had died; the stale device and state are gone
};

// not_found ("Device NAME is not active") when nothing serves the name and nothing was
// left; otherwise the daemon's or the socket's failure, naming the name.
Status close_volume(const std::string& name, CloseOutcome* outcome);

}  // namespace ublkcrypt

// Starting a volume's daemon in the background, as `open` does and `attach-all` does for
// each crypttab line: fork, the child becomes the daemon (serve_volume with detach) and
// reports one line on a pipe — the disk path or the failure — which the caller gets back.
// The key is read in the child only, so nothing secret lives in the caller.
#pragma once

#include <string>

#include "base/status.h"
#include "tools/serve/volume_server.h"

namespace ublkcrypt {

// Starts the daemon for `options` and waits until its disk is up (*disk = "/dev/ublkbN")
// or it failed (the daemon's status, as the foreground open would give it). The child
// never returns from this call.
Status start_volume_daemon(const OpenOptions& options, std::string* disk);

}  // namespace ublkcrypt

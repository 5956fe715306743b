// Whether anything still uses a served disk, for `close`: cryptsetup refuses to close a
// device in use, and so do we — with the user named where it can be known, and at once.
// Refusing before the disk stops matters beyond politeness: DEL_DEV waits for the disk's
// last opener, so stopping a disk another process holds open would leave `close` hanging for
// as long as that process keeps it.
#pragma once

#include <string>

#include "base/status.h"

namespace ublkcrypt {

// Errc::busy, "Device NAME is still in use (...)", while `disk` (/dev/ublkbN) is mounted,
// held by a device stacked on it or another exclusive opener, or open in any process but
// this one (found through /proc/PID/fd, as fuser finds it).
Status check_disk_not_in_use(const std::string& name, const std::string& disk);

}  // namespace ublkcrypt

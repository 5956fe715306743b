// RecoveryWatchdog: a volume whose server died waits for `open --recover` — but not
// forever. Each server that serves a disk with user recovery starts a watchdog, a small
// process of its own (`ublkcrypt watchdog`, in its own session, holding no key: it is a
// fresh exec, not a fork of the server's memory). It sleeps until the server exits, then:
//
//  - the device is gone (closed) or served by another pid (recovered: that server has a
//    watchdog of its own): nothing to do;
//  - still waiting after the volume's --recovery-timeout: it takes NAME's lock (so no
//    recovery is half-way), stops the device — the kernel fails every waiting request
//    with EIO, as it would for a disk that went away — deletes it, discards the parked
//    key and the state. A recovery in progress (the lock held) is waited for.
//
// Linux 6.13 can fail I/O of a server-less device by itself (UBLK_F_USER_RECOVERY_FAIL_IO)
// but 6.12 cannot, and only something outside the dead server can count the time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ublkcrypt {

// Starts the watchdog for this server (getpid()) of `name`'s ublk device `dev_id`.
Status spawn_recovery_watchdog(const std::string& name, uint32_t dev_id, unsigned timeout_s);

// The watchdog itself (the `watchdog` verb). Returns when there is nothing left to watch.
Status run_recovery_watchdog(const std::string& name, uint32_t dev_id, pid_t server_pid,
                             unsigned timeout_s);

}  // namespace ublkcrypt

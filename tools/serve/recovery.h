// Recovery: a new server takes over a volume whose server died, or hands it over on
// request (a planned upgrade), without a passphrase and without the disk going away.
//
//   ublkcrypt open --recover NAME
//
// 1. If a server of NAME is alive, it is asked to hand over ({"cmd":"handover"} on its
//    control socket; SIGUSR1 does the same): its queues finish what they started and
//    close, leaving the disk to the kernel as if it had died. Then NAME's lock is taken.
// 2. The previous server's state (/run/ublkcrypt/NAME.json) says which backing, which
//    ublk device, which mode; the volume key comes from the kernel keyring
//    (tools/serve/key_handoff.h).
// 3. BlockDevice::recover reattaches to the same device id and queues; the requests that
//    waited complete. The state is rewritten with the new pid and one more recovery.
//
// A watchdog (tools/serve/recovery_watchdog.h) bounds the wait when nobody recovers.
#pragma once

#include "base/status.h"
#include "tools/serve/run_state.h"
#include "tools/serve/volume_server.h"

namespace ublkcrypt {

// The default --recovery-timeout: see docs/recovery.md for why a minute.
inline constexpr unsigned kDefaultRecoveryTimeoutS = 60;
// How long a recovering server waits for the old one to let go of the device and the
// backing (its io_uring torn down, its files closed).
inline constexpr int kRecoveryWaitMs = 30000;
// The exit status of a foreground server that handed its volume over: not 0, so that a
// service manager restarting on failure starts the next (upgraded) server through
// `open --recover`.
inline constexpr int kHandedOverExitStatus = 75;

// Step 1 above. On success `lock` holds NAME's lock and `previous` the state its last
// server left. not_found when there is nothing to recover: no state, its device gone, or
// no key parked for it (the caller may then open normally).
Status take_over_name(const std::string& name, NameLock* lock, RunState* previous);

// The options the next server serves with: the previous server's backing, type, mode,
// provider (unless `o` names one) and recovery timeout.
void recovery_options(const RunState& previous, OpenOptions* o);

}  // namespace ublkcrypt

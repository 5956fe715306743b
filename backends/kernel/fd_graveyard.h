// keep_open_after_exit(fds): keeps these file descriptors' files open for good, beyond this
// process's life, for the AF_ALG sockets of a card that was pulled out.
//
// Why: seen on Debian's 6.12 in the VM with virtio-crypto, freeing a transform of a removed
// card (closing its last AF_ALG socket, or the process exiting with it open) runs the
// driver's session close on the freed device: a CPU spins with interrupts off and the
// machine stalls (RCU stall, then every TLB shootdown waits on that CPU). So those sockets
// must never be released. A helper process (clone with CLONE_VM, so no copy of the daemon's
// memory and none of the keys it wipes survives in a private copy) takes copies of just
// these descriptors — it closes every other one it inherited — and sleeps with every signal
// blocked. The caller may then close its own copies and exit normally: its name lock, ublk
// device and backing are not held by the helper. The cost, on a machine that lost a card:
// one sleeping process per dead session, reparented to init, pinning the daemon's address
// space. SIGKILL on it brings the hazard back.
#pragma once

#include <span>

#include "base/status.h"

namespace ublkcrypt {

Status keep_open_after_exit(std::span<const int> fds);

}  // namespace ublkcrypt

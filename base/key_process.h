// Protection for a process about to hold keys — the volume server, which keeps the volume
// key and its expanded schedules for as long as the disk exists. Call it first, before any
// passphrase, key or plaintext is in the process.
//
// What it does:
//  - PR_SET_DUMPABLE 0: no core file on a crash, and /proc/PID/mem and ptrace need
//    CAP_SYS_PTRACE;
//  - RLIMIT_CORE 0 (soft and hard): no core even if something made it dumpable again;
//  - mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) when the process may lock without
//    limit (CAP_IPC_LOCK): every page it touches stays in RAM.
//
// Why mlockall and not only targeted mlock: the tree's own key copies are SecureBytes
// (mlock'ed, MADV_DONTDUMP, wiped), but the key schedules the ciphers run with live in
// OpenSSL's EVP contexts — two per worker thread and session, plus the ESSIV context —
// allocated by OpenSSL on the ordinary heap, and libcryptsetup and the stack hold passing
// copies during unlock. Locking those pages one by one would mean replacing OpenSSL's
// allocator for the whole process (CRYPTO_set_mem_functions, before its first allocation,
// shared with libcryptsetup). mlockall covers them, the heap and the stacks with them, and
// the I/O buffers that hold plaintext. MCL_ONFAULT locks a page when it is first touched,
// so reserved but untouched memory (thread stacks, the tail of deep queues) costs nothing.
// The cost: what the server touched stays resident — per queue, up to depth x the largest
// I/O for the ublk buffers and as much for the bounce buffers — as dm-crypt's bios and
// mempools, kernel memory, are never swapped either.
//
// Without CAP_IPC_LOCK, MCL_FUTURE would count every later mapping against RLIMIT_MEMLOCK
// (8 MiB by default) and make allocations fail in the middle of serving, so it is not
// attempted: keys stay locked through SecureBytes, OpenSSL's schedules may then be swapped,
// and `note` says so; so it does where mlockall reports success but VmLck stays 0
// (AddressSanitizer makes mlock and mlockall no-ops). Never locked in any case: key material the kernel holds (AF_ALG
// transforms, the Opal drive's own keys) is the kernel's or the drive's to protect.
#pragma once

#include <string>

#include "base/status.h"

namespace ublkcrypt {

struct KeyProcessProtection {
  bool all_memory_locked = false;
  std::string note;  // one line when not everything could be done; empty otherwise
};

// Failing to make the process non-dumpable or to zero RLIMIT_CORE is an error (nothing
// should hold a key then); failing to lock all memory is reported in `out->note` only.
Status protect_key_process(KeyProcessProtection* out);

}  // namespace ublkcrypt

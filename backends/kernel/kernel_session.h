// KernelSession: one cipher + key on AF_ALG, kept busy through io_uring.
//
// A dispatcher thread owns one io_uring and a pool of operation sockets. Every sector is one
// operation (a sendmsg carries one IV, so sectors cannot share one): a linked pair of SQEs,
// IORING_OP_SENDMSG (direction + IV cmsgs + input) then IORING_OP_READ of the output. The
// dispatcher fills every idle socket, then submits and waits in one io_uring_enter, so a
// batch of requests costs one system call per round, not two per sector.
//
// Why the reads go to io-wq (IOSQE_ASYNC): measured on Debian's 6.12 in the VM, an AF_ALG
// read issued through io_uring still waits for the crypto request inside skcipher_recvmsg,
// uninterruptibly. On a pulled virtio-crypto card that request never completes, so the
// thread issuing the read is lost. With IOSQE_ASYNC that thread is an io-wq worker; the
// dispatcher stays free, sees the deadline pass and fails the session over. The cost: the
// lost workers belong to this process, which can therefore no longer exit completely (the
// kernel, not ublkcrypt, holds it); the session itself closes without waiting for them.
//
// Failure: an error completion, an operation older than the deadline, or the card's driver
// leaving /proc/crypto (card_watch.h: a removed card must not get new operations), fails the
// session for good: every request in it completes with io_error or timeout (the Session
// then moves to another provider) and later submits fail at once. Sockets with operations
// still in the kernel are abandoned; outputs land in the session's own bounce pages, never
// in the consumer's buffers, so a late answer cannot overwrite memory the consumer has
// since reused. Those sockets are closed only after the ring is torn down.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "backends/kernel/sector_iv.h"
#include "backends/kernel/sector_whitening.h"
#include "backends/provider.h"

namespace ublkcrypt {

struct KernelSessionConfig {
  std::string who;  // "kernel:virtio_crypto_aes_cbc", for messages
  CipherSpec spec;  // sector size and IV numbering (CipherSpec::iv_of)
  unsigned op_sockets = 64;     // operations in flight at most
  std::chrono::milliseconds deadline{2000};
  bool card = false;            // count bytes crossing the bus
  // A card session watches /proc/crypto for this driver (card_watch.h) and fails over as
  // soon as it is gone, sending the dead card nothing more. "" = not watched.
  std::string watch_driver;
  std::string proc_crypto = "/proc/crypto";
  // How often /proc/crypto is read: the window in which a removed card may still be sent
  // operations (each read of /proc/crypto costs tens of microseconds, off the datapath).
  std::chrono::milliseconds watch_interval{20};
};

// Takes ownership of `transform` (a keyed AF_ALG transform socket), even on failure.
// `whitening` (lmk, tcw; else nullptr) works on each sector around the transform.
Status open_kernel_session(const KernelSessionConfig& config, int transform, SectorIv iv,
                           std::unique_ptr<SectorWhitening> whitening,
                           ProviderCounters* counters, std::unique_ptr<ProviderSession>* out);

}  // namespace ublkcrypt

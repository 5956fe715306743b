// The kernel provider: ciphers run by the kernel crypto API through AF_ALG, which is how
// user space reaches accelerator cards (QAT, CCP, virtio-crypto ...). Priority 50, below
// software: it serves a volume when asked for (--backend kernel, kernel:DRIVER), and as a
// failover target after software.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "backends/provider.h"

namespace ublkcrypt {

struct KernelProviderOptions {
  // Operation sockets per session: sectors in flight at once.
  unsigned op_sockets = 64;
  // An operation unanswered for this long means the card is gone or hung.
  std::chrono::milliseconds deadline{2000};
  std::string proc_crypto = "/proc/crypto";

  // Defaults, overridden by UBLKCRYPT_KERNEL_SOCKETS and UBLKCRYPT_KERNEL_DEADLINE_MS.
  static KernelProviderOptions from_environment();
};

std::unique_ptr<Provider> make_kernel_provider(
    KernelProviderOptions options = KernelProviderOptions::from_environment());

}  // namespace ublkcrypt

// The software provider: AES on the host CPU, by the tree's VAES kernels where the CPU has
// VAES and by OpenSSL EVP otherwise (sector_cipher.h, aes_implementation.h), with a worker
// pool sized to the cores, which the submitting threads join while they wait
// (worker_pool.h). Placement host-cpu, priority 100.
#pragma once

#include <memory>

#include "backends/provider.h"

namespace ublkcrypt {

// `threads` workers; 0: one per online core.
std::unique_ptr<Provider> make_software_provider(unsigned threads = 0);

}  // namespace ublkcrypt

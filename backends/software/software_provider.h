// The software provider: AES on the host CPU, by the tree's VAES kernels where the CPU has
// VAES and by OpenSSL EVP otherwise (sector_cipher.h, aes_implementation.h), with a worker
// pool sized to the cores. Placement host-cpu, priority 100.
#pragma once

#include <memory>

#include "backends/provider.h"

namespace ublkcrypt {

// `threads` = 0 sizes the pool to the online cores.
std::unique_ptr<Provider> make_software_provider(unsigned threads = 0);

}  // namespace ublkcrypt

// The dpdk provider: ciphers run by a DPDK crypto device (rte_cryptodev) from user space,
// polled, with no system call per request: how accelerator cards (QAT, mlx5, CCP,
// virtio-crypto) are reached now that the kernel closes AF_ALG to hardware.
//
// `--backend dpdk:DEVICE` names the device: a virtual device driver (crypto_openssl,
// crypto_null, crypto_aesni_mb) or a card's DPDK name or PCI address. `dpdk` alone takes the
// first device that offers the cipher, and only when UBLKCRYPT_DPDK_EAL_ARGS is set (eal.h):
// without a device named or configured, the provider refuses without starting DPDK.
// Priority 40: below software and kernel, so it serves a volume only when asked for.
#pragma once

#include <memory>

#include "backends/dpdk/crypto_device.h"
#include "backends/provider.h"

namespace ublkcrypt {

struct DpdkProviderOptions {
  CryptoDeviceOptions device;
  // Defaults, with the deadline overridden by UBLKCRYPT_DPDK_DEADLINE_MS.
  static DpdkProviderOptions from_environment();
};

std::unique_ptr<Provider> make_dpdk_provider(
    DpdkProviderOptions options = DpdkProviderOptions::from_environment());

}  // namespace ublkcrypt

// Which kernel crypto API implementation serves a cipher spec, and how ublkcrypt drives it.
//
// The variant after "kernel:" names either an algorithm ("xts(aes)", "cbc(aes)",
// "essiv(cbc(aes),sha256)") or a driver ("virtio_crypto_aes_cbc", "xts-aes-aesni"). AF_ALG
// binds either: the kernel looks names up by algorithm and by driver name alike.
//
// aes-cbc-essiv:sha256 can run two ways. Over an essiv(cbc(aes),sha256) instance the kernel
// computes the ESSIV. Over a bare cbc(aes) driver — a card registers only that — ublkcrypt
// computes IV = AES-256-ECB_{SHA256(key)}(le64 sector) itself, the same function dm-crypt's
// essiv uses, and hands the card the finished IV.
//
// Every other dm-crypt cipher ("serpent-xts-plain64", "twofish-lrw-benbi") binds
// CHAINMODE(CIPHER), or essiv(CHAINMODE(CIPHER),HASH) for ESSIV, with the IVs from
// sector_iv.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backends/cipher_spec.h"
#include "backends/kernel/proc_crypto.h"
#include "base/status.h"

namespace ublkcrypt {

struct KernelBinding {
  std::string salg_name;        // what AF_ALG binds: algorithm or driver name
  std::string driver;           // the implementation, when known ("" = the kernel's pick)
  bool userspace_essiv = false;  // ublkcrypt turns sector numbers into ESSIV IVs
  bool card = false;            // the driver is a look-aside device (bytes cross a bus)
};

// The algorithm name AF_ALG needs for `spec`: "xts(aes)", "essiv(cbc(aes),sha256)",
// "lrw(serpent)"; "" for ciphers the kernel provider does not run (cipher_null).
std::string kernel_algorithm_for(const CipherSpec& spec);

// Chooses the binding for `spec` and `variant` among `algorithms` (/proc/crypto). Errors
// are one line naming "kernel:VARIANT" and listing the drivers that would fit.
Status resolve_kernel_binding(const CipherSpec& spec, std::string_view variant,
                              const std::vector<KernelAlgorithm>& algorithms,
                              KernelBinding* out);

// Drivers that can serve `spec`, highest priority first, AF_ALG-reachable only.
std::vector<const KernelAlgorithm*> kernel_candidates(
    const CipherSpec& spec, const std::vector<KernelAlgorithm>& algorithms);

}  // namespace ublkcrypt

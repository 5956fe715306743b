// DeviceCipher: how a DPDK crypto device runs a CipherSpec, and whether it can.
//
// Every sector is one operation with its own IV. aes-xts-plain64 runs as the device's
// AES-XTS with the plain64 tweak; aes-cbc-essiv:sha256 as plain AES-CBC with the ESSIV
// block computed by ublkcrypt (backends/kernel/sector_iv.h), as for a kernel card that
// registers only cbc(aes); cipher_null-ecb as the NULL cipher. A device offers a cipher
// when its capabilities (rte_cryptodev_sym_capability_get) take the key and IV sizes, and
// its driver takes operations as big as the spec's sectors.
#pragma once

#include <cstdint>
#include <string_view>

#include "backends/cipher_spec.h"
#include "base/status.h"

namespace ublkcrypt {

struct DeviceCipher {
  int algorithm = 0;       // enum rte_crypto_cipher_algorithm
  uint16_t key_bytes = 0;  // as the device takes it (XTS: both halves)
  uint16_t iv_bytes = 0;   // 0: the operation carries no IV
  bool essiv = false;      // the IV is ESSIV(sector), computed by ublkcrypt
};

// The largest operation, in bytes, that DPDK driver `driver` takes ("crypto_virtio": 2176);
// 0 when it has no limit known here. DPDK does not report one.
uint32_t largest_operation_bytes(std::string_view driver);

// Where an operation carries its IV: the operation's private area, right after it.
uint16_t operation_iv_offset();

// The device cipher for `spec` on device `id` (named `who` in errors: "dpdk:crypto_openssl"):
// unsupported, naming both, when the device lacks it or the spec has no DPDK form.
Status device_cipher_for(const CipherSpec& spec, uint8_t id, std::string_view who,
                         DeviceCipher* out);

}  // namespace ublkcrypt

// SectorWhitening: the two dm-crypt IV generators that read or change a sector's data, not
// only its number, done around the kernel's block cipher exactly as dm-crypt does them.
//
//   lmk (loop-AES, version 2: no seed; the keycount forms that carry one are not parsed)
//     IV = the MD5 state, unpadded and unfinalised, after the sector's plaintext blocks 1-31
//     and le32(n), le32((n >> 32) & 0xffffff | 0x80000000), le32(4024), le32(0).
//     Encrypting, the IV comes from the plaintext. Decrypting, the cipher runs with a zero
//     IV (only block 0 depends on it), and the IV, now computable from the decrypted blocks
//     1-31, is XORed into block 0.
//   tcw (TrueCrypt's CBC mode; the volume key ends with an IV seed and 16 whitening bytes)
//     IV = seed XOR le64(n), on both 8-byte halves of a 16-byte IV. The ciphertext is
//     whitened: w = whitening XOR le64(n) on both halves, each 32-bit quarter of w replaced
//     by its CRC-32 (reflected, initial value 0, no final inversion: the kernel's "crc32";
//     another initial value would cancel out in the folding that follows),
//     quarters 0 and 3 XORed into quarter 0, 1 and 2 into quarter 1; those 8 bytes are XORed
//     into every 8 bytes of the sector. Encrypting, after the cipher; decrypting, before.
//
// Both need 512-byte sectors (CipherSpec::parse refuses others), as dm-crypt does. Nothing
// here branches on secret data; MD5 and the CRC run in constant time over fixed lengths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "backends/cipher_spec.h"
#include "backends/provider.h"
#include "base/secure_bytes.h"
#include "base/status.h"

namespace ublkcrypt {

class SectorWhitening {
 public:
  static constexpr size_t kSectorBytes = 512;

  // The whitening `spec` needs, or nullptr in *out when its IV mode needs none. `key` is the
  // whole volume key; tcw copies its last CipherSpec::extra_key_bytes() into locked memory.
  static Status for_spec(const CipherSpec& spec, std::span<const uint8_t> key,
                         std::unique_ptr<SectorWhitening>* out);

  // Before the cipher: `sector` is the copy of the input the cipher will read (tcw removes
  // the whitening from ciphertext), `iv` the IV block it will use (iv_bytes of them).
  void before(Direction direction, uint64_t iv_number, std::span<uint8_t> sector,
              std::span<uint8_t> iv) const;
  // After the cipher: `sector` is its output (lmk fixes decrypted block 0, tcw whitens
  // ciphertext).
  void after(Direction direction, uint64_t iv_number, std::span<uint8_t> sector) const;

 private:
  SectorWhitening() = default;
  void lmk_iv(std::span<const uint8_t> plaintext, uint64_t iv_number, std::span<uint8_t> iv) const;
  void tcw_whiten(uint64_t iv_number, std::span<uint8_t> sector) const;

  IvMode mode_ = IvMode::none;
  size_t iv_bytes_ = 16;
  SecureBytes tcw_keys_;  // tcw: IV seed (iv_bytes_), then 16 whitening bytes
};

}  // namespace ublkcrypt

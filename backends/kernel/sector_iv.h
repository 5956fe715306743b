// SectorIv: the 16-byte IV block AF_ALG gets for each sector.
//
// plain64 (XTS, and what the kernel's essiv template expects as input): the little-endian
// 64-bit IV number followed by eight zero bytes, as dm-crypt builds it. For ESSIV over a bare
// cbc(aes) driver, ublkcrypt then encrypts that block with AES-256-ECB keyed by SHA256(key),
// exactly dm-crypt's essiv, so a card that only knows CBC produces dm-crypt's ciphertext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/status.h"

namespace ublkcrypt {

inline constexpr size_t kIvBytes = 16;

class SectorIv {
 public:
  ~SectorIv();
  SectorIv(SectorIv&&) noexcept;
  SectorIv& operator=(SectorIv&&) noexcept;

  // Plain64 blocks only.
  static SectorIv plain64();
  // ESSIV with salt SHA256(key). The salt lives in OpenSSL's key schedule, not in a copy.
  static Status essiv_sha256(std::span<const uint8_t> key, SectorIv* out);

  // Writes ivs.size()/16 IV blocks, one per IV number. Not thread-safe (one OpenSSL
  // context): each dispatcher owns its own SectorIv.
  void compute(std::span<const uint64_t> iv_numbers, std::span<uint8_t> ivs);

 private:
  struct Essiv;
  SectorIv() = default;
  std::unique_ptr<Essiv> essiv_;
};

}  // namespace ublkcrypt

// SectorIv: the IV block AF_ALG gets for each data unit, computed the way dm-crypt's IV
// generators compute it (dm_cipher_name.h lists them), from the IV number of the unit
// (CipherSpec::iv_of).
//
// plain64 is also what the kernel's essiv template expects as input. For ESSIV over a bare
// cbc(aes) driver (a card registers only that), ublkcrypt encrypts the plain64 block with
// AES-256-ECB keyed by SHA256(key) itself, exactly dm-crypt's essiv, so a card that only
// knows CBC produces dm-crypt's ciphertext. eboiv encrypts with the volume's own cipher and
// key, through an ecb(CIPHER) transform of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "backends/cipher_spec.h"
#include "base/status.h"

namespace ublkcrypt {

inline constexpr size_t kMaxIvBytes = 16;

class SectorIv {
 public:
  ~SectorIv();
  SectorIv(SectorIv&&) noexcept;
  SectorIv& operator=(SectorIv&&) noexcept;

  // plain64 blocks only (16 bytes).
  static SectorIv plain64();
  // ESSIV with salt SHA256(key) for AES. The salt lives in OpenSSL's key schedule, not in a copy.
  static Status essiv_sha256(std::span<const uint8_t> key, SectorIv* out);
  // The generator `spec` needs when the transform computes nothing but the cipher itself
  // (userspace_essiv: a bare cbc(aes) serves aes-cbc-essiv:sha256). Errors name the spec.
  static Status for_spec(const CipherSpec& spec, bool userspace_essiv,
                         std::span<const uint8_t> key, SectorIv* out);

  // Bytes per IV block: the cipher's block size, or 0 for ecb (no IV is sent).
  size_t iv_bytes() const { return iv_bytes_; }

  // Writes ivs.size()/iv_bytes() IV blocks, one per IV number. Not thread-safe (one cipher
  // context): each dispatcher owns its own SectorIv. Fails only if eboiv's transform does.
  Status compute(std::span<const uint64_t> iv_numbers, std::span<uint8_t> ivs);

 private:
  struct Essiv;
  SectorIv() = default;
  IvMode mode_ = IvMode::plain64;
  size_t iv_bytes_ = 16;
  uint32_t sector_size_ = 512;
  std::unique_ptr<Essiv> essiv_;
  int eboiv_operation_ = -1;  // operation socket of ecb(CIPHER) keyed with the volume key
};

}  // namespace ublkcrypt

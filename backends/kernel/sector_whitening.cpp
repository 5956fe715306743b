#include "backends/kernel/sector_whitening.h"

// lmk needs MD5's internal state without padding, which only the low-level interface
// (deprecated in OpenSSL 3, still shipped) exposes; EVP has no "export state".
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/md5.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

namespace ublkcrypt {
namespace {

constexpr size_t kTcwWhiteningBytes = 16;

void put_le32(uint8_t* p, uint32_t v) {
  for (int b = 0; b < 4; ++b) p[b] = static_cast<uint8_t>(v >> (8 * b));
}

// The kernel's "crc32" of 4 bytes: reflected polynomial 0xedb88320, initial value 0, no
// final inversion (zlib's crc32 inverts both, so it does not serve).
uint32_t kernel_crc32(const uint8_t* p) {
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) {
    crc ^= p[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc;
}

// dst[i] = a[i] ^ le64(n)[i] for i < bytes (bytes <= 8).
void xor_le64(uint8_t* dst, const uint8_t* a, uint64_t n, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) dst[i] = a[i] ^ static_cast<uint8_t>(n >> (8 * i));
}

}  // namespace

Status SectorWhitening::for_spec(const CipherSpec& spec, std::span<const uint8_t> key,
                                 std::unique_ptr<SectorWhitening>* out) {
  out->reset();
  if (!spec.whitens_sectors()) return Status::Ok();
  const IvMode mode = spec.dm.iv;
  if (spec.sector_size != kSectorBytes)
    return Status(Errc::invalid_argument,
                  fmt::format("{}: works on 512-byte sectors only", spec.name()));
  std::unique_ptr<SectorWhitening> whitening(new SectorWhitening);
  whitening->mode_ = mode;
  whitening->iv_bytes_ = spec.dm.block_bytes();
  if (mode == IvMode::tcw) {
    const size_t extra = spec.extra_key_bytes();
    if (key.size() <= extra)
      return Status(Errc::invalid_argument,
                    fmt::format("{}: a {}-byte key leaves no cipher key after the IV seed "
                                "and whitening", spec.name(), key.size()));
    if (Status s = SecureBytes::copy_of(key.last(extra), &whitening->tcw_keys_); !s.ok())
      return s;
  }
  *out = std::move(whitening);
  return Status::Ok();
}

void SectorWhitening::lmk_iv(std::span<const uint8_t> plaintext, uint64_t iv_number,
                             std::span<uint8_t> iv) const {
  MD5_CTX md5;
  MD5_Init(&md5);
  // Block 0 is left out: decrypting, it is the one block not yet known.
  MD5_Update(&md5, plaintext.data() + 16, 16 * 31);
  uint8_t tail[16];
  put_le32(tail, static_cast<uint32_t>(iv_number));
  put_le32(tail + 4, static_cast<uint32_t>((iv_number >> 32) & 0x00ffffffu) | 0x80000000u);
  put_le32(tail + 8, 4024);
  put_le32(tail + 12, 0);
  MD5_Update(&md5, tail, sizeof(tail));
  // 512 bytes: eight whole MD5 blocks, so the state holds all of them and the buffer none.
  uint8_t state[16];
  put_le32(state, md5.A);
  put_le32(state + 4, md5.B);
  put_le32(state + 8, md5.C);
  put_le32(state + 12, md5.D);
  std::memcpy(iv.data(), state, std::min(iv.size(), sizeof(state)));
  OPENSSL_cleanse(&md5, sizeof(md5));
  OPENSSL_cleanse(state, sizeof(state));
}

void SectorWhitening::tcw_whiten(uint64_t iv_number, std::span<uint8_t> sector) const {
  const uint8_t* whitening = tcw_keys_.data() + iv_bytes_;
  uint8_t w[kTcwWhiteningBytes];
  xor_le64(w, whitening, iv_number, 8);
  xor_le64(w + 8, whitening + 8, iv_number, 8);
  for (int quarter = 0; quarter < 4; ++quarter)
    put_le32(w + 4 * quarter, kernel_crc32(w + 4 * quarter));
  for (int i = 0; i < 4; ++i) {
    w[i] ^= w[12 + i];
    w[4 + i] ^= w[8 + i];
  }
  for (size_t at = 0; at < kSectorBytes; at += 8)
    for (size_t i = 0; i < 8; ++i) sector[at + i] ^= w[i];
  OPENSSL_cleanse(w, sizeof(w));
}

void SectorWhitening::before(Direction direction, uint64_t iv_number, std::span<uint8_t> sector,
                             std::span<uint8_t> iv) const {
  if (mode_ == IvMode::lmk) {
    if (direction == Direction::encrypt)
      lmk_iv(sector, iv_number, iv);
    else
      std::memset(iv.data(), 0, iv.size());
    return;
  }
  if (direction == Direction::decrypt) tcw_whiten(iv_number, sector);
  const uint8_t* seed = tcw_keys_.data();
  xor_le64(iv.data(), seed, iv_number, std::min<size_t>(iv.size(), 8));
  if (iv.size() > 8) xor_le64(iv.data() + 8, seed + 8, iv_number, iv.size() - 8);
}

void SectorWhitening::after(Direction direction, uint64_t iv_number,
                            std::span<uint8_t> sector) const {
  if (mode_ == IvMode::lmk) {
    if (direction == Direction::encrypt) return;
    uint8_t iv[16];
    lmk_iv(sector, iv_number, std::span<uint8_t>(iv, iv_bytes_));
    for (size_t i = 0; i < iv_bytes_; ++i) sector[i] ^= iv[i];
    OPENSSL_cleanse(iv, sizeof(iv));
    return;
  }
  if (direction == Direction::encrypt) tcw_whiten(iv_number, sector);
}

}  // namespace ublkcrypt

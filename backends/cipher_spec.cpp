#include "backends/cipher_spec.h"

#include <fmt/format.h>

namespace ublkcrypt {

static bool valid_sector_size(uint32_t size) {
  return size >= 512 && size <= 4096 && (size & (size - 1)) == 0;
}

Status CipherSpec::parse(std::string_view cipher, uint32_t key_bits, uint32_t sector_size,
                         CipherSpec* out) {
  CipherSpec spec;
  spec.sector_size = sector_size;
  if (!valid_sector_size(sector_size))
    return Status(Errc::invalid_argument,
                  fmt::format("sector size {}: must be a power of two from 512 to 4096",
                              sector_size));
  if (key_bits % 8 != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("key size {} bits: not a whole number of bytes", key_bits));
  spec.key_bytes = key_bits / 8;

  if (cipher == "cipher_null-ecb" || cipher == "cipher_null" || cipher == "null") {
    spec.mode = CipherMode::null;
    spec.key_bytes = 0;  // LUKS2 stores cipher_null volumes with an empty key
    *out = spec;
    return Status::Ok();
  }
  if (Status s = DmCipherName::parse(cipher, &spec.dm); !s.ok()) return s;
  const std::string text = spec.dm.text();
  if (text == "aes-xts-plain64" && spec.key_bytes == 48) {
    // Two AES-192 keys: OpenSSL has no such XTS, so not the software fast path; the kernel's
    // xts(aes) takes it, as dm-crypt's does.
    spec.mode = CipherMode::generic;
  } else if (text == "aes-xts-plain64") {
    spec.mode = CipherMode::aes_xts_plain64;
    if (spec.key_bytes != 32 && spec.key_bytes != 64)
      return Status(Errc::invalid_argument,
                    fmt::format("cipher {}: key size {} bits unsupported (use 256, 384 or 512)",
                                cipher, key_bits));
  } else if (text == "aes-cbc-essiv:sha256") {
    spec.mode = CipherMode::aes_cbc_essiv_sha256;
    if (spec.key_bytes != 16 && spec.key_bytes != 24 && spec.key_bytes != 32)
      return Status(Errc::invalid_argument,
                    fmt::format("cipher {}: key size {} bits unsupported (use 128, 192 or 256)",
                                cipher, key_bits));
  } else {
    spec.mode = CipherMode::generic;
    if (spec.key_bytes == 0)
      return Status(Errc::invalid_argument, fmt::format("cipher {}: needs a key", cipher));
    if (spec.whitens_sectors() && sector_size != 512)
      return Status(Errc::invalid_argument,
                    fmt::format("cipher {}: IV mode {} works on 512-byte sectors only, not {}",
                                cipher, DmCipherName::iv_name(spec.dm.iv), sector_size));
    if (spec.dm.iv == IvMode::tcw && spec.key_bytes <= spec.extra_key_bytes())
      return Status(Errc::invalid_argument,
                    fmt::format("cipher {}: key size {} bits leaves no cipher key after tcw's "
                                "{}-byte IV seed and whitening",
                                cipher, key_bits, spec.extra_key_bytes()));
    if (spec.dm.iv == IvMode::eboiv && spec.dm.chain != "cbc")
      return Status(Errc::unsupported,
                    fmt::format("cipher {}: eboiv needs a cbc chain mode", cipher));
  }
  *out = spec;
  return Status::Ok();
}

// The block ciphers TrueCrypt and VeraCrypt chain (libcryptsetup's tcrypt_cipher table).
static bool is_cascade_cipher(std::string_view word) {
  return word == "aes" || word == "serpent" || word == "twofish" || word == "camellia" ||
         word == "kuznyechik";
}

// How many cascade cipher names `cipher` starts with, and where the chain mode begins.
static size_t cascade_ciphers(std::string_view cipher, size_t* rest_at) {
  size_t count = 0, at = 0;
  while (true) {
    const size_t dash = cipher.find('-', at);
    if (dash == std::string_view::npos || !is_cascade_cipher(cipher.substr(at, dash - at))) break;
    ++count;
    at = dash + 1;
  }
  *rest_at = at;
  return count;
}

bool CipherSpec::is_cascade_name(std::string_view cipher) {
  size_t rest_at = 0;
  return cascade_ciphers(cipher, &rest_at) >= 2;
}

Status CipherSpec::parse_cascade(std::string_view cipher, uint32_t key_bits, uint32_t sector_size,
                                 CipherSpec* out) {
  size_t rest_at = 0;
  const size_t count = cascade_ciphers(cipher, &rest_at);
  if (count < 2)
    return Status(Errc::invalid_argument,
                  fmt::format("cipher {}: not a cascade (two or more of aes, serpent, twofish, "
                              "camellia, kuznyechik, then a chain mode)", cipher));
  if (key_bits % (8 * count) != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("cipher {}: key size {} bits does not split into {} equal keys",
                              cipher, key_bits, count));
  CipherSpec spec;
  spec.mode = CipherMode::generic;
  spec.sector_size = sector_size;
  spec.key_bytes = key_bits / 8;
  const std::string_view rest = cipher.substr(rest_at);  // "xts-plain64"
  size_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t dash = cipher.find('-', at);
    CipherSpec one;
    const std::string text = fmt::format("{}-{}", cipher.substr(at, dash - at), rest);
    if (Status s = parse(text, key_bits / uint32_t(count), sector_size, &one); !s.ok())
      return s.in(fmt::format("cipher {}", cipher));
    if (one.whitens_sectors() || one.extra_key_bytes() != 0)
      return Status(Errc::unsupported,
                    fmt::format("cipher {}: IV mode {} in a cascade is not served here", cipher,
                                DmCipherName::iv_name(one.dm.iv)));
    spec.cascade.push_back(std::move(one));
    at = dash + 1;
  }
  *out = std::move(spec);
  return Status::Ok();
}

CipherSpec CipherSpec::stage(size_t i) const {
  CipherSpec one = cascade.at(i);
  one.sector_size = sector_size;
  one.iv_offset = iv_offset;
  return one;
}

uint32_t CipherSpec::extra_key_bytes() const {
  constexpr uint32_t kTcwWhiteningBytes = 16;
  if (mode != CipherMode::generic || dm.iv != IvMode::tcw) return 0;
  return static_cast<uint32_t>(dm.block_bytes()) + kTcwWhiteningBytes;
}

std::string CipherSpec::name() const {
  if (!cascade.empty()) {
    std::string text;
    for (const CipherSpec& one : cascade) text += one.dm.cipher + "-";
    const std::string first = cascade.front().name();
    return text + first.substr(first.find('-') + 1);
  }
  switch (mode) {
    case CipherMode::aes_xts_plain64: return "aes-xts-plain64";
    case CipherMode::aes_cbc_essiv_sha256: return "aes-cbc-essiv:sha256";
    case CipherMode::null: return "cipher_null-ecb";
    case CipherMode::generic: return dm.text();
  }
  return "unknown";
}

}  // namespace ublkcrypt

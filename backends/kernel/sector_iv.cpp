#include "backends/kernel/sector_iv.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "base/secure_bytes.h"

namespace ublkcrypt {

struct SectorIv::Essiv {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~Essiv() { EVP_CIPHER_CTX_free(ctx); }
};

SectorIv::~SectorIv() = default;
SectorIv::SectorIv(SectorIv&&) noexcept = default;
SectorIv& SectorIv::operator=(SectorIv&&) noexcept = default;

SectorIv SectorIv::plain64() { return SectorIv(); }

Status SectorIv::essiv_sha256(std::span<const uint8_t> key, SectorIv* out) {
  SecureBytes salt;
  if (Status s = SecureBytes::allocate(SHA256_DIGEST_LENGTH, &salt); !s.ok()) return s;
  unsigned salt_len = 0;
  auto essiv = std::make_unique<Essiv>();
  essiv->ctx = EVP_CIPHER_CTX_new();
  // dm-crypt's essiv keys the IV cipher (the volume's cipher, AES) with the whole digest:
  // 32 bytes, so AES-256 whatever the volume's key size.
  if (essiv->ctx == nullptr ||
      EVP_Digest(key.data(), key.size(), salt.data(), &salt_len, EVP_sha256(), nullptr) != 1 ||
      EVP_EncryptInit_ex(essiv->ctx, EVP_aes_256_ecb(), nullptr, salt.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(essiv->ctx, 0) != 1)
    return Status(Errc::no_memory, "ESSIV salt cipher: OpenSSL could not set up AES-256-ECB");
  SectorIv iv;
  iv.essiv_ = std::move(essiv);
  *out = std::move(iv);
  return Status::Ok();
}

void SectorIv::compute(std::span<const uint64_t> iv_numbers, std::span<uint8_t> ivs) {
  for (size_t i = 0; i < iv_numbers.size(); ++i) {
    uint8_t* block = ivs.data() + i * kIvBytes;
    uint64_t n = iv_numbers[i];
    for (int b = 0; b < 8; ++b) block[b] = static_cast<uint8_t>(n >> (8 * b));
    std::memset(block + 8, 0, 8);
  }
  if (!essiv_ || iv_numbers.empty()) return;
  // One ECB call for the whole batch: the blocks are independent.
  int len = 0;
  EVP_EncryptUpdate(essiv_->ctx, ivs.data(), &len, ivs.data(),
                    static_cast<int>(iv_numbers.size() * kIvBytes));
}

}  // namespace ublkcrypt

#include "backends/software/sector_cipher.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstring>

#include "base/secure_bytes.h"

namespace ublkcrypt {

namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct CipherFree {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;
using Fetched = std::unique_ptr<EVP_CIPHER, CipherFree>;

// The cause OpenSSL queued, or `fallback` when it queued none.
std::string openssl_cause(const char* fallback) {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  if (err == 0) return fallback;
  char text[256];
  ERR_error_string_n(err, text, sizeof text);
  return text;
}

// dm-crypt's plain64: the 64-bit IV little-endian in the first 8 bytes, the rest zero.
void put_plain64(uint64_t iv, uint8_t out[16]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(iv >> (8 * i));
  std::memset(out + 8, 0, 8);
}

Status keyed_context(const char* algorithm, std::span<const uint8_t> key, int encrypt,
                     Ctx* out) {
  Fetched cipher(EVP_CIPHER_fetch(nullptr, algorithm, nullptr));
  if (!cipher)
    return Status(Errc::unsupported,
                  fmt::format("OpenSSL {}: {}", algorithm, openssl_cause("not available")));
  if (static_cast<size_t>(EVP_CIPHER_get_key_length(cipher.get())) != key.size())
    return Status(Errc::invalid_argument,
                  fmt::format("OpenSSL {}: key of {} bytes, needs {}", algorithm, key.size(),
                              EVP_CIPHER_get_key_length(cipher.get())));
  Ctx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Status(Errc::no_memory, fmt::format("OpenSSL {}: no memory", algorithm));
  if (EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), nullptr, encrypt, nullptr) != 1)
    return Status(Errc::invalid_argument,
                  fmt::format("OpenSSL {}: key refused: {}", algorithm,
                              openssl_cause("unknown reason")));
  // Sectors are whole blocks; padding would add a block dm-crypt never writes.
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  *out = std::move(ctx);
  return Status::Ok();
}

}  // namespace

struct SectorCipher::Contexts {
  Ctx encrypt;  // xts / cbc, keyed for encryption
  Ctx decrypt;
  Ctx essiv;    // cbc-essiv only: AES-256-ECB keyed with SHA256(key), always encrypting
};

SectorCipher::SectorCipher(const CipherSpec& spec) : spec_(spec) {}
SectorCipher::~SectorCipher() = default;

Status SectorCipher::make(const CipherSpec& spec, std::span<const uint8_t> key,
                          std::unique_ptr<SectorCipher>* out) {
  if (key.size() != spec.key_bytes)
    return Status(Errc::invalid_argument,
                  fmt::format("key for {}: {} bytes given, {} expected", spec.name(),
                              key.size(), spec.key_bytes));
  std::unique_ptr<SectorCipher> cipher(new SectorCipher(spec));
  cipher->contexts_ = std::make_unique<Contexts>();
  Contexts& c = *cipher->contexts_;
  switch (spec.mode) {
    case CipherMode::null: break;
    case CipherMode::aes_xts_plain64: {
      // dm-crypt's key size is both XTS keys together: 512 bits is AES-256-XTS.
      const char* algorithm = key.size() == 64 ? "AES-256-XTS" : "AES-128-XTS";
      if (Status s = keyed_context(algorithm, key, 1, &c.encrypt); !s.ok()) return s;
      if (Status s = keyed_context(algorithm, key, 0, &c.decrypt); !s.ok()) return s;
      break;
    }
    case CipherMode::aes_cbc_essiv_sha256: {
      const char* algorithm = key.size() == 16   ? "AES-128-CBC"
                              : key.size() == 24 ? "AES-192-CBC"
                                                 : "AES-256-CBC";
      if (Status s = keyed_context(algorithm, key, 1, &c.encrypt); !s.ok()) return s;
      if (Status s = keyed_context(algorithm, key, 0, &c.decrypt); !s.ok()) return s;
      // The kernel's essiv template keys the IV cipher with the hash of the data key; a
      // 32-byte SHA-256 salt makes it AES-256 whatever the data key size.
      SecureBytes salt;
      if (Status s = SecureBytes::allocate(32, &salt); !s.ok()) return s;
      unsigned int salt_len = 0;
      if (EVP_Digest(key.data(), key.size(), salt.data(), &salt_len, EVP_sha256(), nullptr) !=
          1)
        return Status(Errc::unsupported,
                      fmt::format("OpenSSL SHA-256: {}", openssl_cause("digest failed")));
      if (Status s = keyed_context("AES-256-ECB", salt.view(), 1, &c.essiv); !s.ok()) return s;
      break;
    }
  }
  *out = std::move(cipher);
  return Status::Ok();
}

Status SectorCipher::crypt(const SectorRun& run, uint32_t skip, uint32_t count) {
  const size_t size = spec_.sector_size;
  const uint8_t* src = run.src + size_t{skip} * size;
  uint8_t* dst = run.dst + size_t{skip} * size;
  if (spec_.mode == CipherMode::null) {
    if (src != dst) std::memcpy(dst, src, size * count);
    return Status::Ok();
  }
  EVP_CIPHER_CTX* ctx =
      run.direction == Direction::encrypt ? contexts_->encrypt.get() : contexts_->decrypt.get();
  const bool essiv = spec_.mode == CipherMode::aes_cbc_essiv_sha256;
  uint8_t iv[16];
  for (uint32_t i = 0; i < count; ++i, src += size, dst += size) {
    const uint64_t sector = run.first_sector + skip + i;
    put_plain64(spec_.iv_of(sector), iv);
    int len = 0;
    if (essiv && EVP_EncryptUpdate(contexts_->essiv.get(), iv, &len, iv, 16) != 1)
      return Status(Errc::io_error,
                    fmt::format("sector {}: ESSIV failed: {}", sector, openssl_cause("?")));
    // Only the IV changes: the key schedule built in make() is reused.
    if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv, -1, nullptr) != 1 ||
        EVP_CipherUpdate(ctx, dst, &len, src, static_cast<int>(size)) != 1 ||
        static_cast<size_t>(len) != size)
      return Status(Errc::io_error, fmt::format("sector {}: {} failed: {}", sector,
                                                spec_.name(), openssl_cause("short output")));
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

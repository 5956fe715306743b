#include "backends/software/sector_cipher.h"

#include <endian.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstring>
#include <new>
#include <vector>

#include "backends/software/vaes_kernels.h"
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
// Two word stores: the cipher then reads the IV as one 16-byte load, which byte stores
// would stall (no store forwarding).
void put_plain64(uint64_t iv, uint8_t out[16]) {
  const uint64_t words[2] = {htole64(iv), 0};
  std::memcpy(out, words, sizeof words);
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

// The IV buffer inside the provider's context, or null. OpenSSL 3's only public way to set
// an IV on a keyed context, EVP_CipherInit_ex2, queries parameters through the provider each
// time, a cost of the order of the cipher's own on a 4 KiB AES-NI sector. The
// context's own IV buffer, which its cipher reads at every update, is writable through
// EVP_CIPHER_CTX_iv_noconst (deprecated, kept for engines that set IVs this way). It is
// used only after proving, on this OpenSSL, that it yields exactly what the slow path does.
uint8_t* iv_slot_of(EVP_CIPHER_CTX* ctx) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return EVP_CIPHER_CTX_iv_noconst(ctx);
#pragma GCC diagnostic pop
}

// Encrypts or decrypts one sector of `size` bytes. Its IV is already in the context's slot
// when `iv` is null; otherwise `iv` is set through EVP_CipherInit_ex2 first. The direction
// picks EVP_EncryptUpdate or EVP_DecryptUpdate itself, one call layer less than
// EVP_CipherUpdate on a path that runs per sector.
bool crypt_sector(EVP_CIPHER_CTX* ctx, bool encrypt, const uint8_t* iv, const uint8_t* src,
                  uint8_t* dst, size_t size) {
  if (iv != nullptr && EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv, -1, nullptr) != 1)
    return false;
  int len = 0;
  const int n = static_cast<int>(size);
  const int done = encrypt ? EVP_EncryptUpdate(ctx, dst, &len, src, n)
                           : EVP_DecryptUpdate(ctx, dst, &len, src, n);
  return done == 1 && static_cast<size_t>(len) == size;
}

// The context's IV slot if writing it gives, for two sectors in a row, the same bytes as
// re-initialising the IV; null otherwise (the slow path stays correct everywhere).
uint8_t* proven_iv_slot(EVP_CIPHER_CTX* ctx, bool encrypt, size_t sector_size) {
  uint8_t* slot = iv_slot_of(ctx);
  if (slot == nullptr) return nullptr;
  std::vector<uint8_t> plain(sector_size), slow(sector_size), fast(sector_size);
  for (size_t i = 0; i < sector_size; ++i) plain[i] = static_cast<uint8_t>(i * 131 + 7);
  uint8_t iv[16];
  for (uint64_t sector : {uint64_t{1}, uint64_t{0x0123456789abcdef}}) {
    put_plain64(sector, iv);
    if (!crypt_sector(ctx, encrypt, iv, plain.data(), slow.data(), sector_size)) return nullptr;
    put_plain64(sector, slot);
    if (!crypt_sector(ctx, encrypt, nullptr, plain.data(), fast.data(), sector_size) || slow != fast)
      return nullptr;
  }
  return slot;
}

}  // namespace

struct SectorCipher::Contexts {
  Ctx encrypt;  // xts / cbc, keyed for encryption
  Ctx decrypt;
  Ctx essiv;    // cbc-essiv only: AES-256-ECB keyed with SHA256(key), always encrypting
  uint8_t* encrypt_iv = nullptr;  // see proven_iv_slot
  uint8_t* decrypt_iv = nullptr;
};

// The VAES path: the schedules in one locked page, and the kernels of the chosen width.
struct SectorCipher::VaesState {
  SecureBytes memory;  // holds `keys`; wiped and unlocked with it
  vaes::SectorKeys* keys = nullptr;
  vaes::SectorKernel encrypt = nullptr;
  vaes::SectorKernel decrypt = nullptr;
};

namespace {

// The kernel's ESSIV salt: SHA-256 of the data key, as the kernel's essiv template keys its
// IV cipher (AES-256 whatever the data key size).
Status essiv_salt(std::span<const uint8_t> key, SecureBytes* salt) {
  if (Status s = SecureBytes::allocate(32, salt); !s.ok()) return s;
  unsigned int salt_len = 0;
  if (EVP_Digest(key.data(), key.size(), salt->data(), &salt_len, EVP_sha256(), nullptr) != 1)
    return Status(Errc::unsupported,
                  fmt::format("OpenSSL SHA-256: {}", openssl_cause("digest failed")));
  return Status::Ok();
}

const char* xts_algorithm(std::span<const uint8_t> key) {
  // dm-crypt's key size is both XTS keys together: 512 bits is AES-256-XTS.
  return key.size() == 64 ? "AES-256-XTS" : "AES-128-XTS";
}

}  // namespace

SectorCipher::SectorCipher(const CipherSpec& spec, AesImplementation impl)
    : spec_(spec), impl_(impl) {}
SectorCipher::~SectorCipher() = default;

Status SectorCipher::make(const CipherSpec& spec, std::span<const uint8_t> key,
                          std::unique_ptr<SectorCipher>* out) {
  return make(spec, key, default_aes_implementation(), out);
}

Status SectorCipher::make(const CipherSpec& spec, std::span<const uint8_t> key,
                          AesImplementation impl, std::unique_ptr<SectorCipher>* out) {
  if (key.size() != spec.key_bytes)
    return Status(Errc::invalid_argument,
                  fmt::format("key for {}: {} bytes given, {} expected", spec.name(),
                              key.size(), spec.key_bytes));
  if (!cpu_runs(impl))
    return Status(Errc::unsupported, fmt::format("AES implementation {}: this CPU cannot run it",
                                                 aes_implementation_name(impl)));
  // CipherSpec::parse admits 512..4096-byte powers of two; the kernels need whole
  // 256-byte steps, so a hand-made spec outside that is refused rather than overrun.
  if (impl != AesImplementation::openssl && spec.sector_size % 256 != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("sector size {}: not a multiple of 256 bytes", spec.sector_size));
  std::unique_ptr<SectorCipher> cipher(new SectorCipher(spec, impl));
  if (impl != AesImplementation::openssl && spec.mode != CipherMode::null) {
    if (Status s = cipher->key_vaes(key); !s.ok()) return s;
  } else if (Status s = cipher->key_openssl(key); !s.ok()) {
    return s;
  }
  *out = std::move(cipher);
  return Status::Ok();
}

Status SectorCipher::key_openssl(std::span<const uint8_t> key) {
  contexts_ = std::make_unique<Contexts>();
  Contexts& c = *contexts_;
  switch (spec_.mode) {
    case CipherMode::null: return Status::Ok();
    case CipherMode::generic:
      return Status(Errc::unsupported, "software: " + spec_.name() + " is not a software cipher");
    case CipherMode::aes_xts_plain64: {
      const char* algorithm = xts_algorithm(key);
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
      SecureBytes salt;
      if (Status s = essiv_salt(key, &salt); !s.ok()) return s;
      if (Status s = keyed_context("AES-256-ECB", salt.view(), 1, &c.essiv); !s.ok()) return s;
      break;
    }
  }
  c.encrypt_iv = proven_iv_slot(c.encrypt.get(), true, spec_.sector_size);
  c.decrypt_iv = proven_iv_slot(c.decrypt.get(), false, spec_.sector_size);
  return Status::Ok();
}

Status SectorCipher::key_vaes(std::span<const uint8_t> key) {
  auto state = std::make_unique<VaesState>();
  if (Status s = SecureBytes::allocate(sizeof(vaes::SectorKeys), &state->memory); !s.ok())
    return s;
  // A page from mmap: aligned for the 64-byte round keys, zeroed, trivially typed.
  state->keys = new (state->memory.data()) vaes::SectorKeys;
  vaes::SectorKeys& keys = *state->keys;
  const vaes::Kernels& kernels = impl_ == AesImplementation::vaes_avx512
                                     ? vaes::avx512_kernels()
                                     : vaes::avx2_kernels();
  if (spec_.mode == CipherMode::aes_xts_plain64) {
    // The reference decides which keys are acceptable (OpenSSL refuses equal halves: one
    // key for data and tweaks voids XTS's security proof). Keying its context once makes
    // this path refuse the same keys with the same message.
    Ctx check;
    if (Status s = keyed_context(xts_algorithm(key), key, 1, &check); !s.ok()) return s;
    const size_t half = key.size() / 2;
    expand_aes_key(key.first(half), &keys.encrypt, &keys.decrypt);
    expand_aes_key(key.subspan(half), &keys.iv, nullptr);
    state->encrypt = kernels.xts_encrypt;
    state->decrypt = kernels.xts_decrypt;
  } else {
    SecureBytes salt;
    if (Status s = essiv_salt(key, &salt); !s.ok()) return s;
    expand_aes_key(key, &keys.encrypt, &keys.decrypt);
    expand_aes_key(salt.view(), &keys.iv, nullptr);
    state->encrypt = kernels.cbc_essiv_encrypt;
    state->decrypt = kernels.cbc_essiv_decrypt;
  }
  vaes_ = std::move(state);
  return Status::Ok();
}

bool SectorCipher::sets_iv_in_place() const {
  return contexts_ != nullptr && contexts_->encrypt_iv != nullptr &&
         contexts_->decrypt_iv != nullptr;
}

void SectorCipher::crypt(std::span<const SectorSlice> slices, Status* results) {
  if (vaes_ != nullptr) {
    crypt_vaes(slices);
    for (size_t i = 0; i < slices.size(); ++i) results[i] = Status::Ok();
    return;
  }
  for (size_t i = 0; i < slices.size(); ++i)
    results[i] = crypt_openssl(*slices[i].run, slices[i].skip, slices[i].count);
}

void SectorCipher::crypt_vaes(std::span<const SectorSlice> slices) {
  // Up to kMaxSectors sectors per kernel call, gathered across slices while the direction
  // stays the same.
  vaes::Sector batch[vaes::kMaxSectors];
  size_t queued = 0;
  Direction direction = Direction::encrypt;
  const size_t size = spec_.sector_size;
  auto flush = [&] {
    if (queued == 0) return;
    const vaes::SectorKernel kernel =
        direction == Direction::encrypt ? vaes_->encrypt : vaes_->decrypt;
    kernel(*vaes_->keys, batch, queued, size);
    queued = 0;
  };
  for (const SectorSlice& slice : slices) {
    const SectorRun& run = *slice.run;
    if (run.direction != direction) {
      flush();
      direction = run.direction;
    }
    const uint8_t* src = run.src + size_t{slice.skip} * size;
    uint8_t* dst = run.dst + size_t{slice.skip} * size;
    for (uint32_t i = 0; i < slice.count; ++i, src += size, dst += size) {
      batch[queued++] = vaes::Sector{src, dst, spec_.iv_of(run.first_sector + slice.skip + i)};
      if (queued == vaes::kMaxSectors) flush();
    }
  }
  flush();
}

Status SectorCipher::crypt_openssl(const SectorRun& run, uint32_t skip, uint32_t count) {
  const size_t size = spec_.sector_size;
  const uint8_t* src = run.src + size_t{skip} * size;
  uint8_t* dst = run.dst + size_t{skip} * size;
  if (spec_.mode == CipherMode::null) {
    if (src != dst) std::memcpy(dst, src, size * count);
    return Status::Ok();
  }
  const bool encrypt = run.direction == Direction::encrypt;
  EVP_CIPHER_CTX* ctx = encrypt ? contexts_->encrypt.get() : contexts_->decrypt.get();
  uint8_t* iv_slot = encrypt ? contexts_->encrypt_iv : contexts_->decrypt_iv;
  const bool essiv = spec_.mode == CipherMode::aes_cbc_essiv_sha256;
  uint8_t iv_buffer[16];
  // The IV goes straight into the context's slot when it has one (ESSIV's output too).
  uint8_t* iv = iv_slot != nullptr ? iv_slot : iv_buffer;
  const uint8_t* iv_to_init = iv_slot != nullptr ? nullptr : iv_buffer;
  for (uint32_t i = 0; i < count; ++i, src += size, dst += size) {
    const uint64_t sector = run.first_sector + skip + i;
    int len = 0;
    if (essiv) {
      uint8_t plain64[16];
      put_plain64(spec_.iv_of(sector), plain64);
      if (EVP_EncryptUpdate(contexts_->essiv.get(), iv, &len, plain64, 16) != 1)
        return Status(Errc::io_error,
                      fmt::format("sector {}: ESSIV failed: {}", sector, openssl_cause("?")));
    } else {
      put_plain64(spec_.iv_of(sector), iv);
    }
    // Only the IV changes: the key schedule built in make() is reused.
    if (!crypt_sector(ctx, encrypt, iv_to_init, src, dst, size))
      return Status(Errc::io_error, fmt::format("sector {}: {} failed: {}", sector,
                                                spec_.name(), openssl_cause("short output")));
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

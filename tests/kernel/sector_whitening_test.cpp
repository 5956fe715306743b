#include "backends/kernel/sector_whitening.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>
#include <vector>

using namespace ublkcrypt;

namespace {

// Known answers from dm-crypt itself (Debian's 6.12 kernel in the test VM):
//   cryptsetup open --type plain --cipher aes-cbc-MODE --key-size BITS --key-file K
//       --skip 8589934597 IMG; then 1024 bytes of PLAINTEXT written at offset 0.
// So the two sectors have IV numbers 2^33 + 5 and 2^33 + 6: lmk's high word is used.
// Key: lmk 32 bytes 0, 1, ... 31; tcw 64 bytes 0x40, 0x41, ... (AES-256, then the IV seed,
// then the whitening). Plaintext byte i = i * 7 + 3. The answers are the SHA-256 of the
// 1024 ciphertext bytes in the image.
constexpr uint64_t kFirstIv = 8589934597ull;
constexpr const char* kLmkCiphertextSha256 =
    "377174b7ce69efc6ac277e655b32f2f9acfb0fe208421376e985aa5ca6889c13";
constexpr const char* kTcwCiphertextSha256 =
    "66017f687b53cdccaf81bd4344a049c9a00e7f155f9e0bbec2c1e56e25aaa49e";

std::vector<uint8_t> pattern(size_t n, unsigned mul, unsigned add) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * mul + add);
  return v;
}

std::string sha256_hex(const std::vector<uint8_t>& data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), digest);
  std::string hex;
  for (uint8_t b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

// One 512-byte sector through AES-256-CBC (OpenSSL, the cipher the kernel runs) with the
// whitening around it, as the kernel session does around its AF_ALG transform.
std::vector<uint8_t> crypt_sector(const SectorWhitening& whitening, std::span<const uint8_t> key,
                                  Direction direction, uint64_t iv_number,
                                  std::span<const uint8_t> input) {
  std::vector<uint8_t> staged(input.begin(), input.end());
  uint8_t iv[16] = {};
  whitening.before(direction, iv_number, staged, iv);
  std::vector<uint8_t> out(staged.size());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  REQUIRE(EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key.data(), iv,
                            direction == Direction::encrypt ? 1 : 0) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  REQUIRE(EVP_CipherUpdate(ctx, out.data(), &len, staged.data(),
                           static_cast<int>(staged.size())) == 1);
  EVP_CIPHER_CTX_free(ctx);
  whitening.after(direction, iv_number, out);
  return out;
}

// Both sectors both ways: the ciphertext matches dm-crypt's, and decrypts to the plaintext.
void check_against_dm_crypt(const char* cipher, uint32_t key_bits, std::vector<uint8_t> key,
                            const char* expected_sha256) {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse(cipher, key_bits, 512, &spec).ok());
  std::unique_ptr<SectorWhitening> whitening;
  REQUIRE(SectorWhitening::for_spec(spec, key, &whitening).ok());
  REQUIRE(whitening != nullptr);
  const auto cipher_key = std::span<const uint8_t>(key).first(key.size() - spec.extra_key_bytes());
  REQUIRE(cipher_key.size() == 32);

  const std::vector<uint8_t> plaintext = pattern(1024, 7, 3);
  std::vector<uint8_t> ciphertext;
  for (size_t s = 0; s < 2; ++s) {
    auto sector = std::span<const uint8_t>(plaintext).subspan(s * 512, 512);
    auto out = crypt_sector(*whitening, cipher_key, Direction::encrypt, kFirstIv + s, sector);
    ciphertext.insert(ciphertext.end(), out.begin(), out.end());
  }
  CHECK(sha256_hex(ciphertext) == expected_sha256);

  std::vector<uint8_t> decrypted;
  for (size_t s = 0; s < 2; ++s) {
    auto sector = std::span<const uint8_t>(ciphertext).subspan(s * 512, 512);
    auto out = crypt_sector(*whitening, cipher_key, Direction::decrypt, kFirstIv + s, sector);
    decrypted.insert(decrypted.end(), out.begin(), out.end());
  }
  CHECK(decrypted == plaintext);
}

}  // namespace

TEST_CASE("lmk: dm-crypt's ciphertext, and back to the plaintext") {
  check_against_dm_crypt("aes-cbc-lmk", 256, pattern(32, 1, 0), kLmkCiphertextSha256);
}

TEST_CASE("tcw: dm-crypt's ciphertext, and back to the plaintext") {
  check_against_dm_crypt("aes-cbc-tcw", 512, pattern(64, 1, 0x40), kTcwCiphertextSha256);
}

TEST_CASE("only lmk and tcw need whitening") {
  CipherSpec spec;
  std::vector<uint8_t> key(64, 1);
  std::unique_ptr<SectorWhitening> whitening;
  for (const char* cipher : {"aes-xts-plain64", "serpent-cbc-essiv:sha256", "twofish-cbc-plain"}) {
    CAPTURE(cipher);
    REQUIRE(CipherSpec::parse(cipher, 512, 512, &spec).ok());
    REQUIRE(SectorWhitening::for_spec(spec, key, &whitening).ok());
    CHECK(whitening == nullptr);
  }
}

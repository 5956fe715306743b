#include "backends/kernel/sector_iv.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <vector>

using namespace ublkcrypt;

TEST_CASE("plain64 IV block: little-endian IV number, then zeros (dm-crypt)") {
  SectorIv iv = SectorIv::plain64();
  std::vector<uint64_t> numbers = {0x0102030405060708ull, 8};
  std::vector<uint8_t> blocks(32, 0xee);
  iv.compute(numbers, blocks);
  const std::array<uint8_t, 16> first = {8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(std::equal(first.begin(), first.end(), blocks.begin()));
  CHECK(blocks[16] == 8);
  CHECK(blocks[31] == 0);
}

TEST_CASE("ESSIV block = AES-256-ECB keyed by SHA256(volume key) of the plain64 block") {
  std::vector<uint8_t> key(16);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  SectorIv iv = SectorIv::plain64();
  REQUIRE(SectorIv::essiv_sha256(key, &iv).ok());
  std::vector<uint64_t> numbers = {0, 1, 123456789};
  std::vector<uint8_t> blocks(48);
  iv.compute(numbers, blocks);

  // Independent computation, one block at a time, straight from the definition.
  uint8_t salt[SHA256_DIGEST_LENGTH];
  SHA256(key.data(), key.size(), salt);
  for (size_t i = 0; i < numbers.size(); ++i) {
    uint8_t in[16] = {};
    for (int b = 0; b < 8; ++b) in[b] = static_cast<uint8_t>(numbers[i] >> (8 * b));
    uint8_t out[32];
    int len = 0;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), nullptr, salt, nullptr) == 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    REQUIRE(EVP_EncryptUpdate(ctx, out, &len, in, 16) == 1);
    EVP_CIPHER_CTX_free(ctx);
    CHECK(std::equal(out, out + 16, blocks.begin() + static_cast<long>(i * 16)));
  }
}

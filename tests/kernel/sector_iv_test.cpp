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
  REQUIRE(iv.compute(numbers, blocks).ok());
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
  REQUIRE(iv.compute(numbers, blocks).ok());

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

namespace {

// The IV blocks `cipher` gets for `numbers`, through the generator the kernel provider uses.
std::vector<uint8_t> ivs_of(const char* cipher, std::vector<uint64_t> numbers,
                            size_t* iv_bytes) {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse(cipher, 256, 512, &spec).ok());
  SectorIv iv = SectorIv::plain64();
  std::vector<uint8_t> key(32, 1);
  REQUIRE(SectorIv::for_spec(spec, false, key, &iv).ok());
  *iv_bytes = iv.iv_bytes();
  std::vector<uint8_t> blocks(numbers.size() * iv.iv_bytes(), 0xee);
  REQUIRE(iv.compute(numbers, blocks).ok());
  return blocks;
}

}  // namespace

TEST_CASE("dm-crypt's IV generators, byte for byte from their definitions in dm-crypt.c") {
  size_t n = 0;
  const std::vector<uint64_t> numbers = {0x1122334455667788ull, 1};
  using Block = std::vector<uint8_t>;

  // plain: the low 32 bits, little-endian.
  Block plain = ivs_of("serpent-cbc-plain", numbers, &n);
  CHECK(n == 16);
  CHECK(Block(plain.begin(), plain.begin() + 16) ==
        Block{0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});

  // plain64be: big-endian in the last eight bytes.
  Block be = ivs_of("twofish-cbc-plain64be", numbers, &n);
  CHECK(Block(be.begin(), be.begin() + 16) ==
        Block{0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88});

  // benbi: 16-byte blocks count from 1, 32 of them per 512-byte unit, big-endian at the end.
  Block benbi = ivs_of("aes-lrw-benbi", numbers, &n);
  CHECK(Block(benbi.begin() + 16, benbi.end()) ==
        Block{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 33});
  // 64-bit-block ciphers count 64 blocks per unit.
  Block narrow = ivs_of("blowfish-cbc-benbi", {1}, &n);
  CHECK(n == 8);
  CHECK(narrow == Block{0, 0, 0, 0, 0, 0, 0, 65});

  // null: zeros; essiv over the kernel template: the plain64 input.
  CHECK(ivs_of("camellia-cbc-null", numbers, &n) == Block(32, 0));
  Block essiv = ivs_of("serpent-cbc-essiv:sha256", {5}, &n);
  CHECK(essiv == Block{5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});

  // ecb: no IV at all.
  CHECK(ivs_of("aes-ecb", numbers, &n).empty());
  CHECK(n == 0);
}

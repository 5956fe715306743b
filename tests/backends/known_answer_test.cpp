// Known answers for the software provider: IEEE 1619-2007 XTS-AES vectors (Annex B) and
// dm-crypt-style IVs checked against answers computed outside ublkcrypt
// (known_answers.sh: the openssl command line for ESSIV, python3-cryptography for XTS).
// The provider runs the process's default AES implementation; vaes_test.cpp checks the
// same answers against every implementation this CPU runs.
#include <doctest/doctest.h>

#include "backends/software/software_provider.h"
#include "tests/backends/known_answers.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

void check_vector(const char* key_hex, uint32_t key_bits, uint64_t sequence,
                  const char* cipher_hex) {
  auto provider = make_software_provider(1);
  CipherSpec spec = spec_of("aes-xts-plain64", key_bits, 512);
  auto key = from_hex(key_hex);
  auto expected = from_hex(cipher_hex);
  REQUIRE(expected.size() == 512);
  // plain64 with 512-byte sectors: the data unit sequence number is the sector number.
  CHECK(crypt(*provider, spec, key, Direction::encrypt, ieee_plaintext(), sequence) == expected);
  CHECK(crypt(*provider, spec, key, Direction::decrypt, expected, sequence) == ieee_plaintext());
}

}  // namespace

TEST_CASE("IEEE 1619-2007 vector 4: XTS-AES-128 (256-bit dm-crypt key), sequence 0") {
  check_vector(kKey4, 256, 0, kCipher4);
}

TEST_CASE("IEEE 1619-2007 vector 5: sequence 1 re-encrypts vector 4's ciphertext") {
  // Annex B defines vector 5's plaintext as vector 4's ciphertext, so decrypting vector 5
  // is checked as: encrypt(vector 4 ct, 1) then decrypt it back, and it must differ from
  // sequence 0's output (the sequence number reaches the tweak).
  auto provider = make_software_provider(1);
  CipherSpec spec = spec_of("aes-xts-plain64", 256, 512);
  auto key = from_hex(kKey4);
  auto c4 = from_hex(kCipher4);
  auto c5 = crypt(*provider, spec, key, Direction::encrypt, c4, 1);
  CHECK(to_hex(c5.data(), 16) == "264d3ca8512194fec312c8c9891f279f");
  CHECK(crypt(*provider, spec, key, Direction::decrypt, c5, 1) == c4);
}

TEST_CASE("IEEE 1619-2007 vector 10: XTS-AES-256 (512-bit dm-crypt key), sequence ff") {
  check_vector(kKey10, 512, 0xff, kCipher10);
}

TEST_CASE("IEEE 1619-2007 vector 14: XTS-AES-256, sequence ffffffffff") {
  check_vector(kKey10, 512, 0xffffffffffULL, kCipher14);
}

TEST_CASE("4096-byte sectors count the IV in 512-byte units (IEEE vector 10 as its head)") {
  // Sector 31 with iv_offset 7 has IV 31*8+7 = 0xff, so its first 512 bytes are vector 10's
  // data unit (XTS tweaks block j as E(K2, IV)*alpha^j: the head of a larger data unit is
  // the 512-byte unit with the same IV). A per-sector IV (31+7) would not match.
  auto provider = make_software_provider(1);
  CipherSpec spec = spec_of("aes-xts-plain64", 512, 4096, 7);
  auto plain = pattern(4096, 1, 0);  // 00..ff repeated: its head is the IEEE plaintext
  auto out = crypt(*provider, spec, from_hex(kKey10), Direction::encrypt, plain, 31);
  CHECK(std::vector<uint8_t>(out.begin(), out.begin() + 512) == from_hex(kCipher10));
}

TEST_CASE("known answers from outside ublkcrypt (tests/backends/known_answers.sh)") {
  auto provider = make_software_provider(2);
  for (const KnownAnswer& c : kKnownAnswers) {
    CAPTURE(c.what);
    CipherSpec spec = spec_of(c.cipher, c.key_bits, c.sector_size, c.iv_offset);
    auto key = pattern(c.key_bits / 8, 3, 1);
    auto plain = pattern(c.sector_size, 31, 7);
    auto out = crypt(*provider, spec, key, Direction::encrypt, plain, c.sector);
    CHECK(sha256_hex(out) == c.sha256);
    CHECK(crypt(*provider, spec, key, Direction::decrypt, out, c.sector) == plain);
  }
}

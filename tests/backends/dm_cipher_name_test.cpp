#include "backends/dm_cipher_name.h"

#include <doctest/doctest.h>

#include "backends/cipher_spec.h"

using namespace ublkcrypt;

namespace {

DmCipherName parsed(const char* text) {
  DmCipherName name;
  Status s = DmCipherName::parse(text, &name);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return name;
}

}  // namespace

TEST_CASE("dm-crypt cipher strings name the kernel transform and the IV generator") {
  struct Case {
    const char* text;
    const char* algorithm;
    IvMode iv;
    const char* option;
    const char* canonical;
  } cases[] = {
      {"serpent-xts-plain64", "xts(serpent)", IvMode::plain64, "", "serpent-xts-plain64"},
      {"twofish-cbc-essiv:sha512", "cbc(twofish)", IvMode::essiv, "sha512",
       "twofish-cbc-essiv:sha512"},
      {"camellia-lrw-benbi", "lrw(camellia)", IvMode::benbi, "", "camellia-lrw-benbi"},
      {"aes-cbc-plain64be", "cbc(aes)", IvMode::plain64be, "", "aes-cbc-plain64be"},
      {"aes-cbc-eboiv", "cbc(aes)", IvMode::eboiv, "", "aes-cbc-eboiv"},
      {"aes-cbc-null", "cbc(aes)", IvMode::null, "", "aes-cbc-null"},
      // dm-crypt's defaults: a chain mode named alone gets plain; ecb takes no IV.
      {"aes-cbc", "cbc(aes)", IvMode::plain, "", "aes-cbc-plain"},
      {"twofish-ecb", "ecb(twofish)", IvMode::none, "", "twofish-ecb"},
      {"capi:xts(aes)-plain64", "xts(aes)", IvMode::plain64, "", "capi:xts(aes)-plain64"},
      {"capi:cbc(serpent)-essiv:sha256", "cbc(serpent)", IvMode::essiv, "sha256",
       "capi:cbc(serpent)-essiv:sha256"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    DmCipherName name = parsed(c.text);
    CHECK(name.algorithm == c.algorithm);
    CHECK(name.iv == c.iv);
    CHECK(name.iv_option == c.option);
    CHECK(name.text() == c.canonical);
    CHECK(parsed(name.text().c_str()).text() == name.text());  // round trip
  }
}

TEST_CASE("a malformed cipher string is refused in one line naming it and the cause") {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"aes", "cipher aes: expected CIPHER-CHAINMODE-IVMODE (aes-xts-plain64)"},
      {"aes-cbc-essiv", "cipher aes-cbc-essiv: essiv needs a hash (essiv:sha256)"},
      {"aes-cbc-plain64:x", "cipher aes-cbc-plain64:x: IV mode plain64 takes no option"},
      {"aes-ecb-plain64", "cipher aes-ecb-plain64: ecb takes no IV"},
      {"aes:64-cbc-lmk", "cipher aes:64-cbc-lmk: keycount forms (CIPHER:N-...) are not supported"},
      {"capi:)(-plain", "cipher capi:)(-plain: capi: needs a kernel crypto API name "
                        "(capi:xts(aes)-plain64)"},
      {"AES-XTS-PLAIN64", "cipher AES-XTS-PLAIN64: expected CIPHER-CHAINMODE-IVMODE "
                          "(aes-xts-plain64)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    DmCipherName name;
    Status s = DmCipherName::parse(c.text, &name);
    CHECK(s.code() == Errc::invalid_argument);
    CHECK(s.message() == c.message);
  }
}

TEST_CASE("the software provider's two AES modes keep their fast paths; the rest is generic") {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse("aes-xts-plain64", 512, 4096, &spec).ok());
  CHECK(spec.mode == CipherMode::aes_xts_plain64);
  REQUIRE(CipherSpec::parse("capi:cbc(aes)-essiv:sha256", 256, 512, &spec).ok());
  CHECK(spec.mode == CipherMode::generic);  // same cipher, spelled for the kernel: kernel
  REQUIRE(CipherSpec::parse("serpent-xts-plain64", 512, 512, &spec).ok());
  CHECK(spec.mode == CipherMode::generic);
  CHECK(spec.name() == "serpent-xts-plain64");

  REQUIRE(CipherSpec::parse("aes-cbc-lmk", 256, 512, &spec).ok());
  CHECK(spec.mode == CipherMode::generic);
  CHECK(spec.extra_key_bytes() == 0);  // lmk version 2: the whole key is the cipher's
  Status lmk_4k = CipherSpec::parse("aes-cbc-lmk", 256, 4096, &spec);
  CHECK(lmk_4k.code() == Errc::invalid_argument);
  CHECK(lmk_4k.message() == "cipher aes-cbc-lmk: IV mode lmk works on 512-byte sectors only, not 4096");

  // tcw: the key ends with a 16-byte IV seed and 16 whitening bytes (8 + 16 for 64-bit blocks).
  REQUIRE(CipherSpec::parse("aes-cbc-tcw", 384, 512, &spec).ok());
  CHECK(spec.extra_key_bytes() == 32);
  REQUIRE(CipherSpec::parse("des3_ede-cbc-tcw", 384, 512, &spec).ok());
  CHECK(spec.extra_key_bytes() == 24);
  Status tcw_short = CipherSpec::parse("aes-cbc-tcw", 256, 512, &spec);
  CHECK(tcw_short.code() == Errc::invalid_argument);
  CHECK(tcw_short.message() ==
        "cipher aes-cbc-tcw: key size 256 bits leaves no cipher key after tcw's 32-byte IV "
        "seed and whitening");
  REQUIRE(CipherSpec::parse("aes-xts-plain64", 512, 512, &spec).ok());
  CHECK(spec.extra_key_bytes() == 0);
  CHECK(CipherSpec::parse("aes-xts-eboiv", 512, 512, &spec).message() ==
        "cipher aes-xts-eboiv: eboiv needs a cbc chain mode");
}

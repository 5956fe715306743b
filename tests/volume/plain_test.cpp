// Plain volumes (`open --type plain`, issue 18): cryptsetup's options mapped onto the volume
// libcryptsetup describes, and the key made as cryptsetup makes it. The hashed keys are
// checked against digests the openssl command computes (cryptsetup's plain hash: H(p),
// H("A" p), H("AA" p) ... concatenated and cut to the key size). That dm-crypt reads the same
// plaintext is the VM's to show (tests/vm/scenarios/plain_dmcrypt.sh).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/volume/scratch.h"
#include "tools/plain_key.h"
#include "volume/plain_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

std::vector<uint8_t> hex_bytes(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size() && std::isxdigit(hex[i]) && std::isxdigit(hex[i + 1]); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// `openssl dgst -ALG` of `data` (plain text, no quotes in it).
std::vector<uint8_t> digest(const std::string& alg, const std::string& data) {
  Run r = run("printf '%s' '" + data + "' | openssl dgst -" + alg + " -r");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return hex_bytes(r.output);
}

// cryptsetup's plain key from a passphrase, from the openssl command.
std::vector<uint8_t> plain_hash_key(const std::string& alg, const std::string& passphrase, size_t key_bytes) {
  std::vector<uint8_t> key;
  for (std::string prefix; key.size() < key_bytes; prefix += 'A') {
    std::vector<uint8_t> block = digest(alg, prefix + passphrase);
    key.insert(key.end(), block.begin(), block.end());
  }
  key.resize(key_bytes);
  return key;
}

std::vector<uint8_t> key_of(const UnlockedVolume& v) { return {v.key.data(), v.key.data() + v.key.size()}; }

Run cli(const std::string& args) { return run(std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null"); }

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1 && s.rfind("ublkcrypt: ", 0) == 0;
}

}  // namespace

TEST_CASE("cipher specs split as dm-crypt splits them") {
  CHECK(split_cipher_spec("aes-cbc-essiv:sha256").cipher == "aes");
  CHECK(split_cipher_spec("aes-cbc-essiv:sha256").mode == "cbc-essiv:sha256");
  CHECK(split_cipher_spec("aes-xts-plain64").spec() == "aes-xts-plain64");
  CHECK(split_cipher_spec("aes").spec() == "aes-cbc-plain");
  CHECK(split_cipher_spec("cipher_null").spec() == "cipher_null-ecb");
  for (const char* bad : {"", "-xts-plain64", "aes-"}) CHECK(split_cipher_spec(bad).cipher.empty());
}

TEST_CASE("plain cipher: cryptsetup's defaults, the two AES specs served, every other spec refused by name") {
  CipherSpec spec;
  REQUIRE(plain_cipher_spec(PlainParams{}, &spec).ok());
  CHECK(spec.mode == CipherMode::aes_cbc_essiv_sha256);
  CHECK(spec.key_bytes == 32);
  CHECK(spec.sector_size == 512);

  PlainParams xts;
  xts.cipher = "aes-xts-plain64";
  xts.key_bits = 512;
  REQUIRE(plain_cipher_spec(xts, &spec).ok());
  CHECK(spec.mode == CipherMode::aes_xts_plain64);
  CHECK(spec.key_bytes == 64);

  PlainParams other;
  other.cipher = "serpent-xts-plain64";
  REQUIRE(plain_cipher_spec(other, &spec).ok());  // the kernel provider's
  CHECK(spec.mode == CipherMode::generic);
  CHECK(spec.dm.algorithm == "xts(serpent)");
  other.cipher = "aes";  // dm-crypt's aes-cbc-plain, not the default
  REQUIRE(plain_cipher_spec(other, &spec).ok());
  CHECK(spec.name() == "aes-cbc-plain");
  other.cipher = "aes-cbc-bogus";
  Status s = plain_cipher_spec(other, &spec);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().rfind("cipher aes-cbc-bogus: IV mode 'bogus' unknown", 0) == 0);
  other.cipher = "aes-cbc-essiv:sha256";
  other.key_bits = 512;
  CHECK(plain_cipher_spec(other, &spec).code() == Errc::invalid_argument);
}

TEST_CASE("plain key rules: a key file is the raw key; stdin and the prompt are hashed unless --hash plain") {
  struct Case {
    KeyFileOptions key;
    std::string hash;
    std::string applies;
    bool raw_key_file;
  };
  const Case cases[] = {
      {{"/k", 0, 0}, "ripemd160", "", true},
      {{"/k", 0, 0}, "sha256", "", true},  // cryptsetup ignores --hash with a key file
      {{"-", 0, 0}, "ripemd160", "ripemd160", false},
      {{"-", 0, 0}, "plain", "", true},
      {{"", 0, 0}, "sha512", "sha512", false},
      {{"", 0, 0}, "plain", "", false},  // a typed passphrase, cut or zero-padded
  };
  for (const Case& c : cases) {
    CAPTURE(c.key.key_file);
    CAPTURE(c.hash);
    const PlainKeyRule rule = plain_key_rule(c.key, c.hash);
    CHECK(rule.hash == c.applies);
    CHECK(rule.raw_key_file == c.raw_key_file);
  }
}

TEST_CASE("a plain volume's geometry: --offset is the data start, --skip the IV offset, --size the size") {
  Scratch scratch;
  const std::string img = scratch.image("img", 8 << 20);
  const std::string raw(64, '\x5a');
  PlainParams p;
  p.cipher = "aes-xts-plain64";
  p.key_bits = 512;
  p.hash = "";
  p.offset = 2048;
  p.skip = 77;
  p.size = 4096;
  UnlockedVolume v;
  Status s = unlock_plain_volume(img, p, bytes(raw), &v);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(v.spec.mode == CipherMode::aes_xts_plain64);
  CHECK(v.data_offset_bytes == 2048u * 512);
  CHECK(v.spec.iv_offset == 77);
  CHECK(v.spec.iv_of(0) == 77);
  CHECK(v.size_bytes == 4096u * 512);
  CHECK(key_of(v) == std::vector<uint8_t>(raw.begin(), raw.end()));

  p.size = 0;  // to the end: the engine resolves it against the backing
  REQUIRE(unlock_plain_volume(img, p, bytes(raw), &v).ok());
  CHECK(v.size_bytes == 0);
}

TEST_CASE("a passphrase becomes the key by cryptsetup's plain hash") {
  Scratch scratch;
  const std::string img = scratch.image("img", 4 << 20);
  UnlockedVolume v;
  // The defaults: ripemd160 (20 bytes) stretched to a 256-bit key.
  REQUIRE(unlock_plain_volume(img, PlainParams{}, bytes("pass phrase"), &v).ok());
  CHECK(key_of(v) == plain_hash_key("ripemd160", "pass phrase", 32));

  PlainParams p;
  p.cipher = "aes-xts-plain64";
  p.key_bits = 512;
  p.hash = "sha256";
  REQUIRE(unlock_plain_volume(img, p, bytes("pw"), &v).ok());
  CHECK(key_of(v) == plain_hash_key("sha256", "pw", 64));
  CHECK(key_of(v) != plain_hash_key("ripemd160", "pw", 64));

  // --hash plain: the passphrase itself, zero-padded to the key size.
  p.hash = "plain";
  REQUIRE(unlock_plain_volume(img, p, bytes("short"), &v).ok());
  std::vector<uint8_t> padded(64, 0);
  std::copy_n("short", 5, padded.begin());
  CHECK(key_of(v) == padded);

  p.hash = "nosuchhash";
  UnlockedVolume refused;
  Status s = unlock_plain_volume(img, p, bytes("pw"), &refused);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "hash nosuchhash: libcryptsetup cannot hash a passphrase with it");
  CHECK(refused.key.empty());
}

TEST_CASE("plain volume refusals: missing device, sector size the device does not divide") {
  Scratch scratch;
  UnlockedVolume v;
  Status s = unlock_plain_volume(scratch.path("missing"), PlainParams{}, bytes("pw"), &v);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message().find(scratch.path("missing")) != std::string::npos);

  const std::string odd = scratch.image("odd", (4 << 20) + 512);
  PlainParams p;
  p.sector_size = 4096;
  s = unlock_plain_volume(odd, p, bytes("pw"), &v);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "plain volume " + odd + ": Device size is not aligned to requested sector size");
}

TEST_CASE("a raw key file: exactly key-size bytes after --keyfile-offset, --keyfile-size and --hash ignored") {
  Scratch scratch;
  const std::string file = scratch.file("key", "0123456789abcdefghijklmnopqrstuvwxyz0123456789");
  PlainParams p;  // 256-bit aes-cbc-essiv:sha256
  SecureBytes key;
  REQUIRE(read_plain_key({file, 5, 3}, "img", &p, &key).ok());
  CHECK(p.hash.empty());
  CHECK(std::string(reinterpret_cast<const char*>(key.data()), key.size()) == "3456789abcdefghijklmnopqrstuvwxy");

  const std::string short_file = scratch.file("short", "0123456789");
  p = PlainParams{};
  Status s = read_plain_key({short_file, 0, 0}, "img", &p, &key);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "key file " + short_file + ": 10 bytes, shorter than the 256-bit key of aes-cbc-essiv:sha256");
  CHECK(key.empty());
}

TEST_CASE("open --type plain as a user runs it: refusals before any key is read, one line, exit 1") {
  Scratch scratch;
  const std::string img = scratch.image("img", 4 << 20);
  Run r = cli("open --type plain --cipher serpent-xts-bogus " + img + " plaintest");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(one_line(r.output), r.output);
  CHECK(r.output.find("cipher serpent-xts-bogus: IV mode 'bogus' unknown") != std::string::npos);

  r = cli("open --type truecrypt " + img + " plaintest");
  CHECK(r.exit_code == 1);
  CHECK(r.output == "ublkcrypt: --type truecrypt: unknown (luks, luks1, luks2, plain or tcrypt)\n");

  const std::string short_key = scratch.file("short", "0123456789");
  r = cli("open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file " + short_key + " " + img +
          " plaintest");
  CHECK(r.exit_code == 1);
  CHECK(r.output == "ublkcrypt: key file " + short_key +
                        ": 10 bytes, shorter than the 512-bit key of aes-xts-plain64\n");
}

// The volume key a server parks for its successor (issue 14): the parked form round-trips
// every cipher's spec and key exactly and refuses anything malformed, and through the real
// kernel keyring the key is stored root-only (no group or other permission), read back
// intact, and gone once discarded.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include "base/kernel_keyring.h"
#include "tools/serve/key_handoff.h"

using namespace ublkcrypt;

namespace {

UnlockedVolume volume(const char* cipher, uint32_t key_bits, uint32_t sector_size) {
  UnlockedVolume v;
  REQUIRE(CipherSpec::parse(cipher, key_bits, sector_size, &v.spec).ok());
  v.spec.iv_offset = 77;
  v.data_offset_bytes = 16 << 20;
  v.size_bytes = 123456789 * 512ull;
  REQUIRE(SecureBytes::allocate(v.spec.key_bytes, &v.key).ok());
  for (size_t i = 0; i < v.key.size(); ++i) v.key.data()[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

// The permission field of `description`'s line in /proc/keys ("" when not listed).
std::string proc_keys_perm(const std::string& description) {
  std::ifstream f("/proc/keys");
  std::string line;
  while (std::getline(f, line)) {
    if (line.find(" user ") == std::string::npos || line.find(description + ":") == std::string::npos) continue;
    std::istringstream in(line);
    std::string id, flags, usage, timeout, perm;
    in >> id >> flags >> usage >> timeout >> perm;
    return perm;
  }
  return "";
}

}  // namespace

TEST_CASE("the parked form round-trips each cipher's spec, geometry and key") {
  for (auto [cipher, bits, sector] : {std::tuple{"aes-xts-plain64", 512u, 4096u},
                                      std::tuple{"aes-xts-plain64", 256u, 512u},
                                      std::tuple{"aes-cbc-essiv:sha256", 256u, 512u},
                                      std::tuple{"cipher_null-ecb", 0u, 512u}}) {
    CAPTURE(cipher);
    UnlockedVolume v = volume(cipher, bits, sector);
    SecureBytes blob;
    REQUIRE(encode_handoff(v, &blob).ok());
    UnlockedVolume back;
    REQUIRE(decode_handoff(blob.view(), &back).ok());
    CHECK(back.spec.name() == v.spec.name());
    CHECK(back.spec.key_bytes == v.spec.key_bytes);
    CHECK(back.spec.sector_size == sector);
    CHECK(back.spec.iv_offset == 77);
    CHECK(back.data_offset_bytes == v.data_offset_bytes);
    CHECK(back.size_bytes == v.size_bytes);
    REQUIRE(back.key.size() == v.key.size());
    CHECK(std::equal(back.key.view().begin(), back.key.view().end(), v.key.view().begin()));
  }
}

TEST_CASE("a malformed parked form is refused, never half-read") {
  UnlockedVolume v = volume("aes-xts-plain64", 512, 512);
  SecureBytes blob;
  REQUIRE(encode_handoff(v, &blob).ok());
  UnlockedVolume out;
  for (size_t cut : {size_t{0}, size_t{8}, blob.size() - 1}) {
    CAPTURE(cut);
    Status s = decode_handoff(blob.view().first(cut), &out);
    CHECK(s.code() == Errc::corrupt);
    CHECK(out.key.empty());
  }
  SecureBytes bad;
  REQUIRE(SecureBytes::copy_of(blob.view(), &bad).ok());
  bad.data()[0] ^= 1;  // magic
  CHECK(decode_handoff(bad.view(), &out).code() == Errc::corrupt);
  // A key the spec does not take.
  UnlockedVolume wrong = volume("aes-xts-plain64", 512, 512);
  wrong.key.truncate(32);
  CHECK(encode_handoff(wrong, &blob).code() == Errc::invalid_argument);
}

TEST_CASE("through the kernel keyring: root only, read back intact, gone when discarded") {
  const std::string name = "unit-test-" + std::to_string(::getpid());
  UnlockedVolume v = volume("aes-xts-plain64", 512, 4096);
  Status s = park_volume_key(name, v);
  if (s.code() == Errc::unsupported) {
    MESSAGE("no kernel keyrings here: " << s.message());
    return;
  }
  REQUIRE_MESSAGE(s.ok(), s.message());
  // possessor and user: view, read, search (0x0b); group and other: nothing.
  CHECK(proc_keys_perm(handoff_key_description(name)) == "0b0b0000");
  // Parking again replaces (a server that was never recovered left one).
  v.key.data()[0] ^= 0xff;
  REQUIRE(park_volume_key(name, v).ok());
  UnlockedVolume back;
  REQUIRE(fetch_parked_volume_key(name, &back).ok());
  REQUIRE(back.key.size() == 64);
  CHECK(std::equal(back.key.view().begin(), back.key.view().end(), v.key.view().begin()));
  CHECK(back.spec.sector_size == 4096);
  discard_parked_volume_key(name);
  UnlockedVolume gone;
  s = fetch_parked_volume_key(name, &gone);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "volume " + name + ": no key left for recovery in the kernel keyring (key ublkcrypt:" + name + ")");
  CHECK(keyring_discard(handoff_key_description(name)).ok());  // quiet when there is none
}

// Cipher cascades (TrueCrypt's "twofish-aes"): the spec, what a cascade session computes,
// and that a run failing at any stage is retried exactly. Driven through the Registry and
// the real software provider, with its AES-XTS as every stage; the VM scenario vm_tcrypt
// checks the kernel provider's serpent/twofish cascades against cryptsetup's dm-crypt stack.
#include <doctest/doctest.h>

#include "backends/fault/fault_injecting_provider.h"
#include "backends/registry.h"
#include "backends/software/software_provider.h"
#include "tests/backends/partial_failure_checks.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

constexpr uint32_t kSectors = 8;

CipherSpec cascade_of(std::string_view cipher, uint32_t key_bits, uint32_t sector_size,
                      uint64_t iv_offset) {
  CipherSpec spec;
  Status s = CipherSpec::parse_cascade(cipher, key_bits, sector_size, &spec);
  REQUIRE_MESSAGE(s.ok(), s.message());
  spec.iv_offset = iv_offset;
  return spec;
}

std::vector<uint8_t> key_share(const std::vector<uint8_t>& key, size_t i, size_t count) {
  const size_t share = key.size() / count;
  return {key.begin() + i * share, key.begin() + (i + 1) * share};
}

// What cryptsetup's stack of dm-crypt devices computes: a write goes through the first
// cipher, then the next; a read through the last, then back up. Each stage is one plain
// session of the software provider with its share of the key.
std::vector<uint8_t> stacked(const CipherSpec& cascade, const std::vector<uint8_t>& key,
                             Direction direction, std::vector<uint8_t> data, uint64_t sector) {
  auto software = make_software_provider(1);
  const size_t count = cascade.cascade.size();
  for (size_t step = 0; step < count; ++step) {
    const size_t i = direction == Direction::encrypt ? step : count - 1 - step;
    data = crypt(*software, cascade.stage(i), key_share(key, i, count), direction, data, sector);
  }
  return data;
}

}  // namespace

TEST_CASE("a cascade spec: ciphers in encryption order, equal key shares, one name") {
  CipherSpec spec = cascade_of("serpent-twofish-aes-xts-plain64", 1536, 512, 256);
  REQUIRE(spec.cascade.size() == 3);
  CHECK(spec.name() == "serpent-twofish-aes-xts-plain64");
  CHECK(spec.key_bytes == 192);
  CHECK(spec.stage(0).name() == "serpent-xts-plain64");
  CHECK(spec.stage(1).name() == "twofish-xts-plain64");
  CHECK(spec.stage(2).name() == "aes-xts-plain64");
  CHECK(spec.stage(2).mode == CipherMode::aes_xts_plain64);  // the fast AES path serves it
  for (size_t i = 0; i < 3; ++i) {
    CHECK(spec.stage(i).key_bytes == 64);
    CHECK(spec.stage(i).iv_offset == 256);
    CHECK(spec.stage(i).sector_size == 512);
  }
  CHECK(CipherSpec::is_cascade_name("twofish-aes-xts-plain64"));
  CHECK_FALSE(CipherSpec::is_cascade_name("aes-xts-plain64"));
  CHECK_FALSE(CipherSpec::is_cascade_name("capi:xts(aes)-plain64"));

  Status uneven = CipherSpec::parse_cascade("twofish-aes-xts-plain64", 520, 512, &spec);
  CHECK(uneven.code() == Errc::invalid_argument);
  CHECK(uneven.message() == "cipher twofish-aes-xts-plain64: key size 520 bits does not split into 2 equal keys");
  Status one = CipherSpec::parse_cascade("aes-xts-plain64", 512, 512, &spec);
  CHECK(one.code() == Errc::invalid_argument);
  Status stage = CipherSpec::parse_cascade("twofish-aes-xts-plain64", 640, 512, &spec);
  CHECK(stage.message() ==
        "cipher twofish-aes-xts-plain64: cipher aes-xts-plain64: key size 320 bits unsupported (use 256, 384 or 512)");
  // dm-crypt's grammar has no cascades: a LUKS or plain volume cannot name one.
  CHECK_FALSE(CipherSpec::parse("twofish-aes-xts-plain64", 1024, 512, &spec).ok());
}

TEST_CASE("a cascade session computes what the stacked dm-crypt devices compute") {
  Registry registry;
  registry.add(make_software_provider(2));
  for (uint32_t sector_size : {512u, 4096u}) {
    for (const char* cipher : {"aes-aes-xts-plain64", "aes-aes-aes-xts-plain64"}) {
      CAPTURE(sector_size);
      CAPTURE(cipher);
      const size_t count = std::string_view(cipher) == "aes-aes-xts-plain64" ? 2 : 3;
      const CipherSpec spec = cascade_of(cipher, uint32_t(512 * count), sector_size, 64);
      const auto key = pattern(64 * count, 7, 3);
      std::unique_ptr<Session> session;
      REQUIRE(registry.open_session(spec, key, {}, &session).ok());

      const uint64_t sector = 77;
      const auto plain = pattern(size_t(sector_size) * 16, 5, 9);
      const auto expected = stacked(spec, key, Direction::encrypt, plain, sector);
      std::vector<uint8_t> out(plain.size());
      REQUIRE(session->run({Direction::encrypt, plain.data(), out.data(), sector, 16}).ok());
      CHECK(out == expected);
      // Not the first stage alone, nor the stages in the other order (the keys differ).
      CHECK(out != crypt(*make_software_provider(1), spec.stage(0), key_share(key, 0, count),
                         Direction::encrypt, plain, sector));
      std::vector<uint8_t> reversed_key;
      for (size_t i = count; i-- > 0;) {
        const auto share = key_share(key, i, count);
        reversed_key.insert(reversed_key.end(), share.begin(), share.end());
      }
      CHECK(out != stacked(spec, reversed_key, Direction::encrypt, plain, sector));
      std::vector<uint8_t> back(plain.size());
      REQUIRE(session->run({Direction::decrypt, out.data(), back.data(), sector, 16}).ok());
      CHECK(back == plain);
      CHECK(back == stacked(spec, key, Direction::decrypt, out, sector));
    }
  }
}

TEST_CASE("a cascade run failing part-way at any stage is retried whole, exactly") {
  for (size_t count : {2u, 3u}) {
    // The wrapper fails every `failing`-th request it sees; each run sends it `count` stage
    // requests in turn, so every run fails at the same stage, after the stages before it
    // transformed dst and part of that stage did.
    for (uint64_t failing = 1; failing <= count; ++failing) {
      CAPTURE(count);
      CAPTURE(failing);
      Registry registry;
      registry.add(make_software_provider(2));
      FaultPlan plan = partial_plan(7);
      plan.fail_every = failing;
      auto wrapper = std::make_unique<FaultInjectingProvider>(make_software_provider(1), plan);
      FaultInjectingProvider& fault = *wrapper;
      registry.add(std::move(wrapper));

      const std::string cipher = count == 2 ? "aes-aes-xts-plain64" : "aes-aes-aes-xts-plain64";
      const CipherSpec spec = cascade_of(cipher, uint32_t(512 * count), 512, 0);
      const auto key = pattern(64 * count, 11, 5);
      std::unique_ptr<Session> session;
      REQUIRE(registry.open_session(spec, key, {}, &session).ok());

      const uint64_t sector = 1000;
      const auto plain = pattern(size_t(512) * kSectors, 13, 1);
      const auto ciphertext = stacked(spec, key, Direction::encrypt, plain, sector);
      constexpr unsigned kRounds = 16;
      check_retried_exactly(*session, fault, plain, ciphertext, sector, kSectors, kRounds);
    }
  }
}

// A provider that fails a request part-way: the fault wrapper's partial mode does exactly k
// of n sectors before it fails, and a Session retrying an out-of-place run elsewhere gives
// the reference output with the input untouched, whatever k was — for every provider that
// runs on this host.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string_view>

#include "backends/fault/fault_injecting_provider.h"
#include "backends/opal/inline_provider.h"
#include "backends/registry.h"
#include "backends/software/software_provider.h"
#include "tests/backends/partial_failure_checks.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

constexpr uint32_t kSectors = 8;

// The reference output of a run, from a software provider of its own.
std::vector<uint8_t> reference(const CipherSpec& spec, const std::vector<uint8_t>& key,
                               Direction direction, const std::vector<uint8_t>& input,
                               uint64_t sector) {
  auto software = make_software_provider(1);
  return crypt(*software, spec, key, direction, input, sector);
}

}  // namespace

TEST_CASE("a partial failure leaves exactly its first k sectors done, and says k") {
  const CipherSpec spec = spec_of("aes-xts-plain64", 512, 512);
  const auto key = pattern(64, 3, 1);
  FaultInjectingProvider fault(make_software_provider(1), partial_plan(42));
  auto session = open(fault, spec, key);
  const auto plain = pattern(spec.sector_size * kSectors, 7, 2);
  const auto cipher = reference(spec, key, Direction::encrypt, plain, 100);
  constexpr unsigned kRequests = 40;
  check_partial_failures_exact(*session, spec.sector_size, plain, cipher, 100, kRequests);
  CHECK(fault.failed() == kRequests);
  check_every_case_met(fault, 0);
  // A one-sector request can only fail before its sector.
  constexpr uint8_t kFill = 0xEE;
  std::vector<uint8_t> out(spec.sector_size, kFill);
  Status s = run_once(*session, {Direction::decrypt, cipher.data(), out.data(), 100, 1});
  CHECK(s.message() == "partial: injected I/O error on request 41 after 0 of 1 sectors");
  CHECK(out == std::vector<uint8_t>(spec.sector_size, kFill));
}

TEST_CASE("out of place, a run failed after k sectors and retried elsewhere is exact") {
  struct Case {
    const char* provider;
    std::function<std::unique_ptr<Provider>()> make;
    std::vector<const char*> ciphers;
  };
  const Case cases[] = {
      {"software", [] { return make_software_provider(2); },
       {"aes-xts-plain64", "aes-cbc-essiv:sha256", "cipher_null-ecb"}},
      {"opal (inline, cipher_null only)", [] { return make_opal_inline_provider(); },
       {"cipher_null-ecb"}},
      {"the fault wrapper, failing nothing itself",
       [] {
         FaultPlan plan;
         plan.name = "fault";
         return std::make_unique<FaultInjectingProvider>(make_software_provider(1), plan);
       },
       {"aes-xts-plain64", "aes-cbc-essiv:sha256"}},
  };
  for (const Case& c : cases) {
    for (const char* cipher : c.ciphers) {
      for (uint32_t sector_size : {512u, 4096u}) {
        CAPTURE(c.provider);
        CAPTURE(cipher);
        CAPTURE(sector_size);
        // The provider under test twice: behind the wrapper, where every first attempt
        // fails part-way, and on its own, where the Session retries.
        Registry registry;
        registry.add(c.make());
        auto wrapper = std::make_unique<FaultInjectingProvider>(c.make(), partial_plan(42));
        FaultInjectingProvider& fault = *wrapper;
        registry.add(std::move(wrapper));

        const uint32_t key_bits = std::string_view(cipher).starts_with("aes-xts") ? 512
                                  : std::string_view(cipher).starts_with("aes-cbc") ? 256
                                                                                     : 0;
        const CipherSpec spec = spec_of(cipher, key_bits, sector_size);
        const auto key = pattern(key_bits / 8, 11, 5);
        std::unique_ptr<Session> session;
        REQUIRE(registry.open_session(spec, key, {}, &session).ok());

        const uint64_t sector = 1000;
        const auto plain = pattern(size_t(sector_size) * kSectors, 13, 1);
        const auto ciphertext = reference(spec, key, Direction::encrypt, plain, sector);
        constexpr unsigned kRounds = 16;
        check_retried_exactly(*session, fault, plain, ciphertext, sector, kSectors, kRounds);
      }
    }
  }
}

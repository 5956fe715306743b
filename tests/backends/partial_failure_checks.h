// What the partial-failure tests check of the fault wrapper: that each class of k (no
// sector done, some, all but the last) struck reads and writes alike more than `at_least`
// times, so a pass cannot come from failures that never split a request.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backends/fault/fault_injecting_provider.h"
#include "backends/registry.h"
#include "tests/backends/provider_harness.h"

namespace ublkcrypt::test {

// Fails every request it is given, after the wrapped provider did some of its sectors.
inline FaultPlan partial_plan(uint64_t seed) {
  FaultPlan plan;
  plan.name = "partial";
  plan.priority = 1000;
  plan.fail_every = 1;
  plan.partial = true;
  plan.seed = seed;
  return plan;
}

// Runs requests 1..`requests` of `session` (on a provider wrapped with partial_plan, so
// each fails part-way), encrypting `plain` and decrypting `cipher` (its encryption) in
// turn from sector `sector`: each must leave exactly its first k sectors of dst
// transformed, the rest untouched, and its error must say k. What a wrapped provider's
// partial work is checked with.
inline void check_partial_failures_exact(ProviderSession& session, uint32_t sector_size,
                                         const std::vector<uint8_t>& plain,
                                         const std::vector<uint8_t>& cipher, uint64_t sector,
                                         unsigned requests) {
  constexpr uint8_t kFill = 0xEE;
  const uint32_t sectors = static_cast<uint32_t>(plain.size() / sector_size);
  for (unsigned i = 1; i <= requests; ++i) {
    CAPTURE(i);
    const Direction direction = i % 2 ? Direction::encrypt : Direction::decrypt;
    const auto& input = direction == Direction::encrypt ? plain : cipher;
    const auto& expected = direction == Direction::encrypt ? cipher : plain;
    std::vector<uint8_t> out(input.size(), kFill);
    Status s = run_once(session, {direction, input.data(), out.data(), sector, sectors});
    uint32_t done = 0;
    while (done < sectors && std::equal(out.begin() + done * sector_size,
                                        out.begin() + (done + 1) * sector_size,
                                        expected.begin() + done * sector_size))
      ++done;
    CHECK(std::all_of(out.begin() + done * sector_size, out.end(),
                      [](uint8_t b) { return b == kFill; }));
    CHECK(s.code() == Errc::io_error);
    CHECK(s.message() == fmt::format("partial: injected I/O error on request {} after {} of {} "
                                     "sectors", i, done, sectors));
  }
}

inline void check_every_case_met(const FaultInjectingProvider& fault, uint64_t at_least) {
  for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
    const std::string run = direction == Direction::encrypt ? "encrypt" : "decrypt";
    CAPTURE(run);
    PartialFailures partial = fault.partial_failures(direction);
    CHECK(partial.before_any > at_least);
    CHECK(partial.in_between > at_least);
    CHECK(partial.before_last > at_least);
  }
}

// Runs `rounds` encryptions of `plain` and decryptions of `ciphertext` (its encryption) from
// `sector` through `session`, each started on the provider "partial" (`fault`, made with
// partial_plan and fresh), where it fails part-way once, so the Session retries it on the
// next provider: each must end exact, with its src untouched, every run must have failed
// over once, and every class of partial failure must have struck.
inline void check_retried_exactly(Session& session, const FaultInjectingProvider& fault,
                                  const std::vector<uint8_t>& plain,
                                  const std::vector<uint8_t>& ciphertext, uint64_t sector,
                                  uint32_t sectors, unsigned rounds) {
  for (unsigned round = 0; round < rounds; ++round) {
    for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
      CAPTURE(round);
      const auto& input = direction == Direction::encrypt ? plain : ciphertext;
      const auto& expected = direction == Direction::encrypt ? ciphertext : plain;
      REQUIRE(session.move_to("partial").ok());
      auto src = input;
      std::vector<uint8_t> dst(src.size(), 0xEE);
      Status s = session.run({direction, src.data(), dst.data(), sector, sectors});
      CHECK_MESSAGE(s.ok(), s.message());
      CHECK(dst == expected);
      CHECK(src == input);
    }
  }
  CHECK(fault.failed() == 2 * rounds);
  CHECK(session.state().failovers == 2 * rounds);
  check_every_case_met(fault, 0);
}

}  // namespace ublkcrypt::test

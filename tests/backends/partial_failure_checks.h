// What the partial-failure tests check of the fault wrapper: that each class of k (no
// sector done, some, all but the last) struck reads and writes alike more than `at_least`
// times, so a pass cannot come from failures that never split a request.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "backends/fault/fault_injecting_provider.h"

namespace ublkcrypt::test {

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

}  // namespace ublkcrypt::test

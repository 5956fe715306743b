// Failover never corrupts data (issue 13). The engine's session starts on a provider that
// fails a request after transforming its first k of n sectors (the fault wrapper's partial
// mode, around a software provider), and fails over to the plain software provider. The
// session is sent back to the faulty provider every few requests, so a random workload
// meets partial failures of reads and writes throughout, and the device must still read
// back as the plaintext model, its backing decrypting to it.
#include <doctest/doctest.h>

#include "backends/fault/fault_injecting_provider.h"
#include "backends/software/software_provider.h"
#include "tests/backends/partial_failure_checks.h"
#include "tests/engine/random_workload.h"

using namespace ublkcrypt;
using namespace ublkcrypt::testing;

namespace {

void workload_with_partial_failures(const std::string& base_dir, uint32_t sector_size,
                                    CipherMode mode) {
  Registry registry;
  registry.add(make_software_provider());
  FaultPlan plan;
  plan.name = "fault";
  plan.fail_every = 3;
  plan.partial = true;
  plan.seed = sector_size + unsigned(mode);
  auto wrapper = std::make_unique<FaultInjectingProvider>(make_software_provider(), plan);
  FaultInjectingProvider& fault = *wrapper;
  registry.add(std::move(wrapper));

  uint64_t failovers = 0;
  // Only with nothing in flight: a request failed by the faulty provider after the session
  // was sent back to it would be retried there, and a third failure would surface.
  auto back_to_fault = [&](Engine& engine) {
    SessionState state = engine.session().state();
    failovers = state.failovers;
    if (state.provider != "fault") REQUIRE(engine.session().move_to("fault").ok());
  };
  random_workload({.base_dir = base_dir,
                   .sector_size = sector_size,
                   .data_offset = 1 << 20,
                   .mode = mode,
                   .ops = 600,
                   .registry = &registry,
                   .pause_every = 3,
                   .pause = back_to_fault});

  CHECK(failovers > 50);
  CHECK(fault.failed() > 50);
  test::check_every_case_met(fault, 5);
}

}  // namespace

TEST_CASE("partial failures mid-request, failed over, leave the device exactly as written") {
  SUBCASE("aes-xts-plain64, 512-byte sectors, O_DIRECT file") {
    workload_with_partial_failures("/var/tmp", 512, CipherMode::aes_xts_plain64);
  }
  SUBCASE("aes-xts-plain64, 4096-byte sectors, tmpfs file") {
    workload_with_partial_failures("/dev/shm", 4096, CipherMode::aes_xts_plain64);
  }
  SUBCASE("aes-cbc-essiv:sha256, 512-byte sectors, tmpfs file") {
    workload_with_partial_failures("/dev/shm", 512, CipherMode::aes_cbc_essiv_sha256);
  }
  SUBCASE("aes-cbc-essiv:sha256, 4096-byte sectors, O_DIRECT file") {
    workload_with_partial_failures("/var/tmp", 4096, CipherMode::aes_cbc_essiv_sha256);
  }
}

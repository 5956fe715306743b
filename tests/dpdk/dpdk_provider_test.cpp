// The dpdk provider run for real on DPDK's software devices, crypto_openssl (AES-CBC, so
// aes-cbc-essiv:sha256 with ublkcrypt's ESSIV) and crypto_null (cipher_null-ecb), each
// answer compared byte for byte with the software provider's.
//
// EAL starts once per process, so every dpdk test lives in this one executable (the bench
// sweep's too); doctest runs the cases in file order, and the first one runs before EAL
// starts.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rte_cryptodev.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include "backends/dpdk/device_cipher.h"
#include "backends/dpdk/dpdk_provider.h"
#include "backends/dpdk/eal.h"
#include "backends/fault/fault_injecting_provider.h"
#include "backends/registry.h"
#include "backends/software/software_provider.h"
#include "bench/provider_load.h"
#include "bench/report.h"
#include "tests/backends/partial_failure_checks.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

struct DeviceCase {
  const char* device;
  const char* cipher;
  uint32_t key_bits;
};

// Every cipher and key size the two devices offer.
const DeviceCase kCases[] = {
    {"crypto_openssl", "aes-cbc-essiv:sha256", 128},
    {"crypto_openssl", "aes-cbc-essiv:sha256", 192},
    {"crypto_openssl", "aes-cbc-essiv:sha256", 256},
    {"crypto_null", "cipher_null-ecb", 0},
};

// Runs `check(case, sector size)` for every case at 512- and 4096-byte sectors.
template <typename Check>
void for_every_case(Check check) {
  for (const DeviceCase& c : kCases) {
    for (uint32_t sector_size : {512u, 4096u}) {
      CAPTURE(c.device);
      CAPTURE(c.cipher);
      CAPTURE(c.key_bits);
      CAPTURE(sector_size);
      check(c, sector_size);
    }
  }
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t size) {
  std::vector<uint8_t> out(size);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

std::unique_ptr<ProviderSession> open_on(Provider& provider, const CipherSpec& spec,
                                         const std::vector<uint8_t>& key, std::string_view device) {
  std::unique_ptr<ProviderSession> session;
  Status s = provider.open_session(spec, key, device, &session);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return session;
}

// One request per run, all submitted in one batch; waits for all of them.
Status run_batch(ProviderSession& session, std::vector<SectorRun> runs) {
  std::vector<CryptoRequest> requests(runs.size());
  std::vector<CryptoRequest*> pointers;
  for (size_t i = 0; i < runs.size(); ++i) {
    requests[i].run = runs[i];
    pointers.push_back(&requests[i]);
  }
  Waiter waiter;
  session.submit(pointers, &waiter);
  return waiter.wait_for(runs.size());
}

// A run of `sectors` random sectors from a random sector number.
struct RandomRun {
  uint64_t first_sector;
  std::vector<uint8_t> plain;
  std::vector<uint8_t> cipher;  // the software provider's
};

RandomRun random_run(std::mt19937_64& rng, Provider& software, const CipherSpec& spec,
                     const std::vector<uint8_t>& key, uint32_t sectors) {
  RandomRun run;
  run.first_sector = rng() >> 20;
  run.plain = random_bytes(rng, size_t{sectors} * spec.sector_size);
  run.cipher = crypt(software, spec, key, Direction::encrypt, run.plain, run.first_sector);
  return run;
}

// Encrypts and decrypts every run on `session` in one batch each, checking every byte
// against the software provider's answer and that the inputs are untouched.
void check_runs_equal_software(ProviderSession& session, const CipherSpec& spec,
                               const std::vector<RandomRun>& runs) {
  for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
    CAPTURE((direction == Direction::encrypt ? "encrypt" : "decrypt"));
    const bool encrypt = direction == Direction::encrypt;
    std::vector<std::vector<uint8_t>> outputs;
    std::vector<SectorRun> sector_runs;
    for (const RandomRun& run : runs) outputs.emplace_back(run.plain.size(), 0xEE);
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& input = encrypt ? runs[i].plain : runs[i].cipher;
      sector_runs.push_back({direction, input.data(), outputs[i].data(), runs[i].first_sector,
                             static_cast<uint32_t>(input.size() / spec.sector_size)});
    }
    Status s = run_batch(session, sector_runs);
    REQUIRE_MESSAGE(s.ok(), s.message());
    for (size_t i = 0; i < runs.size(); ++i) {
      CAPTURE(i);
      CAPTURE(runs[i].first_sector);
      CHECK(outputs[i] == (encrypt ? runs[i].cipher : runs[i].plain));
    }
  }
}

}  // namespace

TEST_CASE("dpdk with no device named and none configured refuses without starting DPDK") {
  unsetenv(kDpdkEalArgsVariable);
  auto dpdk = make_dpdk_provider();
  Status s = dpdk->supports(spec_of("aes-cbc-essiv:sha256", 256, 512), "");
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message() ==
        "dpdk: no device named (--backend dpdk:DEVICE) and UBLKCRYPT_DPDK_EAL_ARGS not set");
}

TEST_CASE("EAL's arguments: defaults for virtual devices, or the variable's, and one lcore") {
  CHECK(eal_arguments("", 1) == std::vector<std::string>{"--no-shconf", "--no-telemetry",
                                                         "--log-level=3", "-l", "1", "--no-huge",
                                                         "--no-pci", "-m", "128"});
  CHECK(eal_arguments("  -a 0000:00:04.0\t-m 256 ", 0) ==
        std::vector<std::string>{"--no-shconf", "--no-telemetry", "--log-level=3", "-l", "0", "-a",
                                 "0000:00:04.0", "-m", "256"});
  CHECK(eal_arguments("--lcores=2 --no-huge", 0) ==
        std::vector<std::string>{"--no-shconf", "--no-telemetry", "--log-level=3", "--lcores=2",
                                 "--no-huge"});
}

TEST_CASE("dpdk with UBLKCRYPT_DPDK_EAL_ARGS set picks the first device that offers the cipher") {
  setenv(kDpdkEalArgsVariable, "--no-huge --no-pci -m 128 --vdev crypto_openssl --vdev crypto_null",
         1);
  Registry registry;
  registry.add(make_dpdk_provider());
  SessionOptions options;
  options.backend = "dpdk";
  for (const DeviceCase& c : {kCases[2], kCases[3]}) {
    CAPTURE(c.cipher);
    const CipherSpec spec = spec_of(c.cipher, c.key_bits, 4096);
    std::unique_ptr<Session> session;
    Status s = registry.open_session(spec, pattern(c.key_bits / 8, 3, 7), options, &session);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(session->state().provider == "dpdk");
  }
  std::vector<CryptoDeviceListing> devices;
  REQUIRE(list_crypto_devices(&devices).ok());
  REQUIRE(devices.size() == 2);
  CHECK(devices[0].name == "crypto_openssl");
  CHECK(devices[1].name == "crypto_null");
  CHECK(devices[1].driver == "crypto_null");
  Status s = registry.find("dpdk")->supports(spec_of("aes-xts-plain64", 512, 512), "");
  CHECK(s.message() ==
        "dpdk: no device offers aes-xts-plain64 (dpdk:crypto_openssl: the device does not offer "
        "aes-xts-plain64 (no AES-XTS); dpdk:crypto_null: the device does not offer "
        "aes-xts-plain64 (no AES-XTS))");
}

TEST_CASE("a spec or device the dpdk provider cannot serve is refused in one line naming both") {
  auto dpdk = make_dpdk_provider();
  struct Refusal {
    const char* device;
    const char* cipher;
    uint32_t key_bits;
    Errc code;
    std::string message;
  };
  const Refusal refusals[] = {
      {"crypto_openssl", "aes-xts-plain64", 512, Errc::unsupported,
       "dpdk:crypto_openssl: the device does not offer aes-xts-plain64 (no AES-XTS)"},
      {"crypto_openssl", "cipher_null-ecb", 0, Errc::unsupported,
       "dpdk:crypto_openssl: the device does not offer cipher_null-ecb (no NULL)"},
      {"crypto_null", "aes-cbc-essiv:sha256", 256, Errc::unsupported,
       "dpdk:crypto_null: the device does not offer aes-cbc-essiv:sha256 (no AES-CBC)"},
      {"crypto_openssl", "serpent-cbc-essiv:sha256", 256, Errc::unsupported,
       "dpdk:crypto_openssl: serpent-cbc-essiv:sha256 has no DPDK form here (aes-xts-plain64, "
       "aes-cbc-essiv:sha256 and cipher_null-ecb have)"},
      {"crypto_nonesuch", "aes-cbc-essiv:sha256", 256, Errc::not_found,
       "dpdk:crypto_nonesuch: no such crypto device (probing it failed: Bad address; present: "
       "crypto_openssl, crypto_null)"},
  };
  for (const Refusal& r : refusals) {
    CAPTURE(r.device);
    CAPTURE(r.cipher);
    Status s = dpdk->supports(spec_of(r.cipher, r.key_bits, 512), r.device);
    CHECK(s.code() == r.code);
    CHECK(s.message() == r.message);
    std::unique_ptr<ProviderSession> session;
    CHECK(dpdk->open_session(spec_of(r.cipher, r.key_bits, 512), pattern(r.key_bits / 8, 1, 1),
                             r.device, &session)
              .message() == r.message);
  }
}

TEST_CASE("a device whose configure failed stays refused with its first reason") {
  // A second crypto_null device, made unusable by asking for more mbufs than EAL's memory
  // holds; the others stay usable for the cases after this one.
  const char* device = "crypto_null_unusable";
  const CipherSpec spec = spec_of("cipher_null-ecb", 0, 512);
  DpdkProviderOptions too_big;
  too_big.device.mbufs = 1u << 26;
  std::unique_ptr<ProviderSession> session;
  const Status first = make_dpdk_provider(too_big)->open_session(spec, {}, device, &session);
  CHECK(first.code() == Errc::no_memory);
  CHECK(first.message().starts_with("dpdk:crypto_null_unusable: memory pools: "));
  // Later opens, with options that would fit, get the same answer: the device is not
  // configured twice.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Status again = make_dpdk_provider()->open_session(spec, {}, device, &session);
    CHECK(again.code() == first.code());
    CHECK(again.message() == first.message());
  }
}

// crypto_virtio (the VM's virtio-crypto card, tests/vm/scenarios/dpdk_virtio_probe.sh)
// refuses operations past 2176 bytes: 4 KiB sectors go to another provider instead of
// never completing. The software PMDs have no limit.
TEST_CASE("the largest operation a DPDK driver takes") {
  CHECK(largest_operation_bytes("crypto_virtio") == 2176);
  CHECK(largest_operation_bytes("crypto_openssl") == 0);
  CHECK(largest_operation_bytes("crypto_null") == 0);
}

TEST_CASE("the dpdk provider's answers equal the software provider's, every size and key") {
  std::mt19937_64 rng(20);
  auto software = make_software_provider(1);
  auto dpdk = make_dpdk_provider();
  for_every_case([&](const DeviceCase& c, uint32_t sector_size) {
    CipherSpec spec = spec_of(c.cipher, c.key_bits, sector_size);
    spec.iv_offset = rng() % 4096;
    const auto key = random_bytes(rng, c.key_bits / 8);
    auto session = open_on(*dpdk, spec, key, c.device);
    // Small runs and a whole MiB in one batch.
    std::vector<RandomRun> runs;
    for (uint32_t sectors :
         {1u, 2u, 3u, 7u, 8u, 31u, 32u, 33u, 64u, 100u, (1u << 20) / sector_size})
      runs.push_back(random_run(rng, *software, spec, key, sectors));
    check_runs_equal_software(*session, spec, runs);
    // More sectors in one batch than the device has mbufs: the rest waits its turn.
    if (sector_size == 512) {
      std::vector<RandomRun> large;
      for (int i = 0; i < 6; ++i) large.push_back(random_run(rng, *software, spec, key, 2048));
      check_runs_equal_software(*session, spec, large);
    }
  });
  // Every run above moved through the device in mbufs: two copies of each byte.
  const ProviderCounters& counters = dpdk->counters();
  CHECK(counters.errors.load() == 0);
  CHECK(counters.payload_bytes.load() > 0);
  CHECK(counters.copy_bytes.load() == 2 * counters.payload_bytes.load());
  CHECK(counters.bytes_to_device.load() == counters.payload_bytes.load());
}

TEST_CASE("several threads submitting to one dpdk session each get their own exact answers") {
  auto software = make_software_provider(1);
  auto dpdk = make_dpdk_provider();
  const CipherSpec spec = spec_of("aes-cbc-essiv:sha256", 256, 4096);
  const auto key = pattern(32, 9, 4);
  auto session = open_on(*dpdk, spec, key, "crypto_openssl");
  constexpr int kThreads = 4;
  constexpr int kBatches = 20;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      for (int b = 0; b < kBatches; ++b) {
        std::vector<RandomRun> runs;
        for (int r = 0; r < 4; ++r)
          runs.push_back(random_run(rng, *software, spec, key, 1 + rng() % 40));
        std::vector<std::vector<uint8_t>> outputs;
        std::vector<SectorRun> sector_runs;
        for (const RandomRun& run : runs) outputs.emplace_back(run.plain.size(), 0);
        for (size_t i = 0; i < runs.size(); ++i)
          sector_runs.push_back({Direction::encrypt, runs[i].plain.data(), outputs[i].data(),
                                 runs[i].first_sector,
                                 static_cast<uint32_t>(runs[i].plain.size() / spec.sector_size)});
        if (!run_batch(*session, sector_runs).ok()) ++failures;
        for (size_t i = 0; i < runs.size(); ++i)
          if (outputs[i] != runs[i].cipher) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures.load() == 0);
  CHECK(dpdk->counters().requests.load() == kThreads * kBatches * 4);
}

constexpr uint32_t kSectors = 8;

TEST_CASE("a run failed on dpdk after k sectors completes exactly on software") {
  constexpr unsigned kRounds = 16;
  for_every_case([&](const DeviceCase& c, uint32_t sector_size) {
    const CipherSpec spec = spec_of(c.cipher, c.key_bits, sector_size);
    const auto key = pattern(c.key_bits / 8, 11, 5);
    auto software = make_software_provider(1);
    const uint64_t sector = 1000;
    const auto plain = pattern(size_t{sector_size} * kSectors, 13, 1);
    const auto ciphertext = crypt(*software, spec, key, Direction::encrypt, plain, sector);
    {
      // The k sectors the device did before each failure are its own work: exact.
      FaultInjectingProvider fault(make_dpdk_provider(), partial_plan(7));
      auto session = open_on(fault, spec, key, c.device);
      check_partial_failures_exact(*session, sector_size, plain, ciphertext, sector, 24);
      check_every_case_met(fault, 0);
    }

    Registry registry;
    registry.add(make_software_provider(2));
    auto wrapper = std::make_unique<FaultInjectingProvider>(make_dpdk_provider(), partial_plan(7));
    FaultInjectingProvider& fault = *wrapper;
    registry.add(std::move(wrapper));
    std::unique_ptr<Session> session;
    SessionOptions options;
    options.backend = fmt::format("partial:{}", c.device);
    REQUIRE(registry.open_session(spec, key, options, &session).ok());
    for (unsigned round = 0; round < kRounds; ++round) {
      for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
        CAPTURE(round);
        const auto& input = direction == Direction::encrypt ? plain : ciphertext;
        const auto& expected = direction == Direction::encrypt ? ciphertext : plain;
        REQUIRE(session->move_to(options.backend).ok());
        auto src = input;
        std::vector<uint8_t> dst(src.size(), 0xEE);
        Status s = session->run({direction, src.data(), dst.data(), sector, kSectors});
        CHECK_MESSAGE(s.ok(), s.message());
        CHECK(session->state().provider == "software");
        CHECK(dst == expected);
        CHECK(src == input);
      }
    }
    CHECK(fault.failed() == 2 * kRounds);
    CHECK(session->state().failovers == 2 * kRounds);
    check_every_case_met(fault, 0);
    // The sectors done before each failure really ran on the device.
    CHECK(fault.wrapped().counters().payload_bytes.load() > 0);
  });
}

TEST_CASE("requests failing on dpdk every third time complete on software, every byte exact") {
  std::mt19937_64 rng(33);
  Registry registry;
  registry.add(make_software_provider(2));
  FaultPlan plan;
  plan.name = "card";
  plan.fail_every = 3;
  plan.error = Errc::timeout;
  auto wrapper = std::make_unique<FaultInjectingProvider>(make_dpdk_provider(), plan);
  FaultInjectingProvider& card = *wrapper;
  registry.add(std::move(wrapper));
  const CipherSpec spec = spec_of("aes-cbc-essiv:sha256", 256, 512);
  const auto key = random_bytes(rng, 32);
  auto software = make_software_provider(1);
  constexpr int kRequests = 60;
  std::vector<RandomRun> runs;
  for (int i = 0; i < kRequests; ++i)
    runs.push_back(random_run(rng, *software, spec, key, 1 + rng() % 64));
  SessionOptions options;
  options.backend = "card:crypto_openssl";
  std::unique_ptr<Session> session;
  REQUIRE(registry.open_session(spec, key, options, &session).ok());
  unsigned on_dpdk = 0;
  for (const RandomRun& run : runs) {
    // Back to the card before each request: each third one fails there and moves.
    REQUIRE(session->move_to(options.backend).ok());
    std::vector<uint8_t> out(run.plain.size(), 0xEE);
    Status s = session->run({Direction::encrypt, run.plain.data(), out.data(), run.first_sector,
                             static_cast<uint32_t>(run.plain.size() / 512)});
    CHECK_MESSAGE(s.ok(), s.message());
    CHECK(out == run.cipher);
    on_dpdk += session->state().provider == "card";
  }
  CHECK(card.failed() == kRequests / 3);
  CHECK(on_dpdk == kRequests - kRequests / 3);
  CHECK(session->state().failovers == kRequests / 3);
}

// What is left of the operations the refusing driver below takes before it refuses every
// later one.
std::atomic<uint32_t> enqueue_budget{0};

// An enqueue callback in front of crypto_null: it passes on as many operations as the
// budget holds and refuses the rest, as a driver does with an operation it never takes.
uint16_t take_from_budget(uint16_t, uint16_t, rte_crypto_op**, uint16_t n, void*) {
  uint32_t budget = enqueue_budget.load();
  while (true) {
    const uint32_t taken = std::min<uint32_t>(budget, n);
    if (enqueue_budget.compare_exchange_weak(budget, budget - taken))
      return static_cast<uint16_t>(taken);
  }
}

TEST_CASE("an operation the driver refuses with nothing in flight fails its request at once") {
  const char* device = "crypto_null_refusing";
  const CipherSpec spec = spec_of("cipher_null-ecb", 0, 512);
  auto dpdk = make_dpdk_provider();
  auto session = open_on(*dpdk, spec, {}, device);
  const int id = rte_cryptodev_get_dev_id(device);
  REQUIRE(id >= 0);
  const auto dev = static_cast<uint8_t>(id);
  std::vector<rte_cryptodev_cb*> callbacks;
  for (uint16_t qp = 0; qp < rte_cryptodev_queue_pair_count(dev); ++qp) {
    callbacks.push_back(rte_cryptodev_add_enq_callback(dev, qp, take_from_budget, nullptr));
    REQUIRE(callbacks.back() != nullptr);
  }
  const uint64_t sector = 1000;
  const auto src = pattern(size_t{512} * kSectors, 21, 3);
  // Refused from the first operation on, and after the driver took three of them.
  for (uint32_t budget : {0u, 3u}) {
    CAPTURE(budget);
    enqueue_budget = budget;
    std::vector<uint8_t> dst(src.size(), 0xEE);
    const Status s = run_once(*session, {Direction::encrypt, src.data(), dst.data(), sector, kSectors});
    CHECK(s.code() == Errc::io_error);
    CHECK(s.message() == fmt::format("dpdk:crypto_null_refusing: sector {}: the driver refused "
                                     "the operation with nothing in flight",
                                     sector + budget));
    // The sectors the driver took are done (cipher_null is the identity), the others are
    // untouched, and nothing lands in dst after the completion.
    const size_t done_bytes = size_t{512} * budget;
    CHECK(std::equal(src.begin(), src.begin() + done_bytes, dst.begin()));
    CHECK(std::all_of(dst.begin() + done_bytes, dst.end(), [](uint8_t b) { return b == 0xEE; }));
    const auto at_completion = dst;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(dst == at_completion);
  }
  CHECK(dpdk->counters().errors.load() == 2);
  // The refusals cost the device nothing: without the callbacks it serves again.
  for (uint16_t qp = 0; qp < callbacks.size(); ++qp)
    REQUIRE(rte_cryptodev_remove_enq_callback(dev, qp, callbacks[qp]) == 0);
  std::vector<uint8_t> dst(src.size(), 0xEE);
  const Status s = run_once(*session, {Direction::encrypt, src.data(), dst.data(), sector, kSectors});
  CHECK_MESSAGE(s.ok(), s.message());
  CHECK(dst == src);
}

// An enqueue callback that takes the first half of every burst (rounded up) and throws the
// rest back, as a driver whose ring is full does.
uint16_t take_half(uint16_t, uint16_t, rte_crypto_op**, uint16_t n, void*) {
  return static_cast<uint16_t>((n + 1) / 2);
}

TEST_CASE("operations a driver throws back while others are in flight go again, every byte exact") {
  std::mt19937_64 rng(41);
  auto software = make_software_provider(1);
  auto dpdk = make_dpdk_provider();
  const CipherSpec spec = spec_of("aes-cbc-essiv:sha256", 256, 512);
  const auto key = random_bytes(rng, 32);
  auto session = open_on(*dpdk, spec, key, "crypto_openssl");
  const auto dev = static_cast<uint8_t>(rte_cryptodev_get_dev_id("crypto_openssl"));
  std::vector<rte_cryptodev_cb*> callbacks;
  for (uint16_t qp = 0; qp < rte_cryptodev_queue_pair_count(dev); ++qp) {
    callbacks.push_back(rte_cryptodev_add_enq_callback(dev, qp, take_half, nullptr));
    REQUIRE(callbacks.back() != nullptr);
  }
  // Bursts gather several requests, so the half the driver takes ends inside one of them.
  std::vector<RandomRun> runs;
  for (int i = 0; i < 40; ++i) runs.push_back(random_run(rng, *software, spec, key, 1 + rng() % 12));
  check_runs_equal_software(*session, spec, runs);

  // Two sessions (two keys) from one thread: what the first leaves in the backlog shares
  // bursts with the second's sectors, each under its own key and IVs.
  const auto other_key = random_bytes(rng, 32);
  auto other = open_on(*dpdk, spec, other_key, "crypto_openssl");
  struct Side {
    ProviderSession* session;
    const std::vector<uint8_t>* key;
    std::vector<RandomRun> runs;
    std::vector<std::vector<uint8_t>> outputs;
    std::vector<CryptoRequest> requests;
    std::vector<CryptoRequest*> pointers;
    Waiter waiter;
  };
  Side sides[2];
  sides[0].session = session.get();
  sides[0].key = &key;
  sides[1].session = other.get();
  sides[1].key = &other_key;
  for (Side& side : sides) {
    for (int i = 0; i < 20; ++i)
      side.runs.push_back(random_run(rng, *software, spec, *side.key, 1 + rng() % 12));
    side.requests.resize(side.runs.size());
    for (size_t i = 0; i < side.runs.size(); ++i) {
      side.outputs.emplace_back(side.runs[i].plain.size(), 0xEE);
      side.requests[i].run = {Direction::encrypt, side.runs[i].plain.data(), side.outputs[i].data(),
                              side.runs[i].first_sector,
                              static_cast<uint32_t>(side.runs[i].plain.size() / 512)};
      side.pointers.push_back(&side.requests[i]);
    }
  }
  for (Side& side : sides) side.session->submit(side.pointers, &side.waiter);
  for (Side& side : sides) {
    REQUIRE(side.waiter.wait_for(side.runs.size()).ok());
    for (size_t i = 0; i < side.runs.size(); ++i) CHECK(side.outputs[i] == side.runs[i].cipher);
  }
  for (uint16_t qp = 0; qp < callbacks.size(); ++qp)
    REQUIRE(rte_cryptodev_remove_enq_callback(dev, qp, callbacks[qp]) == 0);
  CHECK(dpdk->counters().errors.load() == 0);
}

TEST_CASE("bench crypto runs a named DPDK device beside software, with CPU ns per byte") {
  CryptoSweepOptions o;
  o.providers = {"dpdk:crypto_null", "software"};
  o.request_sizes = {512, 1u << 20};
  o.depths = {1, 4};
  o.load.cipher = "cipher_null-ecb";
  o.load.key_bits = 0;
  o.load.sector_size = 512;
  // Long enough for a 1 MiB request to complete at QD1 under ASan on a loaded 2-core
  // machine: a row with no completion in its window counts no bytes.
  o.load.seconds = 0.2;
  CryptoSweepReport report;
  Status s = run_crypto_sweep(o, &report);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(report.rows.size() == 8);
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const CryptoSweepRow& row = report.rows[i];
    CAPTURE(i);
    CHECK(row.provider == (i < 4 ? "dpdk:crypto_null" : "software"));
    CHECK(row.result.bytes > 0);
    CHECK(row.result.cpu_ns_per_byte() > 0);
    // Only the device's rows moved bytes to a device.
    CHECK((row.result.counters.bytes_to_device > 0) == (i < 4));
  }
  const std::string table = format_table(report);
  // The provider column is as wide as its longest label.
  CHECK(table.find("\ndpdk:crypto_null lookaside-card      512 B") != std::string::npos);
  CHECK(table.find("\nsoftware         host-cpu ") != std::string::npos);
  CHECK(table.find("QD4 ns/B") != std::string::npos);
}

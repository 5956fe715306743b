// The framework half: cipher specs, picking a provider, and sessions that fail over to the
// next provider — driven by a FaultInjectingProvider standing in for a card, over a real
// software provider, so every byte compared was really encrypted.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "backends/fault/fault_injecting_provider.h"
#include "backends/registry.h"
#include "backends/software/software_provider.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

// A registry with "software" (priority 100) and a fault-injecting "card" (priority 200).
struct Bench {
  Registry registry;
  FaultInjectingProvider* card = nullptr;

  explicit Bench(uint64_t fail_every = 0, bool with_software = true) {
    // A one-second inline budget: whether a small run stays inline is the inline size's
    // decision alone, however fast this host's AES.
    const std::chrono::nanoseconds budget = std::chrono::seconds(1);
    if (with_software) registry.add(make_software_provider(2, budget));
    FaultPlan plan;
    plan.name = "card";
    plan.fail_every = fail_every;
    plan.error = Errc::timeout;
    auto wrapped = std::make_unique<FaultInjectingProvider>(make_software_provider(1, budget), plan);
    card = wrapped.get();
    registry.add(std::move(wrapped));
  }

  std::unique_ptr<Session> open(const CipherSpec& spec, const std::vector<uint8_t>& key,
                                std::string backend = "") {
    std::unique_ptr<Session> session;
    SessionOptions options;
    options.backend = std::move(backend);
    Status s = registry.open_session(spec, key, options, &session);
    REQUIRE_MESSAGE(s.ok(), s.message());
    return session;
  }
};

const CipherSpec kSpec = spec_of("aes-xts-plain64", 512, 4096);
const std::vector<uint8_t> kKey = pattern(64, 5, 3);

std::vector<uint8_t> reference(const std::vector<uint8_t>& plain, uint64_t sector) {
  auto software = make_software_provider(1);
  return crypt(*software, kSpec, kKey, Direction::encrypt, plain, sector);
}

// One request per 4096-byte sector of `plain`, encrypting it into `out`, from sector `first`.
std::vector<CryptoRequest> sector_requests(const std::vector<uint8_t>& plain, std::vector<uint8_t>& out,
                                           uint64_t first, CryptoCompletion* completion) {
  std::vector<CryptoRequest> requests(plain.size() / 4096);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].run = SectorRun{Direction::encrypt, plain.data() + 4096 * i, out.data() + 4096 * i, first + i, 1};
    requests[i].completion = completion;
  }
  return requests;
}

}  // namespace

TEST_CASE("CipherSpec::parse refuses what dm-crypt refuses, naming the value") {
  CipherSpec spec;
  Status unknown = CipherSpec::parse("aes-cbc-foo", 256, 512, &spec);
  CHECK(unknown.code() == Errc::invalid_argument);
  CHECK(unknown.message() ==
        "cipher aes-cbc-foo: IV mode 'foo' unknown (plain, plain64, plain64be, essiv:HASH, "
        "benbi, null, eboiv, lmk, tcw)");
  Status xts_key = CipherSpec::parse("aes-xts-plain64", 320, 512, &spec);
  CHECK(xts_key.code() == Errc::invalid_argument);
  CHECK(xts_key.message() == "cipher aes-xts-plain64: key size 320 bits unsupported (use 256, 384 or 512)");
  // Two AES-192 keys: a mode the software fast path lacks, served as any other dm-crypt cipher.
  REQUIRE(CipherSpec::parse("aes-xts-plain64", 384, 512, &spec).ok());
  CHECK(spec.mode == CipherMode::generic);
  CHECK(spec.key_bytes == 48);
  Status cbc_key = CipherSpec::parse("aes-cbc-essiv:sha256", 512, 512, &spec);
  CHECK(cbc_key.message() ==
        "cipher aes-cbc-essiv:sha256: key size 512 bits unsupported (use 128, 192 or 256)");
  for (uint32_t size : {3000u, 256u, 8192u, 0u}) {
    Status bad = CipherSpec::parse("aes-xts-plain64", 512, size, &spec);
    CHECK(bad.code() == Errc::invalid_argument);
    CHECK(bad.message() ==
          "sector size " + std::to_string(size) + ": must be a power of two from 512 to 4096");
  }
  REQUIRE(CipherSpec::parse("aes-xts-plain64", 512, 4096, &spec).ok());
  CHECK(spec.iv_of(3) == 24);  // the 4096-byte-sector trap: IVs count 512-byte units
}

TEST_CASE("the registry picks by priority, by name, and says what exists") {
  Bench bench;
  CHECK(bench.registry.providers().front()->info().name == "card");
  CHECK(bench.open(kSpec, kKey)->state().provider == "card");
  CHECK(bench.open(kSpec, kKey, "software")->state().provider == "software");

  std::unique_ptr<Session> session;
  SessionOptions options;
  options.backend = "nosuch";
  Status unknown = bench.registry.open_session(kSpec, kKey, options, &session);
  CHECK(unknown.code() == Errc::not_found);
  CHECK(unknown.message() == "backend nosuch: no such provider (available: card, software)");

  options.backend = "software:fast";
  Status variant = bench.registry.open_session(kSpec, kKey, options, &session);
  CHECK(variant.code() == Errc::unsupported);

  CipherSpec odd = kSpec;
  odd.key_bytes = 20;  // no provider runs a 160-bit XTS key
  options.backend = "";
  Status unsupported =
      bench.registry.open_session(odd, pattern(20, 1, 1), options, &session);
  CHECK(unsupported.code() == Errc::unsupported);
  CHECK(unsupported.message().starts_with("cipher aes-xts-plain64: no provider supports it ("));
}

TEST_CASE("a failed in-place run is not retried: it may be partly transformed") {
  Bench bench;
  auto session = bench.open(kSpec, kKey);
  auto plain = pattern(4096 * 2, 9, 2);
  bench.card->unplug(Errc::device_gone);
  std::vector<uint8_t> buffer = plain;
  Status s = session->run({Direction::encrypt, buffer.data(), buffer.data(), 3, 2});
  CHECK(s.code() == Errc::device_gone);
  CHECK(session->state().failovers == 0);
  CHECK(session->state().provider == "card");
  // The same run out of place fails over and completes, bit-identical.
  std::vector<uint8_t> out(plain.size());
  s = session->run({Direction::encrypt, plain.data(), out.data(), 3, 2});
  CHECK_MESSAGE(s.ok(), s.message());
  CHECK(out == reference(plain, 3));
  CHECK(session->state().failovers == 1);
  // cipher_null is the identity: in place, a retry is harmless, and it fails over.
  bench.card->replug();
  auto null_session = bench.open(spec_of("cipher_null-ecb", 0, 4096), {});
  bench.card->unplug(Errc::device_gone);
  buffer = plain;
  s = null_session->run({Direction::encrypt, buffer.data(), buffer.data(), 3, 2});
  CHECK_MESSAGE(s.ok(), s.message());
  CHECK(buffer == plain);
  CHECK(null_session->state().failovers == 1);
}

TEST_CASE("an unplugged card fails over once, and the result is bit-identical") {
  Bench bench;
  auto session = bench.open(kSpec, kKey);
  auto plain = pattern(4096 * 4, 7, 1);
  auto expected = reference(plain, 10);

  bench.card->unplug(Errc::device_gone);
  std::vector<uint8_t> out(plain.size());
  Status s = session->run({Direction::encrypt, plain.data(), out.data(), 10, 4});
  CHECK_MESSAGE(s.ok(), s.message());  // no error surfaces
  CHECK(out == expected);
  SessionState state = session->state();
  CHECK(state.provider == "software");
  CHECK(state.failovers == 1);
  CHECK(state.last_failover == "card -> software: card: unplugged");
  CHECK(bench.card->failed() == 1);

  // Later work stays on software: no second failover.
  REQUIRE(session->run({Direction::decrypt, out.data(), out.data(), 10, 4}).ok());
  CHECK(out == plain);
  CHECK(session->state().failovers == 1);

  // The card comes back and the session is moved back to it.
  bench.card->replug();
  REQUIRE(session->move_to("card").ok());
  CHECK(session->state().provider == "card");
  const uint64_t before = bench.card->wrapped().counters().payload_bytes.load();
  REQUIRE(session->run({Direction::encrypt, plain.data(), out.data(), 10, 4}).ok());
  CHECK(out == expected);
  CHECK(bench.card->wrapped().counters().payload_bytes.load() == before + plain.size());
}

TEST_CASE("every third request timing out: a batch is retried on software, moved once") {
  Bench bench(3);
  auto session = bench.open(kSpec, kKey);
  constexpr size_t kRequests = 10;
  auto plain = pattern(4096 * kRequests, 3, 9);
  auto expected = reference(plain, 0);
  std::vector<uint8_t> out(plain.size());
  Waiter completions;
  std::vector<CryptoRequest> requests = sector_requests(plain, out, 0, &completions);
  std::vector<CryptoRequest*> batch;
  for (CryptoRequest& r : requests) batch.push_back(&r);
  session->submit(batch);
  Status s = completions.wait_for(kRequests);
  CHECK_MESSAGE(s.ok(), s.message());
  CHECK(out == expected);
  CHECK(bench.card->failed() == 3);  // requests 3, 6 and 9 of the batch
  SessionState state = session->state();
  CHECK(state.failovers == 1);
  CHECK(state.provider == "software");
  CHECK(state.last_failover.starts_with("card -> software: card: injected timeout on request 3"));
}

TEST_CASE("suspend: requests in flight finish, later ones wait, resume takes only the same key") {
  Bench bench;
  auto session = bench.open(kSpec, kKey);
  constexpr size_t kRequests = 16;
  auto plain = pattern(4096 * kRequests, 11, 2);
  auto expected = reference(plain, 100);
  std::vector<uint8_t> out(plain.size());
  Waiter completions;
  std::vector<CryptoRequest> requests = sector_requests(plain, out, 100, &completions);
  std::vector<CryptoRequest*> first, second;
  for (size_t i = 0; i < kRequests; ++i) (i < kRequests / 2 ? first : second).push_back(&requests[i]);
  session->submit(first);
  REQUIRE(session->suspend().ok());
  CHECK(completions.done() == first.size());  // none left at a provider
  CHECK(session->suspended());
  CHECK(session->suspend().code() == Errc::busy);
  CHECK(session->move_to("software").code() == Errc::busy);

  const uint64_t card_bytes = bench.card->wrapped().counters().payload_bytes.load();
  session->submit(second);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(completions.done() == first.size());  // held, not run
  CHECK(bench.card->wrapped().counters().payload_bytes.load() == card_bytes);

  auto wrong = kKey;
  wrong[17] ^= 1;
  Status refused = session->resume(wrong);
  CHECK(refused.code() == Errc::permission);
  CHECK(refused.message() == "the key given is not the key this volume was opened with");
  CHECK(session->resume(std::vector<uint8_t>(kKey.begin(), kKey.begin() + 32)).code() == Errc::permission);
  CHECK(session->suspended());
  CHECK(completions.done() == first.size());

  REQUIRE(session->resume(kKey).ok());
  Status s = completions.wait_for(kRequests);
  CHECK_MESSAGE(s.ok(), s.message());
  CHECK(out == expected);
  CHECK(session->state().provider == "card");  // back on the provider it had
  CHECK(bench.card->wrapped().counters().payload_bytes.load() == card_bytes + 4096 * second.size());
  CHECK(session->resume(kKey).code() == Errc::invalid_argument);
}

TEST_CASE("with no provider left the failure surfaces") {
  Bench bench(0, /*with_software=*/false);
  auto session = bench.open(kSpec, kKey);
  bench.card->unplug(Errc::device_gone);
  auto plain = pattern(4096, 1, 1);
  std::vector<uint8_t> out(4096);
  Status s = session->run({Direction::encrypt, plain.data(), out.data(), 0, 1});
  CHECK(s.code() == Errc::device_gone);
  CHECK(s.message() == "card: unplugged");
  CHECK(session->state().failovers == 0);
}

TEST_CASE("UBLKCRYPT_FAULT_EVERY adds a fault provider only when set to a count") {
  unsetenv("UBLKCRYPT_FAULT_EVERY");
  CHECK(make_fault_provider_from_env() == nullptr);
  setenv("UBLKCRYPT_FAULT_EVERY", "x2", 1);
  CHECK(make_fault_provider_from_env() == nullptr);
  setenv("UBLKCRYPT_FAULT_EVERY", "2", 1);
  auto fault = make_fault_provider_from_env();
  REQUIRE(fault != nullptr);
  CHECK(fault->info().name == "fault");
  CHECK(fault->info().priority > 100);
  unsetenv("UBLKCRYPT_FAULT_EVERY");
}

TEST_CASE("the inline run size reaches the bound provider and the one a failover moves to") {
  Bench bench;
  auto session = bench.open(kSpec, kKey);  // the card: software behind the fault wrapper
  session->set_inline_run_bytes(16 * 1024);
  struct Recorder final : CryptoCompletion {
    std::vector<std::thread::id> threads;  // written on this thread only, if inline
    std::atomic<size_t> done{0};
    void crypto_done(CryptoRequest*, Status status) override {
      CHECK(status.ok());
      threads.push_back(std::this_thread::get_id());
      done.fetch_add(1);
    }
  };
  auto plain = pattern(4096 * 4, 7, 1);
  for (bool unplugged : {false, true}) {
    CAPTURE(unplugged);
    if (unplugged) bench.card->unplug(Errc::device_gone);
    Recorder recorder;
    std::vector<uint8_t> out(plain.size());
    auto requests = sector_requests(plain, out, 10, &recorder);
    std::vector<CryptoRequest*> pointers;
    for (CryptoRequest& r : requests) pointers.push_back(&r);
    session->submit(pointers);
    // Every request done inside submit, on this thread, the failed ones retried there too.
    REQUIRE(recorder.done.load() == 4);
    for (std::thread::id id : recorder.threads) CHECK(id == std::this_thread::get_id());
    CHECK(out == reference(plain, 10));
    CHECK(session->state().provider == (unplugged ? "software" : "card"));
  }
}

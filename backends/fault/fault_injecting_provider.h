// FaultInjectingProvider: wraps any Provider and forwards everything, but fails chosen
// requests the way a dying card would: every Nth request, or every request once
// "unplugged". What the failover tests, and the card's tests later, use to make a provider
// fail on cue without a mocking framework (LevelDB's EnvWrapper idea).
//
// A chosen request fails before any work, or, with FaultPlan::partial, after the wrapped
// provider transformed its first k of n sectors in the caller's buffers: what a card that
// dies mid-request leaves behind, and what a retry must not transform a second time.
//
// Payload counters stay on the wrapped provider (it did the work); this wrapper counts in
// its own counters only the requests it failed.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "backends/provider.h"

namespace ublkcrypt {

struct FaultPlan {
  std::string name = "fault";  // the name the registry knows this provider by
  int priority = 200;          // above software by default, so it is picked first
  Placement placement = Placement::lookaside_card;
  uint64_t fail_every = 0;     // fail request N, 2N, 3N ... (counted from 1); 0 = never
  Errc error = Errc::io_error; // what a failed request completes with
  // A failed request first has its first k of n sectors done by the wrapped provider, k
  // drawn per request from `seed`: 0, n-1 and the values between, a third of the time each
  // (n == 1: only 0). Off: it fails before any work, as an unplugged card always does.
  bool partial = false;
  uint64_t seed = 1;
};

// Partial failures by how far the request got before it failed, so a test can show it
// met every case: k == 0, 0 < k < n-1, k == n-1 (with n > 1).
struct PartialFailures {
  uint64_t before_any = 0;
  uint64_t in_between = 0;
  uint64_t before_last = 0;
};

// One request's fate: ok status means forward it whole; otherwise it fails with `status`
// after the wrapped provider did its first `done_sectors` sectors.
struct Fault {
  Status status;
  uint32_t done_sectors = 0;
};

class FaultInjectingProvider final : public Provider {
 public:
  FaultInjectingProvider(std::unique_ptr<Provider> wrapped, FaultPlan plan);

  const ProviderInfo& info() const override { return info_; }
  Status supports(const CipherSpec& spec, std::string_view variant) const override;
  // Refused with the plan's error while unplugged: a gone card takes no new sessions.
  Status open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                      std::string_view variant, std::unique_ptr<ProviderSession>* out) override;

  // From now on every request, and every new session, fails with `error`.
  void unplug(Errc error = Errc::device_gone);
  void replug();
  bool unplugged() const { return unplugged_.load(); }

  // Requests this wrapper failed on purpose.
  uint64_t failed() const { return failed_.load(); }
  // Of those, the ones failed part-way (FaultPlan::partial) in `direction`.
  PartialFailures partial_failures(Direction direction) const;
  Provider& wrapped() { return *wrapped_; }

  // Decides one request's fate. Used by the wrapper's sessions; safe for concurrent use.
  Fault next_fault(const SectorRun& run);

 private:
  // k for a partial failure of `run`, counted in partial_.
  uint32_t draw_done_sectors(const SectorRun& run);

  std::unique_ptr<Provider> wrapped_;
  FaultPlan plan_;
  ProviderInfo info_;
  std::atomic<uint64_t> seen_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> unplugged_{false};
  std::atomic<Errc> unplug_error_{Errc::device_gone};
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
  // [direction][before_any, in_between, before_last]
  std::array<std::array<std::atomic<uint64_t>, 3>, 2> partial_{};
};

// For test runs of the whole binary: with UBLKCRYPT_FAULT_EVERY=N in the environment, a
// provider "fault" wrapping a software provider that fails every Nth request with io_error
// (so every session starts on it and keeps failing over to "software"). nullptr when the
// variable is unset, so production registries never contain it.
std::unique_ptr<Provider> make_fault_provider_from_env();

}  // namespace ublkcrypt

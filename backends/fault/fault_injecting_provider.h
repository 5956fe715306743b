// FaultInjectingProvider: wraps any Provider and forwards everything, but fails chosen
// requests the way a dying card would: every Nth request, or every request once
// "unplugged". What the failover tests, and the card's tests later, use to make a provider
// fail on cue without a mocking framework (LevelDB's EnvWrapper idea).
//
// Payload counters stay on the wrapped provider (it did the work); this wrapper counts in
// its own counters only the requests it failed.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "backends/provider.h"

namespace ublkcrypt {

struct FaultPlan {
  std::string name = "fault";  // the name the registry knows this provider by
  int priority = 200;          // above software by default, so it is picked first
  Placement placement = Placement::lookaside_card;
  uint64_t fail_every = 0;     // fail request N, 2N, 3N ... (counted from 1); 0 = never
  Errc error = Errc::io_error; // what a failed request completes with
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
  Provider& wrapped() { return *wrapped_; }

  // Decides one request's fate; ok means forward it. Used by the wrapper's sessions.
  Status next_fault();

 private:
  std::unique_ptr<Provider> wrapped_;
  FaultPlan plan_;
  ProviderInfo info_;
  std::atomic<uint64_t> seen_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> unplugged_{false};
  std::atomic<Errc> unplug_error_{Errc::device_gone};
};

// For test runs of the whole binary: with UBLKCRYPT_FAULT_EVERY=N in the environment, a
// provider "fault" wrapping a software provider that fails every Nth request with io_error
// (so every session starts on it and keeps failing over to "software"). nullptr when the
// variable is unset, so production registries never contain it.
std::unique_ptr<Provider> make_fault_provider_from_env();

}  // namespace ublkcrypt

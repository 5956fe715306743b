// Registry and Session: the framework half of the crypto(9) split.
//
// The consumer (the engine) asks for a Session by cipher; the Registry binds it to a
// provider (the one named, or the highest-priority one that supports the cipher). When
// that provider fails a request (device gone, missed deadline, I/O error), the Session
// moves itself to the next provider that supports the cipher, retries the failed request
// and every later failure from the old provider there, and records the move once. The
// consumer sees only the final result.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/provider.h"
#include "base/secure_bytes.h"

namespace ublkcrypt {

struct SessionOptions {
  // "" picks by priority; "software"; "kernel"; "kernel:virtio_crypto_aes_cbc" (provider
  // name, then a provider-specific variant after the first colon).
  std::string backend;
  // Move to another provider when this one fails. Off only for measuring one provider.
  bool failover = true;
};

struct SessionState {
  std::string provider;  // current provider name
  std::string variant;   // its variant ("" when none)
  uint64_t failovers = 0;
  std::string last_failover;  // "kernel:virtio_crypto_aes_cbc -> software: <reason>"
};

class Registry;

class Session final : private ProviderCallback {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const CipherSpec& spec() const { return spec_; }

  // Starts every request; each completes through its own CryptoCompletion, on any thread.
  // Safe for concurrent use by multiple threads.
  void submit(std::span<CryptoRequest* const> requests);

  // Runs some of the current provider's queued work on the calling thread (see
  // ProviderSession::help): for a thread with requests in flight and nothing else to do.
  bool help();

  // ProviderSession::set_inline_run_bytes for this session's provider and every one it
  // moves to. Called before the first submit.
  void set_inline_run_bytes(uint32_t bytes);

  // helping_wait() (helping_wait.h) with this session's help(): for threads that submit
  // and then only wait (tools, tests, benchmarks).
  void wait_helping(std::mutex& mutex, std::condition_variable& cv,
                    const std::function<bool()>& done);

  // Convenience for tools and tests: runs one run and waits for it.
  Status run(const SectorRun& run);

  SessionState state() const;
  // The provider currently serving this session (its counters are the ones moving).
  Provider* provider() const;

  // Moves the session to `backend` (same syntax as SessionOptions::backend), e.g. back to
  // a card after it returned. Requests in flight finish where they are. busy while
  // suspended.
  Status move_to(std::string_view backend);

  // cryptsetup luksSuspend's half: requests submitted from now on wait in the session;
  // those already at a provider finish; then every provider session is closed, which wipes
  // the key each holds, and the session's own copy is wiped, leaving a SHA-256 fingerprint
  // for resume() to check. A provider's state goes when its threads let go of it: at once
  // for the kernel provider (its destructor joins its dispatcher), within the callback a
  // software worker is finishing. busy if already suspended.
  Status suspend();
  // luksResume's half: binds the provider the session had (another by priority if that one
  // is gone) with `key`, then starts the waiting requests. permission (and still suspended)
  // if `key` is not the key the session had; invalid_argument if it is not suspended.
  Status resume(std::span<const uint8_t> key);
  bool suspended() const;

 private:
  friend class Registry;
  Session(Registry* registry, const CipherSpec& spec, SecureBytes key, bool failover);

  // Binds `provider_`, or the first provider by priority that takes the key; the reasons of
  // those that refused otherwise.
  Status bind_any(Provider* first, std::string_view variant);

  void provider_done(CryptoRequest* request, Status status) override;
  // Picks the next provider after a failure; returns false when none is left.
  bool fail_over(uint64_t failed_generation, const Status& cause);
  Status bind(Provider* provider, std::string_view variant);

  Registry* registry_;
  CipherSpec spec_;
  SecureBytes key_;  // kept to open a session on the next provider after a failure
  bool failover_;

  mutable std::mutex mutex_;
  // Held through a whole fail_over: failures of one provider reported at once from several
  // threads (queue threads and a dispatcher) must make one move, counted once.
  std::mutex failover_mutex_;
  Provider* provider_ = nullptr;
  std::string variant_;
  std::shared_ptr<ProviderSession> current_;
  uint64_t generation_ = 0;
  uint32_t inline_run_bytes_ = 0;  // given to every provider session bound
  std::vector<Provider*> failed_;  // providers this session has left because they failed
  // Sessions we moved away from. A dead card may still hold requests; its session is kept
  // until ours ends so a late completion never touches freed memory.
  std::vector<std::shared_ptr<ProviderSession>> retired_;
  uint64_t failovers_ = 0;
  std::string last_failover_;
  // Requests at a provider (submitted, not yet reported done): suspend() waits for none.
  std::atomic<uint64_t> in_flight_{0};
  bool suspended_ = false;
  std::vector<CryptoRequest*> held_;  // submitted while suspended, in order
  std::array<uint8_t, 32> key_fingerprint_{};  // SHA-256 of the key
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  void add(std::unique_ptr<Provider> provider);
  Provider* find(std::string_view name) const;
  // All providers, highest priority first.
  std::vector<Provider*> providers() const;

  Status open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                      const SessionOptions& options, std::unique_ptr<Session>* out);

 private:
  friend class Session;
  std::vector<std::unique_ptr<Provider>> providers_;
};

// Splits "kernel:virtio_crypto_aes_cbc" into ("kernel", "virtio_crypto_aes_cbc").
std::pair<std::string_view, std::string_view> split_backend(std::string_view backend);

// The process-wide registry with every provider built into this binary (see builtin.cpp:
// the one list a new backend is added to).
Registry& builtin_registry();

// A provider only a test build adds (fixtures/test_build: the fault provider that
// UBLKCRYPT_FAULT_EVERY switches on). Registered at static initialisation; builtin_registry()
// calls each `make` once when it is first built, and adds what is not null. The shipped
// binary registers none. Providers are made late, not at registration: they start threads,
// and `open` forks before it uses the registry.
struct TestProviderRegistration {
  explicit TestProviderRegistration(std::unique_ptr<Provider> (*make)());
};

}  // namespace ublkcrypt

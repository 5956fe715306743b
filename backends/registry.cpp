#include "backends/registry.h"

#include "backends/cascade_session.h"
#include "backends/helping_wait.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fmt/format.h>
#include <thread>

namespace ublkcrypt {

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::host_cpu: return "host-cpu";
    case Placement::lookaside_card: return "lookaside-card";
    case Placement::inline_device: return "inline-device";
  }
  return "unknown";
}

std::pair<std::string_view, std::string_view> split_backend(std::string_view backend) {
  size_t colon = backend.find(':');
  if (colon == std::string_view::npos) return {backend, {}};
  return {backend.substr(0, colon), backend.substr(colon + 1)};
}

// Failures that say "this provider cannot serve us any more", as opposed to a bad request
// that would fail anywhere.
static bool is_provider_failure(Errc code) {
  return code == Errc::device_gone || code == Errc::timeout || code == Errc::io_error ||
         code == Errc::no_memory;
}

// What a suspended session keeps of its key: enough to recognise it, nothing to use.
static std::array<uint8_t, 32> fingerprint_of(std::span<const uint8_t> key) {
  std::array<uint8_t, 32> out{};
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), out.data(), &length, EVP_sha256(), nullptr);
  return out;
}

// ---- Registry ----------------------------------------------------------------------------

void Registry::add(std::unique_ptr<Provider> provider) {
  providers_.push_back(std::move(provider));
  std::stable_sort(providers_.begin(), providers_.end(), [](const auto& a, const auto& b) {
    return a->info().priority > b->info().priority;
  });
}

Provider* Registry::find(std::string_view name) const {
  for (const auto& p : providers_)
    if (p->info().name == name) return p.get();
  return nullptr;
}

std::vector<Provider*> Registry::providers() const {
  std::vector<Provider*> out;
  for (const auto& p : providers_) out.push_back(p.get());
  return out;
}

Status Registry::open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                              const SessionOptions& options, std::unique_ptr<Session>* out) {
  if (key.size() != spec.key_bytes)
    return Status(Errc::invalid_argument,
                  fmt::format("key for {}: {} bytes given, {} expected", spec.name(),
                              key.size(), spec.key_bytes));
  SecureBytes copy;
  if (Status s = SecureBytes::copy_of(key, &copy); !s.ok()) return s;
  std::unique_ptr<Session> session(new Session(this, spec, std::move(copy), options.failover));

  if (!options.backend.empty()) {
    Status s = session->move_to(options.backend);
    if (!s.ok()) return s;
  } else if (Status s = session->bind_any(nullptr, {}); !s.ok()) {
    return s;
  }
  *out = std::move(session);
  return Status::Ok();
}

// ---- Session -----------------------------------------------------------------------------

Session::Session(Registry* registry, const CipherSpec& spec, SecureBytes key, bool failover)
    : registry_(registry), spec_(spec), key_(std::move(key)), failover_(failover),
      key_fingerprint_(fingerprint_of(key_.view())) {}

Session::~Session() = default;

Status Session::bind(Provider* provider, std::string_view variant) {
  const std::string who = variant.empty() ? provider->info().name
                                          : fmt::format("{}:{}", provider->info().name, variant);
  if (Status s = provider_supports(*provider, spec_, variant); !s.ok()) return s;
  std::unique_ptr<ProviderSession> fresh;
  if (Status s = open_on_provider(*provider, spec_, key_.view(), variant, &fresh); !s.ok())
    return s.in(who);
  std::lock_guard lock(mutex_);
  fresh->set_inline_run_bytes(inline_run_bytes_);
  if (current_) retired_.push_back(std::move(current_));
  current_ = std::move(fresh);
  provider_ = provider;
  variant_ = std::string(variant);
  ++generation_;
  return Status::Ok();
}

Status Session::bind_any(Provider* first, std::string_view variant) {
  std::string reasons;
  if (first != nullptr) {
    Status s = bind(first, variant);
    if (s.ok()) return s;
    reasons = s.message();
  }
  for (Provider* p : registry_->providers()) {
    if (p == first) continue;
    Status s = bind(p, {});
    if (s.ok()) return s;
    reasons += reasons.empty() ? "" : "; ";
    reasons += s.message();
  }
  return Status(Errc::unsupported, fmt::format("cipher {}: no provider supports it ({})", spec_.name(),
                                               reasons.empty() ? "none registered" : reasons));
}

Status Session::move_to(std::string_view backend) {
  if (suspended()) return Status(Errc::busy, "the session is suspended (its key is wiped): resume it first");
  auto [name, variant] = split_backend(backend);
  Provider* provider = registry_->find(name);
  if (provider == nullptr) {
    std::string known;
    for (Provider* p : registry_->providers())
      known += (known.empty() ? "" : ", ") + p->info().name;
    return Status(Errc::not_found,
                  fmt::format("backend {}: no such provider (available: {})", name, known));
  }
  if (Status s = bind(provider, variant); !s.ok()) return s;
  std::lock_guard lock(mutex_);
  std::erase(failed_, provider);
  return Status::Ok();
}

void Session::set_inline_run_bytes(uint32_t bytes) {
  std::lock_guard lock(mutex_);
  inline_run_bytes_ = bytes;
  if (current_) current_->set_inline_run_bytes(bytes);
}

void Session::submit(std::span<CryptoRequest* const> requests) {
  std::shared_ptr<ProviderSession> target;
  {
    std::lock_guard lock(mutex_);
    if (suspended_) {
      held_.insert(held_.end(), requests.begin(), requests.end());
      return;
    }
    target = current_;
    in_flight_.fetch_add(requests.size(), std::memory_order_relaxed);
    for (CryptoRequest* r : requests) r->generation = generation_;
  }
  for (CryptoRequest* r : requests) ++r->attempts;
  target->submit(requests, this);
}

void Session::provider_done(CryptoRequest* request, Status status) {
  // Counted done before the consumer hears of it: once it has, it may destroy this session
  // (its last request done). A retry counts again in submit(). A provider thread may still
  // be in its own code after this when suspend() closes its session: each provider's
  // session outlives its callbacks (software: reference counted; kernel: the destructor
  // joins the dispatcher).
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  // A failed in-place run may be partly transformed: a retry would transform those sectors
  // twice (provider.h's contract), so only the identity cipher retries in place.
  const bool retry_safe = request->run.src != request->run.dst || spec_.mode == CipherMode::null;
  if (status.ok() || !failover_ || !retry_safe || !is_provider_failure(status.code())) {
    request->attempts = 0;
    request->completion->crypto_done(request, std::move(status));
    return;
  }
  // Every provider gets one try per request; after that the request fails for real.
  const size_t max_attempts = registry_->providers().size() + 1;
  if (request->attempts >= max_attempts || !fail_over(request->generation, status)) {
    request->attempts = 0;
    request->completion->crypto_done(request, std::move(status));
    return;
  }
  CryptoRequest* one[] = {request};
  submit(one);
}

bool Session::fail_over(uint64_t failed_generation, const Status& cause) {
  std::lock_guard serial(failover_mutex_);  // the generation check and the move as one
  Provider* from = nullptr;
  std::string from_name;
  {
    std::lock_guard lock(mutex_);
    // A later request from the same dead provider: the move already happened.
    if (failed_generation != generation_) return true;
    from = provider_;
    from_name = variant_.empty() ? from->info().name
                                 : fmt::format("{}:{}", from->info().name, variant_);
    failed_.push_back(from);
  }
  for (Provider* next : registry_->providers()) {
    {
      std::lock_guard lock(mutex_);
      if (std::find(failed_.begin(), failed_.end(), next) != failed_.end()) continue;
    }
    if (!bind(next, {}).ok()) continue;
    std::lock_guard lock(mutex_);
    ++failovers_;
    last_failover_ = fmt::format("{} -> {}: {}", from_name, next->info().name, cause.message());
    fmt::print(stderr, "ublkcrypt: session {} failed over {}\n", spec_.name(), last_failover_);
    return true;
  }
  return false;
}

Status Session::run(const SectorRun& run) {
  struct Waiter final : CryptoCompletion {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Status result;
    void crypto_done(CryptoRequest*, Status s) override {
      std::lock_guard lock(m);
      result = std::move(s);
      done = true;
      cv.notify_one();
    }
  } waiter;
  CryptoRequest request;
  request.run = run;
  request.completion = &waiter;
  CryptoRequest* one[] = {&request};
  submit(one);
  wait_helping(waiter.m, waiter.cv, [&] { return waiter.done; });
  return waiter.result;
}

bool Session::help() {
  std::shared_ptr<ProviderSession> target;
  {
    std::lock_guard lock(mutex_);
    target = current_;
  }
  return target != nullptr && target->help();
}

Status Session::suspend() {
  {
    std::lock_guard lock(mutex_);
    if (suspended_) return Status(Errc::busy, "already suspended");
    suspended_ = true;
  }
  // What is at a provider finishes there; this thread runs what it may of it.
  while (in_flight_.load(std::memory_order_acquire) != 0)
    if (!help()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::weak_ptr<ProviderSession>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.push_back(current_);
    for (const auto& old : retired_) closing.push_back(old);
    current_.reset();
    retired_.clear();
  }
  // A thread inside help() holds its own reference for the call: the provider session (and
  // the key it holds) goes when that call returns.
  for (const auto& session : closing)
    while (!session.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  key_.reset();
  return Status::Ok();
}

Status Session::resume(std::span<const uint8_t> key) {
  Provider* was = nullptr;
  std::string variant;
  {
    std::lock_guard lock(mutex_);
    if (!suspended_) return Status(Errc::invalid_argument, "not suspended");
    was = provider_;
    variant = variant_;
  }
  const std::array<uint8_t, 32> given = fingerprint_of(key);
  if (key.size() != spec_.key_bytes || CRYPTO_memcmp(given.data(), key_fingerprint_.data(), given.size()) != 0)
    return Status(Errc::permission, "the key given is not the key this volume was opened with");
  if (Status s = SecureBytes::copy_of(key, &key_); !s.ok()) return s;
  if (Status s = bind_any(was, variant); !s.ok()) {
    key_.reset();
    return s;
  }
  std::vector<CryptoRequest*> held;
  {
    std::lock_guard lock(mutex_);
    suspended_ = false;
    held.swap(held_);
  }
  if (!held.empty()) submit(held);
  return Status::Ok();
}

bool Session::suspended() const {
  std::lock_guard lock(mutex_);
  return suspended_;
}

void Session::wait_helping(std::mutex& mutex, std::condition_variable& cv,
                           const std::function<bool()>& done) {
  helping_wait([this] { return help(); }, mutex, cv, done);
}

SessionState Session::state() const {
  std::lock_guard lock(mutex_);
  return SessionState{provider_ ? provider_->info().name : "", variant_, failovers_,
                      last_failover_};
}

Provider* Session::provider() const {
  std::lock_guard lock(mutex_);
  return provider_;
}

}  // namespace ublkcrypt

#include "backends/registry.h"

#include "backends/helping_wait.h"

#include <algorithm>
#include <condition_variable>
#include <fmt/format.h>

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
  } else {
    std::string reasons;
    for (Provider* p : providers()) {
      Status s = session->bind(p, {});
      if (s.ok()) break;
      reasons += reasons.empty() ? "" : "; ";
      reasons += s.message();
    }
    if (session->provider() == nullptr)
      return Status(Errc::unsupported,
                    fmt::format("cipher {}: no provider supports it ({})", spec.name(),
                                reasons.empty() ? "none registered" : reasons));
  }
  *out = std::move(session);
  return Status::Ok();
}

// ---- Session -----------------------------------------------------------------------------

Session::Session(Registry* registry, const CipherSpec& spec, SecureBytes key, bool failover)
    : registry_(registry), spec_(spec), key_(std::move(key)), failover_(failover) {}

Session::~Session() = default;

Status Session::bind(Provider* provider, std::string_view variant) {
  const std::string who = variant.empty() ? provider->info().name
                                          : fmt::format("{}:{}", provider->info().name, variant);
  if (Status s = provider->supports(spec_, variant); !s.ok()) return s;
  std::unique_ptr<ProviderSession> fresh;
  if (Status s = provider->open_session(spec_, key_.view(), variant, &fresh); !s.ok())
    return s.in(who);
  std::lock_guard lock(mutex_);
  if (current_) retired_.push_back(std::move(current_));
  current_ = std::move(fresh);
  provider_ = provider;
  variant_ = std::string(variant);
  ++generation_;
  return Status::Ok();
}

Status Session::move_to(std::string_view backend) {
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

void Session::submit(std::span<CryptoRequest* const> requests) {
  std::shared_ptr<ProviderSession> target;
  {
    std::lock_guard lock(mutex_);
    target = current_;
    for (CryptoRequest* r : requests) r->generation = generation_;
  }
  for (CryptoRequest* r : requests) ++r->attempts;
  target->submit(requests, this);
}

void Session::provider_done(CryptoRequest* request, Status status) {
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
  return target->help();
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

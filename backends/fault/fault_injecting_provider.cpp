#include "backends/fault/fault_injecting_provider.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/software/software_provider.h"

namespace ublkcrypt {

namespace {

class FaultSession final : public ProviderSession {
 public:
  FaultSession(FaultInjectingProvider* provider, std::unique_ptr<ProviderSession> wrapped)
      : provider_(provider), wrapped_(std::move(wrapped)) {}

  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override {
    std::vector<CryptoRequest*> forward;
    forward.reserve(requests.size());
    std::vector<std::pair<CryptoRequest*, Status>> failed;
    for (CryptoRequest* r : requests) {
      Status fault = provider_->next_fault();
      if (fault.ok()) {
        forward.push_back(r);
      } else {
        failed.emplace_back(r, std::move(fault));
      }
    }
    if (!forward.empty()) wrapped_->submit(forward, callback);
    // Failed ones complete after the rest started, as a card's errors arrive late.
    for (auto& [r, status] : failed) callback->provider_done(r, std::move(status));
  }

 private:
  FaultInjectingProvider* provider_;
  std::unique_ptr<ProviderSession> wrapped_;
};

}  // namespace

FaultInjectingProvider::FaultInjectingProvider(std::unique_ptr<Provider> wrapped, FaultPlan plan)
    : wrapped_(std::move(wrapped)), plan_(std::move(plan)) {
  info_ = wrapped_->info();
  info_.name = plan_.name;
  info_.priority = plan_.priority;
  info_.placement = plan_.placement;
  info_.description = fmt::format("fault injection around {} (fail every {} with {})",
                                  wrapped_->info().name, plan_.fail_every,
                                  errc_name(plan_.error));
}

Status FaultInjectingProvider::supports(const CipherSpec& spec, std::string_view variant) const {
  return wrapped_->supports(spec, variant);
}

Status FaultInjectingProvider::open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                                            std::string_view variant,
                                            std::unique_ptr<ProviderSession>* out) {
  if (unplugged_.load())
    return Status(unplug_error_.load(), fmt::format("{}: unplugged", info_.name));
  std::unique_ptr<ProviderSession> inner;
  if (Status s = wrapped_->open_session(spec, key, variant, &inner); !s.ok()) return s;
  *out = std::make_unique<FaultSession>(this, std::move(inner));
  return Status::Ok();
}

void FaultInjectingProvider::unplug(Errc error) {
  unplug_error_.store(error);
  unplugged_.store(true);
}

void FaultInjectingProvider::replug() { unplugged_.store(false); }

Status FaultInjectingProvider::next_fault() {
  const uint64_t n = seen_.fetch_add(1) + 1;
  Status fault;
  if (unplugged_.load()) {
    fault = Status(unplug_error_.load(), fmt::format("{}: unplugged", info_.name));
  } else if (plan_.fail_every != 0 && n % plan_.fail_every == 0) {
    fault = Status(plan_.error, fmt::format("{}: injected {} on request {}", info_.name,
                                            errc_name(plan_.error), n));
  } else {
    return Status::Ok();
  }
  failed_.fetch_add(1);
  counters().errors.fetch_add(1);
  return fault;
}

std::unique_ptr<Provider> make_fault_provider_from_env() {
  const char* every = std::getenv("UBLKCRYPT_FAULT_EVERY");
  if (every == nullptr || *every == '\0') return nullptr;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(every, every + std::strlen(every), n);
  if (ec != std::errc() || *end != '\0' || n == 0) {
    fmt::print(stderr, "ublkcrypt: UBLKCRYPT_FAULT_EVERY={}: not a positive count, ignored\n",
               every);
    return nullptr;
  }
  FaultPlan plan;
  plan.fail_every = n;
  return std::make_unique<FaultInjectingProvider>(make_software_provider(), plan);
}

}  // namespace ublkcrypt

#include "backends/fault/fault_injecting_provider.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backends/software/software_provider.h"

namespace ublkcrypt {

namespace {

// The part of a failing request the wrapped provider still does: its first sectors, in the
// caller's buffers. When they are done the request fails with the fault; if the wrapped
// provider failed them itself, that failure is what happened and is reported instead.
class PartialRun final : public ProviderCallback {
 public:
  PartialRun(CryptoRequest* request, ProviderCallback* callback, Fault fault)
      : request_(request), callback_(callback), status_(std::move(fault.status)) {
    head.run = request->run;
    head.run.sector_count = fault.done_sectors;
  }

  CryptoRequest head;

  void provider_done(CryptoRequest*, Status status) override {
    std::unique_ptr<PartialRun> self(this);
    callback_->provider_done(request_, status.ok() ? std::move(status_) : std::move(status));
  }

 private:
  CryptoRequest* request_;
  ProviderCallback* callback_;
  Status status_;
};

class FaultSession final : public ProviderSession {
 public:
  FaultSession(FaultInjectingProvider* provider, std::unique_ptr<ProviderSession> wrapped)
      : provider_(provider), wrapped_(std::move(wrapped)) {}

  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override {
    std::vector<CryptoRequest*> forward;
    forward.reserve(requests.size());
    std::vector<PartialRun*> partial;
    std::vector<std::pair<CryptoRequest*, Status>> failed;
    for (CryptoRequest* r : requests) {
      Fault fault = provider_->next_fault(r->run);
      if (fault.status.ok()) {
        forward.push_back(r);
      } else if (fault.done_sectors > 0) {
        partial.push_back(new PartialRun(r, callback, std::move(fault)));
      } else {
        failed.emplace_back(r, std::move(fault.status));
      }
    }
    if (!forward.empty()) wrapped_->submit(forward, callback);
    for (PartialRun* p : partial) {
      CryptoRequest* head[] = {&p->head};
      wrapped_->submit(head, p);
    }
    // Failed ones complete after the rest started, as a card's errors arrive late.
    for (auto& [r, status] : failed) callback->provider_done(r, std::move(status));
  }

  bool help() override { return wrapped_->help(); }
  void set_inline_run_bytes(uint32_t bytes) override { wrapped_->set_inline_run_bytes(bytes); }

 private:
  FaultInjectingProvider* provider_;
  std::unique_ptr<ProviderSession> wrapped_;
};

}  // namespace

FaultInjectingProvider::FaultInjectingProvider(std::unique_ptr<Provider> wrapped, FaultPlan plan)
    : wrapped_(std::move(wrapped)), plan_(std::move(plan)), rng_(plan_.seed) {
  info_ = wrapped_->info();
  info_.name = plan_.name;
  info_.priority = plan_.priority;
  info_.placement = plan_.placement;
  info_.description = fmt::format("fault injection around {} (fail every {} with {}{})",
                                  wrapped_->info().name, plan_.fail_every,
                                  errc_name(plan_.error),
                                  plan_.partial ? " after some of its sectors" : "");
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

Fault FaultInjectingProvider::next_fault(const SectorRun& run) {
  const uint64_t n = seen_.fetch_add(1) + 1;
  Fault fault;
  if (unplugged_.load()) {
    fault.status = Status(unplug_error_.load(), fmt::format("{}: unplugged", info_.name));
  } else if (plan_.fail_every != 0 && n % plan_.fail_every == 0) {
    std::string where;
    if (plan_.partial) {
      fault.done_sectors = draw_done_sectors(run);
      where = fmt::format(" after {} of {} sectors", fault.done_sectors, run.sector_count);
    }
    fault.status = Status(plan_.error, fmt::format("{}: injected {} on request {}{}", info_.name,
                                                   errc_name(plan_.error), n, where));
  } else {
    return fault;
  }
  failed_.fetch_add(1);
  counters().errors.fetch_add(1);
  return fault;
}

uint32_t FaultInjectingProvider::draw_done_sectors(const SectorRun& run) {
  const uint32_t n = run.sector_count;
  uint32_t done = 0;
  if (n > 1) {
    std::lock_guard lock(rng_mutex_);
    switch (rng_() % 3) {
      case 0: done = 0; break;
      case 1: done = n - 1; break;
      default: done = n > 2 ? uint32_t(1 + rng_() % (n - 2)) : uint32_t(rng_() % n); break;
    }
  }
  const size_t kind = done == 0 ? 0 : done == n - 1 ? 2 : 1;
  partial_[run.direction == Direction::encrypt ? 0 : 1][kind].fetch_add(1);
  return done;
}

PartialFailures FaultInjectingProvider::partial_failures(Direction direction) const {
  const auto& counts = partial_[direction == Direction::encrypt ? 0 : 1];
  return PartialFailures{counts[0].load(), counts[1].load(), counts[2].load()};
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

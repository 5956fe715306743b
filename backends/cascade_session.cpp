#include "backends/cascade_session.h"

#include <mutex>
#include <vector>

namespace ublkcrypt {
namespace {

class CascadeSession final : public ProviderSession, private ProviderCallback {
 public:
  explicit CascadeSession(std::vector<std::unique_ptr<ProviderSession>> stages)
      : stages_(std::move(stages)) {}

  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override {
    // The first stage of every request goes out as one batch, as the consumer sent them.
    std::vector<CryptoRequest*> encrypt, decrypt;
    for (CryptoRequest* request : requests) {
      Flight* flight = take_flight(request, callback);
      prepare_stage(flight);
      (request->run.direction == Direction::encrypt ? encrypt : decrypt).push_back(flight);
    }
    if (!encrypt.empty()) stages_.front()->submit(encrypt, this);
    if (!decrypt.empty()) stages_.back()->submit(decrypt, this);
  }

  bool help() override {
    for (auto& stage : stages_)
      if (stage->help()) return true;
    return false;
  }

  void set_inline_run_bytes(uint32_t bytes) override {
    for (auto& stage : stages_) stage->set_inline_run_bytes(bytes);
  }

 private:
  // One consumer request on its way through the stages; the request each stage runs.
  struct Flight : CryptoRequest {
    CryptoRequest* outer = nullptr;
    ProviderCallback* callback = nullptr;
    size_t stages_done = 0;
  };

  Flight* take_flight(CryptoRequest* outer, ProviderCallback* callback) {
    std::lock_guard lock(mutex_);
    if (free_.empty()) {
      flights_.push_back(std::make_unique<Flight>());
      free_.push_back(flights_.back().get());
    }
    Flight* flight = free_.back();
    free_.pop_back();
    flight->outer = outer;
    flight->callback = callback;
    flight->stages_done = 0;
    return flight;
  }

  void give_back(Flight* flight) {
    std::lock_guard lock(mutex_);
    free_.push_back(flight);
  }

  // Points the flight at its next stage: the first reads the consumer's src, the others
  // transform dst in place.
  size_t prepare_stage(Flight* flight) {
    const SectorRun& run = flight->outer->run;
    flight->run = run;
    if (flight->stages_done > 0) flight->run.src = run.dst;
    flight->generation = 0;
    flight->attempts = 0;
    return run.direction == Direction::encrypt ? flight->stages_done
                                               : stages_.size() - 1 - flight->stages_done;
  }

  void provider_done(CryptoRequest* request, Status status) override {
    Flight* flight = static_cast<Flight*>(request);
    if (status.ok() && ++flight->stages_done < stages_.size()) {
      const size_t next = prepare_stage(flight);
      CryptoRequest* one = flight;
      stages_[next]->submit({&one, 1}, this);
      return;
    }
    CryptoRequest* outer = flight->outer;
    ProviderCallback* callback = flight->callback;
    give_back(flight);
    callback->provider_done(outer, status);
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<Flight>> flights_;  // guarded by mutex_
  std::vector<Flight*> free_;                     // guarded by mutex_
  // Declared last, so destroyed first: a stage's session finishes (or abandons) its work
  // while the flights it may still complete exist.
  std::vector<std::unique_ptr<ProviderSession>> stages_;
};

}  // namespace

Status provider_supports(const Provider& provider, const CipherSpec& spec, std::string_view variant) {
  if (spec.cascade.empty()) return provider.supports(spec, variant);
  for (size_t i = 0; i < spec.cascade.size(); ++i)
    if (Status s = provider.supports(spec.stage(i), variant); !s.ok()) return s;
  return Status::Ok();
}

Status open_on_provider(Provider& provider, const CipherSpec& spec, std::span<const uint8_t> key,
                        std::string_view variant, std::unique_ptr<ProviderSession>* out) {
  if (spec.cascade.empty()) return provider.open_session(spec, key, variant, out);
  const size_t count = spec.cascade.size();
  const size_t share = key.size() / count;
  std::vector<std::unique_ptr<ProviderSession>> stages;
  for (size_t i = 0; i < count; ++i) {
    std::unique_ptr<ProviderSession> session;
    if (Status s = provider.open_session(spec.stage(i), key.subspan(i * share, share), variant, &session);
        !s.ok())
      return s;
    stages.push_back(std::move(session));
  }
  *out = std::make_unique<CascadeSession>(std::move(stages));
  return Status::Ok();
}

}  // namespace ublkcrypt

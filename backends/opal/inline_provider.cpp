#include "backends/opal/inline_provider.h"

#include <cstring>

namespace ublkcrypt {
namespace {

class InlineSession final : public ProviderSession {
 public:
  InlineSession(uint32_t sector_size, ProviderCounters* counters)
      : sector_size_(sector_size), counters_(counters) {}

  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override {
    for (CryptoRequest* request : requests) {
      const SectorRun& run = request->run;
      const uint64_t bytes = uint64_t(run.sector_count) * sector_size_;
      if (run.src == nullptr || run.dst == nullptr) {
        counters_->errors.fetch_add(1, std::memory_order_relaxed);
        callback->provider_done(request, Status(Errc::invalid_argument, "opal: sector run without buffers"));
        continue;
      }
      // Out of place (the engine never asks for it today) costs one host copy.
      if (run.src != run.dst) {
        std::memmove(run.dst, run.src, bytes);
        counters_->copy_bytes.fetch_add(bytes, std::memory_order_relaxed);
      }
      counters_->requests.fetch_add(1, std::memory_order_relaxed);
      counters_->payload_bytes.fetch_add(bytes, std::memory_order_relaxed);
      callback->provider_done(request, Status::Ok());
    }
  }

 private:
  uint32_t sector_size_;
  ProviderCounters* counters_;
};

class InlineProvider final : public Provider {
 public:
  InlineProvider() {
    info_.name = "opal";
    info_.description = "self-encrypting drive (TCG Opal): the drive encrypts inline, the host passes data through";
    info_.placement = Placement::inline_device;
    info_.asynchronous = false;
    info_.priority = -100;
  }

  const ProviderInfo& info() const override { return info_; }

  Status supports(const CipherSpec& spec, std::string_view) const override {
    if (spec.mode == CipherMode::null) return Status::Ok();
    return Status(Errc::unsupported, "provider opal: the drive does the encryption; it serves only cipher_null "
                                     "sessions, not " + spec.name());
  }

  Status open_session(const CipherSpec& spec, std::span<const uint8_t>, std::string_view variant,
                      std::unique_ptr<ProviderSession>* out) override {
    if (Status s = supports(spec, variant); !s.ok()) return s;
    *out = std::make_unique<InlineSession>(spec.sector_size, &counters());
    return Status::Ok();
  }

 private:
  ProviderInfo info_;
};

}  // namespace

std::unique_ptr<Provider> make_opal_inline_provider() { return std::make_unique<InlineProvider>(); }

}  // namespace ublkcrypt

#include "backends/dpdk/dpdk_provider.h"

#include <fmt/format.h>
#include <cstdlib>

#include "backends/dpdk/device_cipher.h"
#include "backends/dpdk/device_session.h"
#include "backends/dpdk/eal.h"

namespace ublkcrypt {
namespace {

class DpdkSession final : public ProviderSession {
 public:
  DpdkSession(CryptoDevice* device, std::shared_ptr<DeviceSession> session)
      : device_(device), session_(std::move(session)) {}

  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override {
    device_->submit(session_, requests, callback);
  }

 private:
  CryptoDevice* device_;
  std::shared_ptr<DeviceSession> session_;
};

class DpdkProvider final : public Provider {
 public:
  explicit DpdkProvider(DpdkProviderOptions options) : options_(options) {
    info_.name = "dpdk";
    info_.description = "DPDK cryptodev (user-space polled); --backend dpdk:DEVICE";
    info_.placement = Placement::lookaside_card;
    info_.asynchronous = true;
    info_.priority = 40;
  }

  const ProviderInfo& info() const override { return info_; }

  Status supports(const CipherSpec& spec, std::string_view variant) const override {
    CryptoDevice* device = nullptr;
    DeviceCipher cipher;
    return resolve(spec, variant, &device, &cipher);
  }

  Status open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                      std::string_view variant, std::unique_ptr<ProviderSession>* out) override {
    CryptoDevice* device = nullptr;
    DeviceCipher cipher;
    if (Status s = resolve(spec, variant, &device, &cipher); !s.ok()) return s;
    std::shared_ptr<DeviceSession> session;
    if (Status s = DeviceSession::open(device, spec, cipher, key, &counters(), &session); !s.ok())
      return s;
    *out = std::make_unique<DpdkSession>(device, std::move(session));
    return Status::Ok();
  }

 private:
  // The device that runs `spec`: the one named, or the first present that offers it.
  Status resolve(const CipherSpec& spec, std::string_view variant, CryptoDevice** device,
                 DeviceCipher* cipher) const {
    if (!variant.empty()) {
      if (Status s = CryptoDevice::get(variant, options_.device, device); !s.ok()) return s;
      return device_cipher_for(spec, (*device)->id(), (*device)->who(), cipher);
    }
    if (!dpdk_configured())
      return Status(Errc::unsupported,
                    fmt::format("dpdk: no device named (--backend dpdk:DEVICE) and {} not set",
                                kDpdkEalArgsVariable));
    std::vector<CryptoDeviceListing> devices;
    if (Status s = list_crypto_devices(&devices); !s.ok()) return s;
    std::string reasons;
    for (const CryptoDeviceListing& listed : devices) {
      Status s = resolve(spec, listed.name, device, cipher);
      if (s.ok()) return s;
      reasons += (reasons.empty() ? "" : "; ") + s.message();
    }
    return Status(Errc::unsupported,
                  fmt::format("dpdk: no device offers {} ({})", spec.name(),
                              reasons.empty() ? "no crypto devices present" : reasons));
  }

  DpdkProviderOptions options_;
  ProviderInfo info_;
};

}  // namespace

DpdkProviderOptions DpdkProviderOptions::from_environment() {
  DpdkProviderOptions options;
  const char* text = std::getenv("UBLKCRYPT_DPDK_DEADLINE_MS");
  if (text != nullptr && *text != '\0') {
    char* end = nullptr;
    const unsigned long ms = std::strtoul(text, &end, 10);
    if (*end == '\0' && ms > 0 && ms <= 600000)
      options.device.deadline = std::chrono::milliseconds(ms);
    else
      fmt::print(stderr,
                 "ublkcrypt: UBLKCRYPT_DPDK_DEADLINE_MS={}: not a number of ms in "
                 "1..600000, using {}\n",
                 text, options.device.deadline.count());
  }
  return options;
}

std::unique_ptr<Provider> make_dpdk_provider(DpdkProviderOptions options) {
  return std::make_unique<DpdkProvider>(options);
}

}  // namespace ublkcrypt

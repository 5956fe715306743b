#include "backends/kernel/kernel_provider.h"

#include <unistd.h>

#include <cstdlib>
#include <fmt/format.h>

#include "backends/kernel/alg_socket.h"
#include "backends/kernel/kernel_binding.h"
#include "backends/kernel/kernel_session.h"
#include "backends/kernel/proc_crypto.h"
#include "backends/kernel/sector_iv.h"

namespace ublkcrypt {
namespace {

class KernelProvider final : public Provider {
 public:
  explicit KernelProvider(KernelProviderOptions options) : options_(std::move(options)) {
    info_.name = "kernel";
    info_.asynchronous = true;
    info_.priority = 50;
    info_.placement = Placement::host_cpu;
    info_.description = "kernel crypto API via AF_ALG + io_uring";
    // The provider counts as a card when the kernel has one that can run our ciphers;
    // the driver a session binds is chosen per volume (kernel:DRIVER) and shown by status.
    std::vector<KernelAlgorithm> algorithms;
    if (probe_af_alg().ok() && read_proc_crypto(options_.proc_crypto, &algorithms).ok()) {
      std::string cards;
      for (const KernelAlgorithm& a : algorithms) {
        if (a.type != "skcipher" || a.internal || !a.is_card()) continue;
        if (a.name != "cbc(aes)" && a.name != "xts(aes)") continue;
        cards += (cards.empty() ? "" : ", ") + a.driver;
      }
      if (!cards.empty()) {
        info_.placement = Placement::lookaside_card;
        info_.description += fmt::format("; card drivers: {}", cards);
      }
    } else {
      info_.description += "; AF_ALG not available on this kernel";
    }
  }

  const ProviderInfo& info() const override { return info_; }

  Status supports(const CipherSpec& spec, std::string_view variant) const override {
    KernelBinding binding;
    return resolve(spec, variant, &binding);
  }

  Status open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                      std::string_view variant,
                      std::unique_ptr<ProviderSession>* out) override {
    KernelBinding binding;
    if (Status s = resolve(spec, variant, &binding); !s.ok()) return s;
    SectorIv iv = SectorIv::plain64();
    if (Status s = SectorIv::for_spec(spec, binding.userspace_essiv, key, &iv); !s.ok())
      return s;
    std::unique_ptr<SectorWhitening> whitening;
    if (Status s = SectorWhitening::for_spec(spec, key, &whitening); !s.ok()) return s;
    // As dm-crypt: the cipher gets the key without the IV generator's bytes at its end.
    int transform = -1;
    if (Status s = open_alg_transform(binding.salg_name,
                                      key.first(key.size() - spec.extra_key_bytes()), &transform);
        !s.ok())
      return s;
    KernelSessionConfig config;
    config.who = variant.empty() ? "kernel" : fmt::format("kernel:{}", variant);
    config.spec = spec;
    config.op_sockets = options_.op_sockets;
    config.deadline = options_.deadline;
    config.card = binding.card;
    config.watch_driver = binding.driver;
    config.proc_crypto = options_.proc_crypto;
    return open_kernel_session(config, transform, std::move(iv), std::move(whitening),
                               &counters(), out);
  }

 private:
  Status resolve(const CipherSpec& spec, std::string_view variant, KernelBinding* out) const {
    if (Status s = probe_af_alg(); !s.ok()) return s;
    std::vector<KernelAlgorithm> algorithms;
    if (Status s = read_proc_crypto(options_.proc_crypto, &algorithms); !s.ok())
      return s.in(variant.empty() ? "kernel" : fmt::format("kernel:{}", variant));
    return resolve_kernel_binding(spec, variant, algorithms, out);
  }

  KernelProviderOptions options_;
  ProviderInfo info_;
};

unsigned env_number(const char* name, unsigned fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  unsigned long value = std::strtoul(text, &end, 10);
  if (*end != '\0' || value == 0 || value > 100000) {
    fmt::print(stderr, "ublkcrypt: {}={}: not a positive number, using {}\n", name, text,
               fallback);
    return fallback;
  }
  return static_cast<unsigned>(value);
}

}  // namespace

KernelProviderOptions KernelProviderOptions::from_environment() {
  KernelProviderOptions options;
  options.op_sockets = env_number("UBLKCRYPT_KERNEL_SOCKETS", options.op_sockets);
  options.deadline = std::chrono::milliseconds(
      env_number("UBLKCRYPT_KERNEL_DEADLINE_MS", static_cast<unsigned>(options.deadline.count())));
  return options;
}

std::unique_ptr<Provider> make_kernel_provider(KernelProviderOptions options) {
  return std::make_unique<KernelProvider>(std::move(options));
}

}  // namespace ublkcrypt

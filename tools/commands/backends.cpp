// ublkcrypt backends [--json] [--all]: the crypto providers built in, the kernel crypto
// API implementations `--backend kernel:DRIVER` can bind (from /proc/crypto), and the DPDK
// crypto devices `--backend dpdk:DEVICE` can use, so a user can see which card drivers
// exist before naming one. DPDK is listed only when UBLKCRYPT_DPDK_EAL_ARGS configures it:
// listing starts DPDK's EAL, which nobody else should pay for.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "backends/dpdk/device_cipher.h"
#include "backends/dpdk/eal.h"
#include "backends/kernel/alg_socket.h"
#include "backends/kernel/proc_crypto.h"
#include "backends/registry.h"
#include "tools/command.h"

namespace ublkcrypt {
namespace {

struct BackendsArgs {
  bool json = false;
  bool all = false;
};

// The algorithms ublkcrypt's ciphers use; --all shows every skcipher.
bool relevant(const KernelAlgorithm& a) {
  return a.name == "xts(aes)" || a.name == "cbc(aes)" || a.name == "essiv(cbc(aes),sha256)";
}

const char* serves(const KernelAlgorithm& a) {
  if (a.name == "xts(aes)") return "aes-xts-plain64";
  if (a.name == "cbc(aes)") return "aes-cbc-essiv:sha256 (ESSIV by ublkcrypt)";
  if (a.name == "essiv(cbc(aes),sha256)") return "aes-cbc-essiv:sha256";
  return "-";
}

// The ciphers of ublkcrypt a DPDK device offers, at their largest key.
std::string dpdk_serves(const CryptoDeviceListing& device) {
  std::string serves;
  for (auto [cipher, key_bits] : {std::pair{"aes-xts-plain64", 512u},
                                  std::pair{"aes-cbc-essiv:sha256", 256u},
                                  std::pair{"cipher_null-ecb", 0u}}) {
    CipherSpec spec;
    DeviceCipher offered;
    if (CipherSpec::parse(cipher, key_bits, 512, &spec).ok() &&
        device_cipher_for(spec, device.id, device.name, &offered).ok())
      serves += (serves.empty() ? "" : ", ") + std::string(cipher);
  }
  return serves.empty() ? "-" : serves;
}

void run_backends(const BackendsArgs& a) {
  std::vector<Provider*> providers = builtin_registry().providers();
  std::vector<KernelAlgorithm> algorithms;
  Status kernel = probe_af_alg();
  if (kernel.ok()) kernel = read_proc_crypto("/proc/crypto", &algorithms);
  std::vector<const KernelAlgorithm*> shown;
  for (const KernelAlgorithm& alg : algorithms)
    if (alg.type == "skcipher" && !alg.internal && (a.all || relevant(alg))) shown.push_back(&alg);
  std::vector<CryptoDeviceListing> dpdk_devices;
  Status dpdk = dpdk_configured()
                    ? list_crypto_devices(&dpdk_devices)
                    : Status(Errc::unsupported,
                             fmt::format("not started: set {} to list devices (e.g. \"--no-huge "
                                         "--no-pci -m 128 --vdev crypto_openssl\")",
                                         kDpdkEalArgsVariable));

  if (a.json) {
    nlohmann::json out;
    out["providers"] = nlohmann::json::array();
    for (Provider* p : providers) {
      const ProviderInfo& info = p->info();
      out["providers"].push_back({{"name", info.name},
                                  {"placement", placement_name(info.placement)},
                                  {"priority", info.priority},
                                  {"asynchronous", info.asynchronous},
                                  {"description", info.description}});
    }
    out["kernel_drivers"] = nlohmann::json::array();
    for (const KernelAlgorithm* alg : shown)
      out["kernel_drivers"].push_back({{"name", alg->name},
                                       {"driver", alg->driver},
                                       {"module", alg->module},
                                       {"priority", alg->priority},
                                       {"type", alg->type},
                                       {"async", alg->async},
                                       {"card", alg->is_card()},
                                       {"serves", serves(*alg)}});
    if (!kernel.ok()) out["kernel_error"] = kernel.message();
    out["dpdk_devices"] = nlohmann::json::array();
    for (const CryptoDeviceListing& device : dpdk_devices)
      out["dpdk_devices"].push_back({{"name", device.name},
                                     {"driver", device.driver},
                                     {"queue_pairs", device.max_queue_pairs},
                                     {"serves", dpdk_serves(device)}});
    if (!dpdk.ok()) out["dpdk_error"] = dpdk.message();
    fmt::print("{}\n", out.dump(2));
    return;
  }

  fmt::print("Providers (highest priority first; --backend NAME):\n");
  fmt::print("  {:<10} {:<15} {:>8}  {:<5}  {}\n", "NAME", "PLACEMENT", "PRIORITY", "ASYNC",
             "DESCRIPTION");
  for (Provider* p : providers) {
    const ProviderInfo& info = p->info();
    fmt::print("  {:<10} {:<15} {:>8}  {:<5}  {}\n", info.name, placement_name(info.placement),
               info.priority, info.asynchronous ? "yes" : "no", info.description);
  }
  fmt::print("\nKernel crypto API drivers (--backend kernel:DRIVER):\n");
  if (!kernel.ok()) {
    fmt::print("  {}\n", kernel.message());
  } else {
    if (shown.empty()) fmt::print("  none loaded (templates appear after first use)\n");
    else
      fmt::print("  {:<24} {:<42} {:<14} {:>8}  {:<5} {:<5} {}\n", "ALGORITHM", "DRIVER",
                 "MODULE", "PRIORITY", "ASYNC", "CARD", "SERVES");
    for (const KernelAlgorithm* alg : shown)
      fmt::print("  {:<24} {:<42} {:<14} {:>8}  {:<5} {:<5} {}\n", alg->name, alg->driver,
                 alg->module, alg->priority, alg->async ? "yes" : "no",
                 alg->is_card() ? "yes" : "no", serves(*alg));
  }
  fmt::print("\nDPDK crypto devices (--backend dpdk:DEVICE):\n");
  if (!dpdk.ok()) {
    fmt::print("  {}\n", dpdk.message());
    return;
  }
  if (dpdk_devices.empty()) fmt::print("  none present\n");
  else
    fmt::print("  {:<24} {:<20} {:>11}  {}\n", "DEVICE", "DRIVER", "QUEUE PAIRS", "SERVES");
  for (const CryptoDeviceListing& device : dpdk_devices)
    fmt::print("  {:<24} {:<20} {:>11}  {}\n", device.name, device.driver,
               device.max_queue_pairs, dpdk_serves(device));
}

}  // namespace

UBLKCRYPT_COMMAND("backends", 150, [](CLI::App& app) {
  auto a = std::make_shared<BackendsArgs>();
  auto* cmd = app.add_subcommand(
      "backends", "lists crypto providers, the kernel drivers and the DPDK devices --backend can use");
  cmd->add_flag("--json", a->json, "machine-readable output");
  cmd->add_flag("--all", a->all, "every kernel skcipher, not only the ones ublkcrypt's ciphers use");
  cmd->callback([a] { run_backends(*a); });
});

}  // namespace ublkcrypt

#include "backends/dpdk/eal.h"

#include <pthread.h>
#include <rte_cryptodev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>

namespace ublkcrypt {
namespace {

// Serialises EAL's start and device probing: neither is thread-safe in DPDK.
std::mutex& eal_mutex() {
  static std::mutex mutex;
  return mutex;
}

bool names_lcores(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a.starts_with("-l") || a.starts_with("-c") || a.starts_with("--lcores");
  });
}

unsigned first_allowed_cpu(const cpu_set_t& set) {
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) return cpu;
  return 0;
}

Status start_locked() {
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  const bool saved = pthread_getaffinity_np(pthread_self(), sizeof(affinity), &affinity) == 0;
  const char* variable = std::getenv(kDpdkEalArgsVariable);
  std::vector<std::string> args =
      eal_arguments(variable == nullptr ? "" : variable, saved ? first_allowed_cpu(affinity) : 0);
  args.insert(args.begin(), "ublkcrypt");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
  const int err = rte_errno;
  // EAL pins its caller to the main lcore; the caller is a thread of ours with work of its
  // own (and the parent of threads that inherit its affinity).
  if (saved) pthread_setaffinity_np(pthread_self(), sizeof(affinity), &affinity);
  if (rc < 0) {
    std::string joined;
    for (size_t i = 1; i < args.size(); ++i) joined += (i > 1 ? " " : "") + args[i];
    return Status(Errc::unsupported, fmt::format("dpdk: EAL did not start with \"{}\": {} (set {})",
                                                 joined, rte_strerror(err), kDpdkEalArgsVariable));
  }
  return Status::Ok();
}

Status started() {
  static Status status = start_locked();
  return status;
}

// The device's id when a cryptodev or its bus device has this name.
bool lookup(std::string_view name, uint8_t* id) {
  const std::string text(name);
  if (int found = rte_cryptodev_get_dev_id(text.c_str()); found >= 0) {
    *id = static_cast<uint8_t>(found);
    return true;
  }
  for (uint8_t dev = 0; dev < rte_cryptodev_count(); ++dev) {
    rte_cryptodev_info info{};
    rte_cryptodev_info_get(dev, &info);
    if (info.device != nullptr && text == rte_dev_name(info.device)) {
      *id = dev;
      return true;
    }
  }
  return false;
}

std::string present_devices() {
  std::string names;
  for (uint8_t dev = 0; dev < rte_cryptodev_count(); ++dev)
    names += (names.empty() ? "" : ", ") + std::string(rte_cryptodev_name_get(dev));
  return names.empty() ? "none" : names;
}

}  // namespace

bool dpdk_configured() {
  const char* variable = std::getenv(kDpdkEalArgsVariable);
  return variable != nullptr && *variable != '\0';
}

std::vector<std::string> eal_arguments(std::string_view variable, unsigned cpu) {
  std::vector<std::string> args = {"--no-shconf", "--no-telemetry", "--log-level=3"};
  std::vector<std::string> user;
  std::istringstream words{std::string(variable)};
  for (std::string word; words >> word;) user.push_back(word);
  if (user.empty()) user = {"--no-huge", "--no-pci", "-m", "128"};
  if (!names_lcores(user)) {
    args.push_back("-l");
    args.push_back(std::to_string(cpu));
  }
  args.insert(args.end(), user.begin(), user.end());
  return args;
}

Status start_eal() {
  std::lock_guard lock(eal_mutex());
  return started();
}

Status find_crypto_device(std::string_view name, uint8_t* id) {
  std::lock_guard lock(eal_mutex());
  if (Status s = started(); !s.ok()) return s;  // names dpdk and the cause
  const std::string who = fmt::format("dpdk:{}", name);
  if (lookup(name, id)) return Status::Ok();
  // Not there: a virtual device is created by probing its driver's name.
  const int rc = rte_dev_probe(std::string(name).c_str());
  if (rc == 0 && lookup(name, id)) return Status::Ok();
  return Status(Errc::not_found,
                fmt::format("{}: no such crypto device (probing it failed: {}; present: {})", who,
                            rc < 0 ? rte_strerror(-rc) : "not a crypto device", present_devices()));
}

Status list_crypto_devices(std::vector<CryptoDeviceListing>* out) {
  std::lock_guard lock(eal_mutex());
  if (Status s = started(); !s.ok()) return s;
  out->clear();
  for (uint8_t dev = 0; dev < rte_cryptodev_count(); ++dev) {
    rte_cryptodev_info info{};
    rte_cryptodev_info_get(dev, &info);
    out->push_back({dev, rte_cryptodev_name_get(dev), info.driver_name ? info.driver_name : "?",
                    info.max_nb_queue_pairs});
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

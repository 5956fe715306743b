// ublkcrypt status [NAME]: the live state of an open device, from its daemon's control
// socket (counters move while it runs); without a name, one line per open device.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_socket.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

// "kernel:virtio_crypto": the provider and, when it has one, the variant that serves.
std::string provider_label(const nlohmann::json& j) {
  std::string provider = j.value("provider", "");
  if (!j.value("variant", "").empty()) provider += ":" + j.value("variant", "");
  return provider;
}

// Every name whose server is alive, with its status answer; a server that dies or does not
// answer between the listing and the request is left out, as `dmsetup ls` would.
void run_status_all(bool json) {
  nlohmann::json all = nlohmann::json::array();
  for (const std::string& name : state_names()) {
    if (!name_is_served(name)) continue;
    std::string response;
    if (!control_request(socket_path(name), R"({"cmd":"status"})", 10000, &response).ok())
      continue;
    nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
    if (!j.is_object()) continue;
    j["name"] = name;
    all.push_back(std::move(j));
  }
  if (json) {
    std::printf("%s\n", all.dump(2).c_str());
    return;
  }
  for (const auto& j : all) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", j.value("name", "").c_str(),
                j.value("device", "").c_str(), j.value("backing", "").c_str(),
                j.value("cipher", "").c_str(), provider_label(j).c_str());
  }
}

void run_status(const std::string& name, bool json) {
  if (name.empty()) return run_status_all(json);
  if (Status s = check_name(name); !s.ok()) fail(s);
  if (!name_is_served(name)) {
    RunState st;
    if (read_state(name, &st).ok())
      fail(Status(Errc::not_found, "Device " + name + " is not active (its server, pid " +
                                       std::to_string(st.pid) +
                                       ", died; 'ublkcrypt open --recover " + name +
                                       "' takes over its disk, 'ublkcrypt close " + name + "' gives it up)"));
    fail(Status(Errc::not_found, "Device " + name + " is not active"));
  }
  std::string response;
  Status s = control_request(socket_path(name), R"({"cmd":"status"})", 10000, &response);
  if (!s.ok()) fail(s.in("status " + name));
  nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
  if (!j.is_object()) fail(Status(Errc::corrupt, "status " + name + ": bad answer from daemon"));
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  const auto& c = j["counters"];
  std::printf("%s is active.\n", link_path(name).c_str());
  std::printf("  device:      %s\n", j.value("device", "").c_str());
  std::printf("  backing:     %s\n", j.value("backing", "").c_str());
  std::printf("  type:        %s\n", j.value("type", "").c_str());
  std::printf("  cipher:      %s\n", j.value("cipher", "").c_str());
  std::printf("  keysize:     %u bits\n", j.value("key_bits", 0u));
  std::printf("  sector size: %u\n", j.value("sector_size", 0u));
  std::printf("  offset:      %llu sectors\n",
              static_cast<unsigned long long>(j.value("data_offset", uint64_t{0}) / 512));
  std::printf("  size:        %llu sectors\n",
              static_cast<unsigned long long>(j.value("size_bytes", uint64_t{0}) / 512));
  std::printf("  mode:        %s%s\n", j.value("read_only", false) ? "readonly" : "read/write",
              j.value("allow_discards", false) ? ", discards" : "");
  std::printf("  queues:      %u x depth %u\n", j.value("queues", 0u), j.value("depth", 0u));
  std::printf("  provider:    %s\n", provider_label(j).c_str());
  std::printf("  failovers:   %llu%s%s\n",
              static_cast<unsigned long long>(j.value("failovers", uint64_t{0})),
              j.value("last_failover", "").empty() ? "" : " (last: ",
              j.value("last_failover", "").empty() ? "" : (j.value("last_failover", "") + ")").c_str());
  if (j.value("recovery_timeout_s", 0u) > 0)
    std::printf("  recovery:    %u s, recoveries: %u\n", j.value("recovery_timeout_s", 0u),
                j.value("recoveries", 0u));
  else
    std::printf("  recovery:    off, recoveries: %u\n", j.value("recoveries", 0u));
  std::printf("  reads:       %llu (%llu bytes)\n",
              static_cast<unsigned long long>(c.value("reads", uint64_t{0})),
              static_cast<unsigned long long>(c.value("read_bytes", uint64_t{0})));
  std::printf("  writes:      %llu (%llu bytes)\n",
              static_cast<unsigned long long>(c.value("writes", uint64_t{0})),
              static_cast<unsigned long long>(c.value("write_bytes", uint64_t{0})));
  std::printf("  flushes:     %llu, discards: %llu, write zeroes: %llu, errors: %llu\n",
              static_cast<unsigned long long>(c.value("flushes", uint64_t{0})),
              static_cast<unsigned long long>(c.value("discards", uint64_t{0})),
              static_cast<unsigned long long>(c.value("write_zeroes", uint64_t{0})),
              static_cast<unsigned long long>(c.value("errors", uint64_t{0})));
  // Per provider, so a failover or a migrate shows which one did the work.
  if (j.contains("providers") && j["providers"].is_array()) {
    for (const auto& p : j["providers"]) {
      auto n = [&](const char* key) {
        return static_cast<unsigned long long>(p.value(key, uint64_t{0}));
      };
      std::printf("  %-12s %llu requests, %llu payload bytes, %llu bytes to device, "
                  "%llu from device, %llu errors (%s)\n",
                  (p.value("name", "") + ":").c_str(), n("requests"), n("payload_bytes"),
                  n("bytes_to_device"), n("bytes_from_device"), n("errors"),
                  p.value("placement", "").c_str());
    }
  }
}

}  // namespace

UBLKCRYPT_COMMAND("status", 22, [](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "status", "Show the state and counters of the device NAME; without NAME, list every open device");
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("name", *name, "name given to open");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([name, json] { run_status(*name, *json); });
});

}  // namespace ublkcrypt

// ublkcrypt status [NAME]: the live state of an open device, from its daemon's control
// socket (counters move while it runs); without a name, one line per open device.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/control_socket.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

// printf into a string.
template <typename... Args>
void append(std::string* text, const char* format, Args... args) {
  const int n = std::snprintf(nullptr, 0, format, args...);
  if (n <= 0) return;
  const size_t at = text->size();
  text->resize(at + size_t(n) + 1);
  std::snprintf(text->data() + at, size_t(n) + 1, format, args...);
  text->resize(at + size_t(n));
}

// "kernel:virtio_crypto": the provider and, when it has one, the variant that serves.
std::string provider_label(const nlohmann::json& j) {
  std::string provider = j.value("provider", "");
  if (!j.value("variant", "").empty()) provider += ":" + j.value("variant", "");
  return provider;
}

// The human-readable form, whole or not at all: throws nlohmann::json::exception on a field
// of the wrong type (read_control_reply turns that into a one-line error).
std::string format_status(const std::string& name, const nlohmann::json& j) {
  std::string text;
  const nlohmann::json& c = j.at("counters");
  append(&text, "%s is active.\n", link_path(name).c_str());
  append(&text, "  device:      %s\n", j.value("device", "").c_str());
  append(&text, "  backing:     %s\n", j.value("backing", "").c_str());
  if (const std::string header = j.value("header", ""); !header.empty())  // detached (open --header)
    append(&text, "  header:      %s\n", header.c_str());
  append(&text, "  type:        %s\n", j.value("type", "").c_str());
  append(&text, "  cipher:      %s\n", j.value("cipher", "").c_str());
  append(&text, "  keysize:     %u bits\n", j.value("key_bits", 0u));
  append(&text, "  sector size: %u\n", j.value("sector_size", 0u));
  append(&text, "  offset:      %llu sectors\n",
              static_cast<unsigned long long>(j.value("data_offset", uint64_t{0}) / 512));
  append(&text, "  size:        %llu sectors\n",
              static_cast<unsigned long long>(j.value("size_bytes", uint64_t{0}) / 512));
  // As cryptsetup status: only an IV offset there is (plain --skip).
  if (const uint64_t skipped = j.value("iv_offset", uint64_t{0}); skipped != 0)
    append(&text, "  skipped:     %llu sectors\n", static_cast<unsigned long long>(skipped));
  append(&text, "  mode:        %s%s%s\n", j.value("read_only", false) ? "readonly" : "read/write",
              j.value("allow_discards", false) ? ", discards" : "",
              j.value("state", "") == "suspended" ? " (suspended)" : "");
  append(&text, "  queues:      %u x depth %u\n", j.value("queues", 0u), j.value("depth", 0u));
  append(&text, "  provider:    %s\n", provider_label(j).c_str());
  append(&text, "  failovers:   %llu%s%s\n",
              static_cast<unsigned long long>(j.value("failovers", uint64_t{0})),
              j.value("last_failover", "").empty() ? "" : " (last: ",
              j.value("last_failover", "").empty() ? "" : (j.value("last_failover", "") + ")").c_str());
  if (j.value("recovery_timeout_s", 0u) > 0)
    append(&text, "  recovery:    %u s, recoveries: %u\n", j.value("recovery_timeout_s", 0u),
           j.value("recoveries", 0u));
  else
    append(&text, "  recovery:    off, recoveries: %u\n", j.value("recoveries", 0u));
  append(&text, "  reads:       %llu (%llu bytes)\n",
              static_cast<unsigned long long>(c.value("reads", uint64_t{0})),
              static_cast<unsigned long long>(c.value("read_bytes", uint64_t{0})));
  append(&text, "  writes:      %llu (%llu bytes)\n",
              static_cast<unsigned long long>(c.value("writes", uint64_t{0})),
              static_cast<unsigned long long>(c.value("write_bytes", uint64_t{0})));
  append(&text, "  flushes:     %llu, discards: %llu, write zeroes: %llu, errors: %llu\n",
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
      append(&text, "  %-12s %llu requests, %llu payload bytes, %llu bytes to device, "
                  "%llu from device, %llu errors (%s)\n",
                  (p.value("name", "") + ":").c_str(), n("requests"), n("payload_bytes"),
                  n("bytes_to_device"), n("bytes_from_device"), n("errors"),
                  p.value("placement", "").c_str());
    }
  }
  return text;
}

// Every name whose server is alive, with its status answer; a server that dies, does not
// answer or answers malformed between the listing and the request is left out, as
// `dmsetup ls` would.
void run_status_all(bool json) {
  nlohmann::json all = nlohmann::json::array();
  std::string lines;
  for (const std::string& name : state_names()) {
    if (!name_is_served(name)) continue;
    std::string response;
    if (!control_request(socket_path(name), R"({"cmd":"status"})", 10000, &response).ok())
      continue;
    (void)read_control_reply("status " + name, response, [&](const nlohmann::json& j) {
      // Both forms are built before either is kept, so a field of the wrong type (which
      // throws here and is caught by read_control_reply) leaves the entry out of both.
      std::string line = name + "\t" + j.value("device", "") + "\t" + j.value("backing", "") +
                         "\t" + j.value("cipher", "") + "\t" + provider_label(j) + "\n";
      nlohmann::json entry = j;
      entry["name"] = name;
      all.push_back(std::move(entry));
      lines += line;
    });
  }
  if (json)
    std::printf("%s\n", all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else
    std::fputs(lines.c_str(), stdout);
}

void run_status(const std::string& name, bool json) {
  if (name.empty()) return run_status_all(json);
  if (Status s = check_name(name); !s.ok()) fail(s);
  if (!name_is_served(name)) {
    RunState st;
    if (read_state(name, &st).ok())
      fail(Status(Errc::not_found, "Device " + name + " is not active (its server, pid " +
                                       std::to_string(st.pid) +
                                       ", died; 'ublkcrypt close " + name + "' cleans up)"));
    fail(Status(Errc::not_found, "Device " + name + " is not active"));
  }
  std::string response;
  Status s = control_request(socket_path(name), R"({"cmd":"status"})", 10000, &response);
  if (!s.ok()) fail(s.in("status " + name));
  s = read_control_reply("status " + name, response, [&](const nlohmann::json& j) {
    if (json) {
      std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::fputs(format_status(name, j).c_str(), stdout);
    }
  });
  if (!s.ok()) fail(s);
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

// ublkcrypt migrate NAME --backend BACKEND: move NAME's crypto session to another provider
// while the device stays up, e.g. back to a card that was pulled (the session failed over
// to software) and has returned: `migrate vol --backend kernel:virtio_crypto_aes_cbc`.
// Requests in flight finish where they are; new ones go to BACKEND. A backend that cannot
// serve the volume's cipher (no such provider or driver) is refused with the candidates and
// the session stays where it was.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

void run_migrate(const std::string& name, const std::string& backend) {
  if (Status s = check_name(name); !s.ok()) fail(s);
  if (backend.empty())
    fail(Status(Errc::invalid_argument, "migrate " + name + ": --backend must name a provider"));
  if (!name_is_served(name)) fail(Status(Errc::not_found, "Device " + name + " is not active"));
  nlohmann::json request = {{"cmd", "move"}, {"backend", backend}};
  // Binding a card opens its AF_ALG sockets: quick, but the machine may be loaded.
  std::string now;
  Status s = ask_server(name, request.dump(), 60000, "migrate " + name, [&](const nlohmann::json& j) {
    now = j.value("provider", "");
    if (!j.value("variant", "").empty()) now += ":" + j.value("variant", "");
  });
  if (!s.ok()) fail(s.message().rfind("migrate " + name, 0) == 0 ? s : s.in("migrate " + name));
  std::printf("%s: session now on %s\n", name.c_str(), now.c_str());
}

}  // namespace

UBLKCRYPT_COMMAND("migrate", 23, [](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "migrate", "Move the crypto session of NAME to another provider (e.g. back to a card)");
  auto name = std::make_shared<std::string>();
  auto backend = std::make_shared<std::string>();
  cmd->add_option("name", *name, "name given to open")->required();
  cmd->add_option("--backend", *backend, "provider to move to (software, kernel, kernel:DRIVER)")
      ->required();
  cmd->callback([name, backend] { run_migrate(*name, *backend); });
});

}  // namespace ublkcrypt

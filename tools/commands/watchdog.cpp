// ublkcrypt watchdog NAME --dev-id N --server-pid P --timeout S: not for people. Every
// server with user recovery starts one (tools/serve/recovery_watchdog.h); it fails the
// volume's I/O when no new server took over S seconds after P died.
#include "tools/command.h"
#include "tools/serve/recovery_watchdog.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("watchdog", 99, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("watchdog", "Give up on NAME's disk when its server is gone too long (internal)");
  cmd->group("");  // hidden from --help: the server starts it
  auto name = std::make_shared<std::string>();
  auto dev_id = std::make_shared<uint32_t>(0);
  auto pid = std::make_shared<pid_t>(0);
  auto timeout = std::make_shared<unsigned>(0);
  cmd->add_option("name", *name)->required();
  cmd->add_option("--dev-id", *dev_id)->required();
  cmd->add_option("--server-pid", *pid)->required();
  cmd->add_option("--timeout", *timeout)->required();
  cmd->callback([=] {
    Status s = run_recovery_watchdog(*name, *dev_id, *pid, *timeout);
    if (!s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt

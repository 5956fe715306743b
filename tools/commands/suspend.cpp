// ublkcrypt suspend NAME: cryptsetup luksSuspend for an open LUKS volume. I/O to the device
// is held (it waits, as on a suspended dm-crypt device) and the server wipes every copy of
// the volume key it holds, the one parked for recovery too; `ublkcrypt resume NAME` asks for
// a passphrase and lets the I/O go on. A server that dies while suspended leaves a disk no
// recovery can take over: the key is gone, which is the point.
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

void run_suspend(const std::string& name) {
  RunState st;
  if (Status s = read_served_state(name, &st); !s.ok()) fail(s);
  // Resume could not give a plain or TrueCrypt volume its key back.
  if (Status s = require_luks_header(st, "suspend"); !s.ok()) fail(s);
  // Requests already at a provider finish first: quick, unless a card is slow.
  if (Status s = ask_server(name, R"({"cmd":"suspend"})", 60000, "suspend " + name); !s.ok()) fail(s);
}

}  // namespace

UBLKCRYPT_COMMAND("suspend", 27, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("suspend", "Hold the I/O of NAME and wipe its volume key from memory (luksSuspend)");
  cmd->alias("luksSuspend");
  auto name = std::make_shared<std::string>();
  cmd->add_option("name", *name, "name given to open")->required();
  cmd->callback([name] { run_suspend(*name); });
});

}  // namespace ublkcrypt

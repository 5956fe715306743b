// ublkcrypt close NAME: ask NAME's daemon to stop its disk (flush, STOP_DEV, DEL_DEV) and
// wait until it is gone. A name whose daemon died is cleaned up instead.
#include <cstdio>

#include "tools/command.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/control_socket.h"
#include "tools/serve/dead_server.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

void run_close(const std::string& name) {
  if (Status s = check_name(name); !s.ok()) fail(s);
  switch (clean_up_dead_server(name)) {
    case DeadServerCleanup::served:
      break;
    case DeadServerCleanup::cleaned:
      std::fprintf(stderr, "ublkcrypt: %s: its server had died; removed the stale device\n", name.c_str());
      return;
    case DeadServerCleanup::not_active:
      fail(Status(Errc::not_found, "Device " + name + " is not active"));
  }
  std::string response;
  // Stopping flushes the backing and drains the queues: generous on a slow machine.
  Status s = control_request(socket_path(name), R"({"cmd":"close"})", 300000, &response);
  if (!s.ok()) fail(s.in("close " + name));
  if (s = read_control_reply("close " + name, response); !s.ok()) fail(s);
  // The daemon answers after DEL_DEV; wait for it to exit (its lock is released then).
  NameLock lock;
  s = NameLock::lock(lock_path(name), 60000, &lock);
  if (!s.ok()) fail(s.in("close " + name + ": daemon did not exit"));
}

}  // namespace

UBLKCRYPT_COMMAND("close", 21, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("close", "Stop and remove the device NAME (flushes first)");
  auto name = std::make_shared<std::string>();
  cmd->add_option("name", *name, "name given to open")->required();
  cmd->callback([name] { run_close(*name); });
});

}  // namespace ublkcrypt

// ublkcrypt close NAME: ask NAME's daemon to stop its disk (flush, STOP_DEV, DEL_DEV) and
// wait until it is gone. A name whose daemon died is cleaned up instead.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_socket.h"
#include "tools/serve/run_state.h"
#include "tools/serve/volume_server.h"

namespace ublkcrypt {
namespace {

void run_close(const std::string& name) {
  if (Status s = check_name(name); !s.ok()) fail(s);
  if (!name_is_served(name)) {
    // The name's lock, held while a dead server's leftovers go: an `open` of the same name
    // that starts meanwhile waits for it rather than have its new state removed. Taken
    // only if the lock was free: someone else holding it now is a server starting up.
    NameLock stale_lock;
    const bool ours = ::access(lock_path(name).c_str(), F_OK) == 0 &&
                      NameLock::try_lock(lock_path(name), &stale_lock).ok();
    if (ours && clean_stale_name(name)) {
      std::fprintf(stderr, "ublkcrypt: %s: its server had died; removed the stale device\n",
                   name.c_str());
      return;
    }
    if (ours || !name_is_served(name))
      fail(Status(Errc::not_found, "Device " + name + " is not active"));
  }
  std::string response;
  // Stopping flushes the backing and drains the queues: generous on a slow machine.
  Status s = control_request(socket_path(name), R"({"cmd":"close"})", 300000, &response);
  if (!s.ok()) fail(s.in("close " + name));
  nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
  if (!j.is_object()) fail(Status(Errc::corrupt, "close " + name + ": bad answer from daemon"));
  if (!j.value("ok", false))
    fail(Status(static_cast<Errc>(j.value("code", static_cast<int>(Errc::io_error))),
                j.value("error", "close " + name + " failed")));
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

// ublkcrypt close NAME: ask NAME's daemon to stop its disk (flush, STOP_DEV, DEL_DEV) and
// wait until it is gone. A name whose daemon died is cleaned up instead.
#include <cstdio>

#include "tools/command.h"
#include "tools/serve/volume_close.h"

namespace ublkcrypt {
namespace {

void run_close(const std::string& name) {
  CloseOutcome outcome;
  if (Status s = close_volume(name, &outcome); !s.ok()) fail(s);
  if (outcome == CloseOutcome::cleaned_dead)
    std::fprintf(stderr, "ublkcrypt: %s: its server had died; removed the stale device\n", name.c_str());
}

}  // namespace

UBLKCRYPT_COMMAND("close", 21, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("close", "Stop and remove the device NAME (flushes first)");
  auto name = std::make_shared<std::string>();
  cmd->add_option("name", *name, "name given to open")->required();
  cmd->callback([name] { run_close(*name); });
});

}  // namespace ublkcrypt

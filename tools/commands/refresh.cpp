// ublkcrypt refresh NAME: cryptsetup refresh for an open volume.
//
// dm-crypt reloads its table with the new activation flags. The 6.12 ublk driver applies a
// disk's limits at START_DEV only, so the server makes the disk again with the new discard
// setting (tools/serve/volume_server.cpp, as resize does): the disk must not be in use, or
// refresh is refused and nothing changes. As with cryptsetup, a LUKS2 header whose persistent
// flags ask for discards keeps them on unless --persistent says exactly what to store; with
// --persistent the flags go to the header after the disk took them. The --perf- flags tune
// dm-crypt's workqueues, which a ublk disk does not have: they are not taken.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/run_state.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {
namespace {

struct RefreshArgs {
  std::string name;
  bool allow_discards = false;
  bool persistent = false;
};

void run_refresh(const RefreshArgs& a) {
  RunState st;
  if (Status s = read_served_state(a.name, &st); !s.ok()) fail(s);
  if (a.persistent) {
    if (Status s = require_luks_header(st, "refresh --persistent"); !s.ok()) fail(s);
  }
  bool allow = a.allow_discards;
  // The header: to store the flags, or to read whether it asks for discards itself.
  const bool header_flags = !allow && !a.persistent && require_luks_header(st, "refresh").ok();
  std::unique_ptr<LuksVolume> volume;
  if (a.persistent || header_flags) {
    if (Status s = LuksVolume::load(st.backing_path, st.header_path, &volume); !s.ok()) fail(s.in("refresh " + a.name));
  }
  if (header_flags) {
    if (Status s = volume->allows_discards(&allow); !s.ok()) fail(s.in("refresh " + a.name));
  }
  if (allow != st.allow_discards) {
    const nlohmann::json request = {{"cmd", "refresh"}, {"allow_discards", allow}};
    // Stopping the disk flushes what it wrote: as long as a close may take.
    if (Status s = ask_server(a.name, request.dump(), 120000, "refresh " + a.name); !s.ok()) fail(s);
  }
  if (!a.persistent) return;
  if (Status s = volume->store_allow_discards(a.allow_discards); !s.ok()) fail(s.in("refresh " + a.name));
}

}  // namespace

UBLKCRYPT_COMMAND("refresh", 29, [](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "refresh", "Apply activation flags to the open volume NAME, which must not be in use; --persistent stores them");
  auto a = std::make_shared<RefreshArgs>();
  cmd->add_option("name", a->name, "name given to open")->required();
  cmd->add_flag("--allow-discards", a->allow_discards, "discards pass to the backing");
  cmd->add_flag("--persistent", a->persistent, "store the flags in the LUKS2 header for the next open");
  cmd->callback([a] { run_refresh(*a); });
});

}  // namespace ublkcrypt

// ublkcrypt refresh NAME: cryptsetup refresh for an open volume.
//
// dm-crypt reloads its table with the new activation flags. A ublk disk keeps the limits it
// started with: the 6.12 driver applies a disk's parameters at START_DEV only and has no
// command that changes them while the disk is live. So refresh changes no live flag. Asking
// for the discard setting the disk already has succeeds, and with --persistent stores it in
// the LUKS2 header, where the next open (ublkcrypt's or cryptsetup's) applies it. Asking
// for the other setting is refused with the reason, and nothing is written. The --perf-
// flags tune dm-crypt's workqueues, which a ublk disk does not have: they are not taken.
#include <fmt/format.h>

#include <memory>

#include "tools/command.h"
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
  if (a.allow_discards != st.allow_discards)
    fail(Status(Errc::unsupported,
                fmt::format("Device {}: discards are {} on the running disk, and the ublk driver cannot "
                            "change that while it runs: close it and open it again {}",
                            a.name, st.allow_discards ? "on" : "off",
                            st.allow_discards ? "without --allow-discards (with --persistent if the "
                                                "header asks for discards)"
                                              : "with --allow-discards")));
  if (!a.persistent) return;
  if (Status s = require_luks_header(st, "refresh --persistent"); !s.ok()) fail(s);
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(st.backing_path, st.header_path, &volume);
  if (s.ok()) s = volume->store_allow_discards(a.allow_discards);
  if (!s.ok()) fail(s.in("refresh " + a.name));
}

}  // namespace

UBLKCRYPT_COMMAND("refresh", 29, [](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "refresh", "Check NAME's activation flags against the running disk; --persistent stores them in the header");
  auto a = std::make_shared<RefreshArgs>();
  cmd->add_option("name", a->name, "name given to open")->required();
  cmd->add_flag("--allow-discards", a->allow_discards, "discards pass to the backing (as the disk was opened)");
  cmd->add_flag("--persistent", a->persistent, "store the flags in the LUKS2 header for the next open");
  cmd->callback([a] { run_refresh(*a); });
});

}  // namespace ublkcrypt

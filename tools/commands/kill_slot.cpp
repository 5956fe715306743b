// ublkcrypt kill-slot <device> <key slot>: like `cryptsetup luksKillSlot`: unless
// --batch-mode, a passphrase of another, remaining slot must be given first, so a user
// cannot lock themselves out by a typo in the slot number.
#include <fmt/format.h>

#include "tools/command.h"
#include "tools/confirmation.h"
#include "tools/load_volume.h"
#include "tools/passphrase.h"

namespace ublkcrypt {
namespace {

struct KillSlotArgs {
  std::string device;
  int slot = -1;
  std::string header_file;
  KeyFileOptions key;
  bool batch = false;
};

void run_kill_slot(KillSlotArgs& a) {
  std::unique_ptr<HeaderDevice> header;
  auto volume = load_volume_or_fail(a.device, a.header_file, &header);
  int active = volume->active_keyslots();
  Status s;
  if (!a.batch || !a.key.key_file.empty()) {
    SecureBytes passphrase;
    s = read_passphrase(a.key, "Enter any remaining passphrase: ", Verify::no, &passphrase);
    int opened = -1;
    if (s.ok()) s = volume->check_passphrase(passphrase.view(), std::nullopt, &opened);
    if (s.ok() && opened == a.slot && active > 1)
      s = Status(Errc::invalid_argument,
                 fmt::format("kill slot {} of {}: the passphrase given opens that slot; give a "
                             "passphrase of a slot that remains",
                             a.slot, a.device));
  }
  if (s.ok() && active == 1)
    s = confirm_destruction(a.batch,
                            fmt::format("This is the last keyslot. Device {} will become "
                                        "unusable after purging this key.",
                                        a.device),
                            fmt::format("kill slot {} of {}", a.slot, a.device));
  if (s.ok()) s = volume->kill_slot(a.slot);
  if (s.ok()) s = header->commit();
  if (!s.ok()) fail(header->named(s));
}

}  // namespace

UBLKCRYPT_COMMAND("kill-slot", 63, [](CLI::App& app) {
  auto a = std::make_shared<KillSlotArgs>();
  auto* cmd = app.add_subcommand("kill-slot", "<device> <key slot> wipes key with number <key slot> from LUKS device");
  cmd->alias("luksKillSlot");
  cmd->add_option("device", a->device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_option("key_slot", a->slot, "key slot number to destroy")->required();
  add_key_file_options(cmd, &a->key);
  cmd->add_flag("--batch-mode,-q", a->batch, "do not ask for a remaining passphrase or confirmation");
  add_header_option(cmd, &a->header_file);
  cmd->callback([a] { run_kill_slot(*a); });
});

}  // namespace ublkcrypt

// ublkcrypt remove-key <device> [<key file>]: like `cryptsetup luksRemoveKey`.
#include <fmt/format.h>

#include "tools/command.h"
#include "tools/confirmation.h"
#include "tools/load_volume.h"
#include "tools/passphrase.h"

namespace ublkcrypt {
namespace {

struct RemoveKeyArgs {
  std::string device;
  std::string key_file_positional;
  std::string header_file;
  KeyFileOptions key;
  bool batch = false;
};

void run_remove_key(RemoveKeyArgs& a) {
  if (!a.key_file_positional.empty()) a.key.key_file = a.key_file_positional;
  std::unique_ptr<HeaderDevice> header;
  auto volume = load_volume_or_fail(a.device, a.header_file, &header);
  SecureBytes passphrase;
  Status s = read_passphrase(a.key, "Enter passphrase to be deleted: ", Verify::no, &passphrase);
  int slot = -1;
  if (s.ok()) s = volume->check_passphrase(passphrase.view(), std::nullopt, &slot);
  int active = volume->active_keyslots();
  if (s.ok() && active == 1)
    s = confirm_destruction(a.batch,
                            fmt::format("This is the last keyslot. Device {} will become "
                                        "unusable after purging this key.",
                                        a.device),
                            "remove key from " + a.device);
  int removed = -1;
  if (s.ok()) s = volume->remove_key(passphrase.view(), &removed);
  passphrase.reset();
  if (s.ok()) s = header->commit();
  if (!s.ok()) fail(header->named(s));
}

}  // namespace

UBLKCRYPT_COMMAND("remove-key", 61, [](CLI::App& app) {
  auto a = std::make_shared<RemoveKeyArgs>();
  auto* cmd = app.add_subcommand("remove-key",
                                 "<device> [<key file>] removes supplied key or key file from LUKS device");
  cmd->alias("luksRemoveKey");
  cmd->add_option("device", a->device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_option("key_file", a->key_file_positional, "passphrase file (same as --key-file)");
  add_key_file_options(cmd, &a->key);
  cmd->add_flag("--batch-mode,-q", a->batch, "do not ask for confirmation");
  add_header_option(cmd, &a->header_file);
  cmd->callback([a] { run_remove_key(*a); });
});

}  // namespace ublkcrypt

// ublkcrypt change-key <device> [<new key file>]: like `cryptsetup luksChangeKey`.
#include "tools/command.h"
#include "tools/load_volume.h"
#include "tools/passphrase.h"
#include "tools/pbkdf_options.h"

namespace ublkcrypt {
namespace {

struct ChangeKeyArgs {
  std::string device;
  std::string new_key_file_positional;
  std::string header_file;
  KeyFileOptions key, new_key;
  PbkdfOptions pbkdf;
  int keyslot = -1;
};

void run_change_key(ChangeKeyArgs& a) {
  if (!a.new_key_file_positional.empty()) a.new_key.key_file = a.new_key_file_positional;
  std::unique_ptr<HeaderDevice> header;
  auto volume = load_volume_or_fail(a.device, a.header_file, &header);
  Status s = volume->set_pbkdf(a.pbkdf);
  if (!s.ok()) fail(s);
  std::optional<int> slot;
  if (a.keyslot >= 0) slot = a.keyslot;
  SecureBytes passphrase, new_passphrase;
  s = read_passphrase(a.key, "Enter passphrase to be changed: ", Verify::no, &passphrase);
  int opened = -1;
  if (s.ok()) s = volume->check_passphrase(passphrase.view(), slot, &opened);
  if (s.ok())
    s = read_passphrase(a.new_key, "Enter new passphrase: ", Verify::yes, &new_passphrase);
  int changed = -1;
  if (s.ok()) s = volume->change_key(passphrase.view(), new_passphrase.view(), slot, &changed);
  passphrase.reset();
  new_passphrase.reset();
  if (s.ok()) s = header->commit();
  if (!s.ok()) fail(header->named(s));
}

}  // namespace

UBLKCRYPT_COMMAND("change-key", 62, [](CLI::App& app) {
  auto a = std::make_shared<ChangeKeyArgs>();
  auto* cmd = app.add_subcommand("change-key",
                                 "<device> [<new key file>] changes supplied key or key file of LUKS device");
  cmd->alias("luksChangeKey");
  cmd->add_option("device", a->device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_option("new_key_file", a->new_key_file_positional,
                  "new passphrase file (same as --new-keyfile)");
  add_key_file_options(cmd, &a->key);
  add_new_key_file_options(cmd, &a->new_key);
  cmd->add_option("--key-slot,-S", a->keyslot, "change only this key slot");
  add_pbkdf_options(cmd, &a->pbkdf);
  add_header_option(cmd, &a->header_file);
  cmd->callback([a] { run_change_key(*a); });
});

}  // namespace ublkcrypt

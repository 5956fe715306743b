// ublkcrypt add-key <device> [<new key file>]: like `cryptsetup luksAddKey`.
#include <fmt/format.h>

#include "tools/command.h"
#include "tools/load_volume.h"
#include "tools/passphrase.h"
#include "tools/pbkdf_options.h"

namespace ublkcrypt {
namespace {

struct AddKeyArgs {
  std::string device;
  std::string new_key_file_positional;
  std::string header_file;
  KeyFileOptions key, new_key;
  PbkdfOptions pbkdf;
  int keyslot = -1;
};

void run_add_key(AddKeyArgs& a) {
  if (!a.new_key_file_positional.empty()) a.new_key.key_file = a.new_key_file_positional;
  std::unique_ptr<HeaderDevice> header;
  auto volume = load_volume_or_fail(a.device, a.header_file, &header);
  Status s = volume->set_pbkdf(a.pbkdf);
  if (!s.ok()) fail(s);
  SecureBytes passphrase, new_passphrase;
  s = read_passphrase(a.key, "Enter any existing passphrase: ", Verify::no, &passphrase);
  // Check the old passphrase before asking for a new one, as cryptsetup does.
  int opened = -1;
  if (s.ok()) s = volume->check_passphrase(passphrase.view(), std::nullopt, &opened);
  if (s.ok())
    s = read_passphrase(a.new_key, "Enter new passphrase for key slot: ", Verify::yes,
                        &new_passphrase);
  int added = -1;
  std::optional<int> slot;
  if (a.keyslot >= 0) slot = a.keyslot;
  if (s.ok()) s = volume->add_key(passphrase.view(), new_passphrase.view(), slot, &added);
  passphrase.reset();
  new_passphrase.reset();
  volume.reset();  // libcryptsetup lets go of the header before it is written back
  if (s.ok()) s = header->commit();
  if (!s.ok()) fail(header->named(s));
}

}  // namespace

UBLKCRYPT_COMMAND("add-key", 60, [](CLI::App& app) {
  auto a = std::make_shared<AddKeyArgs>();
  auto* cmd = app.add_subcommand("add-key", "<device> [<new key file>] adds a key to a LUKS device");
  cmd->alias("luksAddKey");
  cmd->add_option("device", a->device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_option("new_key_file", a->new_key_file_positional,
                  "new passphrase file (same as --new-keyfile)");
  add_key_file_options(cmd, &a->key);
  add_new_key_file_options(cmd, &a->new_key);
  cmd->add_option("--key-slot,-S", a->keyslot, "key slot for the new key (default: first free)");
  add_pbkdf_options(cmd, &a->pbkdf);
  add_header_option(cmd, &a->header_file);
  cmd->callback([a] { run_add_key(*a); });
});

}  // namespace ublkcrypt

// ublkcrypt header-backup <device> --header-backup-file FILE: like `cryptsetup
// luksHeaderBackup`.
#include "tools/command.h"
#include "tools/load_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("header-backup", 80, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto header = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("header-backup", "<device> backup LUKS device header and keyslots");
  cmd->alias("luksHeaderBackup");
  cmd->add_option("device", *device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_option("--header-backup-file", *file, "file to write (must not exist)")->required();
  add_header_option(cmd, header.get(), "back up this detached LUKS header (DEVICE holds only data)");
  cmd->callback([device, file, header] {
    std::unique_ptr<HeaderDevice> header_device;
    Status s = load_volume_or_fail(*device, *header, &header_device)->backup_header(*file);
    if (!s.ok()) fail(header_device->named(s));
  });
});

}  // namespace ublkcrypt

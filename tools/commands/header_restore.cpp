// ublkcrypt header-restore <device> --header-backup-file FILE: like `cryptsetup
// luksHeaderRestore`; asks before replacing an existing header.
#include <fmt/format.h>

#include "tools/command.h"
#include "tools/confirmation.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("header-restore", 81, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto batch = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("header-restore", "<device> restore LUKS device header and keyslots");
  cmd->alias("luksHeaderRestore");
  cmd->add_option("device", *device, "device or image file to restore onto")->required();
  cmd->add_option("--header-backup-file", *file, "file written by header-backup")->required();
  cmd->add_flag("--batch-mode,-q", *batch, "do not ask for confirmation");
  cmd->callback([device, file, batch] {
    Status s;
    if (probe_luks(*device).ok())
      s = confirm_destruction(*batch,
                              fmt::format("Device {} already contains a LUKS header. Replacing "
                                          "the header will destroy its existing keyslots.",
                                          *device),
                              "restore header of " + *device);
    if (s.ok()) s = restore_header(*device, *file);
    if (!s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt

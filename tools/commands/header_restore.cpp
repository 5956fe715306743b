// ublkcrypt header-restore <device> --header-backup-file FILE: like `cryptsetup
// luksHeaderRestore`; asks before replacing an existing header.
#include <fmt/format.h>

#include "tools/command.h"
#include "tools/confirmation.h"
#include "tools/header_device.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("header-restore", 81, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto batch = std::make_shared<bool>(false);
  auto header = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("header-restore", "<device> restore LUKS device header and keyslots");
  cmd->alias("luksHeaderRestore");
  cmd->add_option("device", *device, "device or image file to restore onto")->required();
  cmd->add_option("--header-backup-file", *file, "file written by header-backup")->required();
  cmd->add_flag("--batch-mode,-q", *batch, "do not ask for confirmation");
  add_header_option(cmd, header.get(), "restore into this detached LUKS header (DEVICE holds only data)");
  cmd->callback([device, file, batch, header] {
    const std::string& target = header->empty() ? *device : *header;
    Status s;
    if (probe_luks(*device, *header).ok())
      s = confirm_destruction(*batch,
                              fmt::format("Device {} already contains a LUKS header. Replacing "
                                          "the header will destroy its existing keyslots.",
                                          target),
                              "restore header of " + target);
    if (s.ok()) s = restore_header(*device, *file, *header);
    if (!s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt

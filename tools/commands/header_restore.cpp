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
  cmd->add_option("device", *device, "device, image file or rbd:POOL/IMAGE to restore onto")->required();
  cmd->add_option("--header-backup-file", *file, "file written by header-backup")->required();
  cmd->add_flag("--batch-mode,-q", *batch, "do not ask for confirmation");
  add_header_option(cmd, header.get(), "restore into this detached LUKS header (DEVICE holds only data)");
  cmd->callback([device, file, batch, header] {
    const std::string& target = header->empty() ? *device : *header;
    // An rbd image is restored in its header's shadow, then committed to the image in the
    // crash-safe order (volume/header_shadow.h).
    std::unique_ptr<HeaderDevice> header_device;
    Status s = HeaderDevice::open(*device, *header, &header_device);
    if (!s.ok()) fail(s);
    if (probe_luks(header_device->path(), header_device->header()).ok())
      s = confirm_destruction(*batch,
                              fmt::format("Device {} already contains a LUKS header. Replacing "
                                          "the header will destroy its existing keyslots.",
                                          target),
                              "restore header of " + target);
    if (s.ok()) s = restore_header(header_device->path(), *file, header_device->header());
    if (s.ok()) s = header_device->commit();
    if (!s.ok()) fail(header_device->named(s));
  });
});

}  // namespace ublkcrypt

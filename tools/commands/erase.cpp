// ublkcrypt erase <device>: like `cryptsetup erase` (luksErase): destroys every keyslot.
#include <fmt/format.h>

#include "tools/command.h"
#include "tools/confirmation.h"
#include "tools/load_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("erase", 70, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto batch = std::make_shared<bool>(false);
  auto header = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("erase", "<device> erase all keyslots (remove encryption key)");
  cmd->alias("luksErase");
  cmd->add_option("device", *device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_flag("--batch-mode,-q", *batch, "do not ask for confirmation");
  add_header_option(cmd, header.get());
  cmd->callback([device, batch, header] {
    std::unique_ptr<HeaderDevice> header_device;
    auto volume = load_volume_or_fail(*device, *header, &header_device);
    Status s = confirm_destruction(
        *batch,
        fmt::format("This operation will erase all keyslots on device {}.\nDevice will become "
                    "unusable after this operation.",
                    *device),
        "erase " + *device);
    if (s.ok()) s = volume->erase();
    if (s.ok()) s = header_device->commit();
    if (!s.ok()) fail(header_device->named(s));
  });
});

}  // namespace ublkcrypt

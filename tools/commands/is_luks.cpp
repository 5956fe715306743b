// ublkcrypt is-luks <device>: like `cryptsetup isLuks`: exit 0 if LUKS, 1 if not, silent
// unless --verbose.
#include <cstdio>

#include "tools/command.h"
#include "tools/header_device.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("is-luks", 50, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto verbose = std::make_shared<bool>(false);
  auto header = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("is-luks", "<device> tests <device> for a LUKS partition header");
  cmd->alias("isLuks");
  cmd->add_option("device", *device, "device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_flag("--verbose,-v", *verbose, "say why the answer is no");
  add_header_option(cmd, header.get(), "test this detached LUKS header instead of DEVICE");
  cmd->callback([device, verbose, header] {
    std::unique_ptr<HeaderDevice> header_device;
    Status s = HeaderDevice::open(*device, *header, &header_device);
    if (!s.ok()) fail(s);
    s = header_device->named(probe_luks(header_device->path(), header_device->header()));
    if (s.ok()) return;
    // "Not LUKS" is this verb's answer, not an error to print (a missing device still is).
    if (s.code() == Errc::corrupt && !*verbose) throw CLI::RuntimeError(exit_wrong_parameters);
    fail(s);
  });
});

}  // namespace ublkcrypt

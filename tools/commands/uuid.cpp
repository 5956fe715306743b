// ublkcrypt uuid <device>: like `cryptsetup luksUUID`.
#include <cstdio>

#include "tools/command.h"
#include "tools/load_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("uuid", 55, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto header = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("uuid", "<device> prints the UUID of a LUKS device");
  cmd->alias("luksUUID");
  cmd->add_option("device", *device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  add_header_option(cmd, header.get());
  cmd->callback([device, header] {
    std::unique_ptr<HeaderDevice> header_device;
    std::printf("%s\n", load_volume_or_fail(*device, *header, &header_device)->uuid().c_str());
  });
});

}  // namespace ublkcrypt

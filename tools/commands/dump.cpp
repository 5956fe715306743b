// ublkcrypt dump <device> [--json]: like `cryptsetup luksDump`.
#include <cstdio>

#include "tools/command.h"
#include "tools/load_volume.h"

namespace ublkcrypt {

UBLKCRYPT_COMMAND("dump", 40, [](CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto header_file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("dump", "<device> dumps LUKS partition information");
  cmd->alias("luksDump");
  cmd->add_option("device", *device, "LUKS device, image file or rbd:POOL/IMAGE")->required();
  cmd->add_flag("--json,--dump-json-metadata", *json, "print the LUKS2 metadata as JSON");
  add_header_option(cmd, header_file.get());
  cmd->callback([device, json, header_file] {
    std::unique_ptr<HeaderDevice> header;
    auto volume = load_volume_or_fail(*device, *header_file, &header);
    std::string out;
    Status s = *json ? volume->dump_json(&out) : volume->dump_text(&out);
    if (!s.ok()) fail(s);
    std::fputs(out.c_str(), stdout);
    if (*json) std::fputs("\n", stdout);
  });
});

}  // namespace ublkcrypt

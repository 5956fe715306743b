// ublkcrypt resize NAME: cryptsetup resize for an open volume. The volume grows to the end
// of its backing as the backing is now (after lvextend, truncate or rbd resize) or takes the
// size asked for; the filesystem on it is resized apart (resize2fs), as with dm-crypt.
//
// The 6.12 ublk driver cannot change a running disk's size, so the server stops the disk and
// makes it again under the same /dev/ublkbN (tools/serve/volume_server.cpp): the disk must not
// be in use. The key stays in the server: no passphrase is asked for.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

struct ResizeArgs {
  std::string name;
  uint64_t sectors = 0;       // --size: 512-byte sectors
  uint64_t device_bytes = 0;  // --device-size
};

void run_resize(const ResizeArgs& a) {
  if (a.sectors != 0 && a.device_bytes != 0)
    fail(Status(Errc::invalid_argument, "resize " + a.name + ": --size and --device-size cannot both be given"));
  if (a.sectors > UINT64_MAX / 512)
    fail(Status(Errc::invalid_argument, fmt::format("resize {}: --size {} sectors is too large", a.name, a.sectors)));
  const uint64_t size_bytes = a.device_bytes != 0 ? a.device_bytes : a.sectors * 512;
  RunState st;
  if (Status s = read_served_state(a.name, &st); !s.ok()) fail(s);
  const nlohmann::json request = {{"cmd", "resize"}, {"size_bytes", size_bytes}};
  // Stopping the disk flushes what it wrote: as long as a close may take.
  if (Status s = ask_server(a.name, request.dump(), 120000, "resize " + a.name); !s.ok()) fail(s);
}

}  // namespace

UBLKCRYPT_COMMAND("resize", 30, [](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "resize", "Resize the open volume NAME to its backing's end, or to --size; NAME must not be in use");
  auto a = std::make_shared<ResizeArgs>();
  cmd->add_option("name", a->name, "name given to open")->required();
  cmd->add_option("--size,-b", a->sectors, "new size in 512-byte sectors (default: to the backing's end)");
  cmd->add_option("--device-size", a->device_bytes, "new size in bytes, or with K/M/G/T (1024-based)")
      ->transform(CLI::AsSizeValue(false));
  cmd->callback([a] { run_resize(*a); });
});

}  // namespace ublkcrypt

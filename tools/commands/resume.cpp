// ublkcrypt resume NAME: cryptsetup luksResume for a volume `suspend` froze. The passphrase
// (asked, or --key-file) unlocks the volume key from the header as `open` does; the key
// reaches the server the way a recovering server gets it (tools/serve/key_handoff.h: a
// "user" key in the kernel keyring, root only), and the server resumes only if it is the
// key it had, then lets the held I/O go on.
#include <nlohmann/json.hpp>
#include <optional>

#include "base/key_process.h"
#include "tools/command.h"
#include "tools/passphrase.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/control_socket.h"
#include "tools/serve/key_handoff.h"
#include "tools/serve/run_state.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {
namespace {

struct ResumeArgs {
  std::string name;
  KeyFileOptions key;
  int key_slot = -1;
};

void run_resume(const ResumeArgs& a) {
  const std::string& name = a.name;
  RunState st;
  if (Status s = read_served_state(name, &st); !s.ok()) fail(s);
  if (Status s = require_luks_header(st, "resume"); !s.ok()) fail(s);
  // Asked before the passphrase: a volume that is not suspended needs none.
  std::string response;
  bool suspended = false;
  Status s = control_request(socket_path(name), R"({"cmd":"status"})", 10000, &response);
  if (s.ok())
    s = read_control_reply("status " + name, response,
                           [&](const nlohmann::json& j) { suspended = j.value("state", "") == "suspended"; });
  if (!s.ok()) fail(s.in("resume " + name));
  if (!suspended) fail(Status(Errc::invalid_argument, "Volume " + name + " is not suspended"));

  KeyProcessProtection protection;
  if (Status p = protect_key_process(&protection); !p.ok()) fail(p);
  SecureBytes passphrase;
  s = read_passphrase(a.key, "Enter passphrase for " + st.backing + ": ", Verify::no, &passphrase);
  if (!s.ok()) fail(s);
  UnlockedVolume volume;
  const std::optional<int> slot = a.key_slot >= 0 ? std::optional<int>(a.key_slot) : std::nullopt;
  s = unlock_volume(st.backing_path, passphrase.view(), slot, &volume, st.header_path);
  passphrase.reset();
  if (!s.ok()) fail(s);
  s = park_volume_key(name, volume);
  volume.key.reset();
  if (!s.ok()) fail(s.in("hand the key to the server of " + name));
  // The server checks the key, takes it, and keeps or discards the parked copy.
  s = control_request(socket_path(name), R"({"cmd":"resume"})", 60000, &response);
  if (!s.ok()) {
    discard_parked_volume_key(name);  // the server never saw it
    fail(s.in("resume " + name));
  }
  s = read_control_reply("resume " + name, response);
  if (!s.ok()) fail(s);
}

}  // namespace

UBLKCRYPT_COMMAND("resume", 28, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("resume", "Give a suspended NAME its volume key back and let its I/O go on (luksResume)");
  cmd->alias("luksResume");
  auto a = std::make_shared<ResumeArgs>();
  cmd->add_option("name", a->name, "name given to open")->required();
  add_key_file_options(cmd, &a->key);
  cmd->add_option("--key-slot,-S", a->key_slot, "try only this keyslot");
  cmd->callback([a] { run_resume(*a); });
});

}  // namespace ublkcrypt

// ublkcrypt attach-all [--crypttab FILE]: open every volume of a crypttab-format file
// (tools/crypttab.h) that is not open yet, in the file's order, as `open` opens one — each
// in its own daemon. Meant for boot: a line whose passphrase would be asked for is skipped
// with an error when standard input is not a terminal, rather than waiting for nobody.
// Running it again opens nothing new. The exit code is the worst of the lines' failures,
// leaving out those marked nofail.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "tools/command.h"
#include "tools/crypttab.h"
#include "tools/serve/daemon_start.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

Status attach(const CrypttabEntry& entry) {
  OpenOptions o = entry.open;
  if (Status s = check_name(o.name); !s.ok()) return s;
  if (o.key.key_file.empty() && !::isatty(STDIN_FILENO))
    return Status(Errc::permission, o.name + ": needs a passphrase and standard input is not a terminal; skipped");
  if (Status s = resolve_crypttab_device(entry.open.device, "/dev/disk/by-uuid", &o.device); !s.ok())
    return s.in(o.name);
  std::string disk;
  if (Status s = start_volume_daemon(o, &disk); !s.ok()) return s;
  std::printf("%s: opened as %s\n", o.name.c_str(), disk.c_str());
  return Status::Ok();
}

void run_attach_all(const std::string& file) {
  std::vector<CrypttabEntry> entries;
  if (Status s = read_crypttab(file, &entries); !s.ok()) fail(s);
  int worst = exit_ok;
  for (const CrypttabEntry& entry : entries) {
    if (!entry.error.ok()) {  // not understood: its nofail cannot be trusted either
      std::fprintf(stderr, "ublkcrypt: %s\n", entry.error.message().c_str());
      worst = std::max(worst, exit_code_for(entry.error.code()));
      continue;
    }
    const std::string& name = entry.open.name;
    if (entry.noauto) continue;
    if (check_name(name).ok() && name_is_served(name)) {
      std::printf("%s: already open\n", name.c_str());
      continue;
    }
    if (Status s = attach(entry); !s.ok()) {
      std::fprintf(stderr, "ublkcrypt: %s: %s%s\n", entry.where.c_str(), s.message().c_str(),
                   entry.nofail ? " (nofail)" : "");
      if (!entry.nofail) worst = std::max(worst, exit_code_for(s.code()));
    }
  }
  std::fflush(nullptr);
  if (worst != exit_ok) throw CLI::RuntimeError(worst);
}

}  // namespace

UBLKCRYPT_COMMAND("attach-all", 25, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("attach-all", "Open every volume of a crypttab-format file not open yet");
  auto file = std::make_shared<std::string>(kDefaultCrypttab);
  cmd->add_option("--crypttab", *file, "crypttab(5)-format file")->capture_default_str();
  cmd->callback([file] { run_attach_all(*file); });
});

}  // namespace ublkcrypt

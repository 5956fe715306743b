// ublkcrypt detach-all [--crypttab FILE]: close every open volume of a crypttab-format file
// (tools/crypttab.h), in reverse order — a volume stacked on an earlier one goes first —
// as `close` closes one. Names not open are passed by. The exit code is the worst of the
// lines' failures, leaving out those marked nofail.
#include <algorithm>
#include <cstdio>

#include "tools/command.h"
#include "tools/crypttab.h"
#include "tools/serve/volume_close.h"

namespace ublkcrypt {
namespace {

void run_detach_all(const std::string& file) {
  std::vector<CrypttabEntry> entries;
  if (Status s = read_crypttab(file, &entries); !s.ok()) fail(s);
  int worst = exit_ok;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const CrypttabEntry& entry = *it;
    if (!entry.error.ok()) {
      std::fprintf(stderr, "ublkcrypt: %s\n", entry.error.message().c_str());
      worst = std::max(worst, exit_code_for(entry.error.code()));
      continue;
    }
    const std::string& name = entry.open.name;
    CloseOutcome outcome;
    Status s = close_volume(name, &outcome);
    if (s.code() == Errc::not_found) continue;  // not open
    if (!s.ok()) {
      std::fprintf(stderr, "ublkcrypt: %s: %s%s\n", entry.where.c_str(), s.message().c_str(),
                   entry.nofail ? " (nofail)" : "");
      if (!entry.nofail) worst = std::max(worst, exit_code_for(s.code()));
      continue;
    }
    std::printf("%s: %s\n", name.c_str(),
                outcome == CloseOutcome::closed ? "closed" : "its server had died; removed the stale device");
  }
  std::fflush(nullptr);
  if (worst != exit_ok) throw CLI::RuntimeError(worst);
}

}  // namespace

UBLKCRYPT_COMMAND("detach-all", 26, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("detach-all", "Close every open volume of a crypttab-format file, last first");
  auto file = std::make_shared<std::string>(kDefaultCrypttab);
  cmd->add_option("--crypttab", *file, "crypttab(5)-format file")->capture_default_str();
  cmd->callback([file] { run_detach_all(*file); });
});

}  // namespace ublkcrypt

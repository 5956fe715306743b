// ublkcrypt: the command line. Verbs live in tools/commands/, one per file.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/command.h"

namespace ublkcrypt {

std::vector<CommandSpec>& command_specs() {
  static std::vector<CommandSpec> specs;
  return specs;
}

void fail(const Status& status) {
  std::fprintf(stderr, "ublkcrypt: %s\n", status.message().c_str());
  throw CLI::RuntimeError(exit_code_for(status.code()));
}

}  // namespace ublkcrypt

int main(int argc, char** argv) {
  using namespace ublkcrypt;
  CLI::App app{"ublkcrypt: encrypted block devices in user space (ublk), LUKS2 compatible.\n"
               "Crypto runs on the host CPU, an accelerator card, or a self-encrypting drive."};
  app.require_subcommand(1);
  app.fallthrough();
  // Which Ceph cluster and cephx user an rbd:POOL/IMAGE backing is reached as, before or
  // after the verb. Ceph's own channels carry them (CEPH_CONF, CEPH_ARGS' --id), so a
  // server forked by open and every librados handle see the same, and the environment
  // alone still works as with Ceph's tools.
  app.add_option_function<std::string>(
      "--ceph-conf", [](const std::string& conf) { ::setenv("CEPH_CONF", conf.c_str(), 1); },
      "Ceph configuration for rbd: backings (default $CEPH_CONF, then /etc/ceph/ceph.conf)");
  app.add_option_function<std::string>(
      "--ceph-id",
      [](const std::string& id) {
        const char* args = std::getenv("CEPH_ARGS");
        const std::string with_id = (args != nullptr ? std::string(args) + " " : "") + "--id " + id;
        ::setenv("CEPH_ARGS", with_id.c_str(), 1);
      },
      "cephx user for rbd: backings, without 'client.' (default CEPH_ARGS' --id, then admin)");
  auto& specs = command_specs();
  std::sort(specs.begin(), specs.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.order < b.order; });
  for (const CommandSpec& spec : specs) spec.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a verb failed; fail() already printed why
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0 to CLI11; a real parse error gets
    // one line and cryptsetup's "wrong parameters", not CLI11's own codes (100+).
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "ublkcrypt: %s (see 'ublkcrypt --help')\n", e.what());
    return exit_wrong_parameters;
  }
  return 0;
}

#include "tools/pbkdf_options.h"

namespace ublkcrypt {

void add_pbkdf_options(CLI::App* cmd, PbkdfOptions* o) {
  cmd->add_option("--pbkdf", o->type, "key derivation: argon2id, argon2i or pbkdf2")
      ->capture_default_str();
  cmd->add_option("--iter-time,-i", o->iter_time_ms,
                  "milliseconds to spend deriving a keyslot key (default: 2000)");
  cmd->add_option("--pbkdf-force-iterations", o->force_iterations,
                  "fixed iteration count, no benchmark (argon2: time cost)");
  cmd->add_option("--pbkdf-memory", o->memory_kib,
                  "argon2 memory cost in KiB (default: up to 1048576)");
}

}  // namespace ublkcrypt

#include "tools/confirmation.h"

#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>

namespace ublkcrypt {

Status confirm_destruction(bool batch_mode, const std::string& warning, const std::string& action) {
  if (batch_mode) return Status::Ok();
  if (!::isatty(STDIN_FILENO))
    return Status(Errc::invalid_argument,
                  fmt::format("{}: operation aborted ({}; no terminal to confirm on, use "
                              "--batch-mode)",
                              action, warning));
  std::fprintf(stderr, "\nWARNING!\n========\n%s\n\nAre you sure? (Type 'yes' in capital letters): ",
               warning.c_str());
  std::fflush(stderr);
  char answer[16] = {};
  if (std::fgets(answer, sizeof answer, stdin) == nullptr || std::string(answer) != "YES\n")
    return Status(Errc::invalid_argument, fmt::format("{}: operation aborted", action));
  return Status::Ok();
}

}  // namespace ublkcrypt

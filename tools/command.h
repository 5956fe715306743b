// One CLI verb per file in tools/commands/. Each file registers itself with
// UBLKCRYPT_COMMAND; main.cpp knows no verb by name, so adding a verb edits nothing shared.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "tools/exit_codes.h"

namespace ublkcrypt {

struct CommandSpec {
  std::string name;
  int order;  // position in --help (lower first), so verbs list like cryptsetup's
  // Adds the subcommand and its options to `app`; its callback runs the verb and reports
  // failure with fail() below.
  std::function<void(CLI::App& app)> setup;
};

std::vector<CommandSpec>& command_specs();

struct CommandRegistration {
  explicit CommandRegistration(CommandSpec spec) { command_specs().push_back(std::move(spec)); }
};

#define UBLKCRYPT_COMMAND_CONCAT2(a, b) a##b
#define UBLKCRYPT_COMMAND_CONCAT(a, b) UBLKCRYPT_COMMAND_CONCAT2(a, b)
#define UBLKCRYPT_COMMAND(name, order, setup)                                  \
  static ::ublkcrypt::CommandRegistration UBLKCRYPT_COMMAND_CONCAT(            \
      ublkcrypt_command_, __LINE__)(::ublkcrypt::CommandSpec{name, order, setup})

// Prints "ublkcrypt: <message>" on stderr and ends the verb with the exit code for the
// status's class. Never returns.
[[noreturn]] void fail(const Status& status);

}  // namespace ublkcrypt

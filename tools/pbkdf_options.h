// cryptsetup's key-derivation options (--pbkdf, --iter-time, --pbkdf-force-iterations,
// --pbkdf-memory) for the verbs that create keyslots: format, add-key, change-key.
#pragma once

#include <CLI/CLI.hpp>

#include "volume/pbkdf.h"

namespace ublkcrypt {

void add_pbkdf_options(CLI::App* cmd, PbkdfOptions* options);

}  // namespace ublkcrypt

// Confirmation before destroying data, as cryptsetup asks: the user types YES in capital
// letters on the terminal. --batch-mode skips the question. Without a terminal and without
// --batch-mode the answer is no: a script must say --batch-mode to destroy data.
#pragma once

#include <string>

#include "base/status.h"

namespace ublkcrypt {

// ok if `batch_mode` or the user typed YES after `warning`; otherwise invalid_argument
// "<action>: operation aborted (...)" (exit 1, as cryptsetup).
Status confirm_destruction(bool batch_mode, const std::string& warning, const std::string& action);

}  // namespace ublkcrypt

// What a device already holds, so `format` can refuse to overwrite it without
// confirmation, as cryptsetup does. Small on purpose: the LUKS header (through
// libcryptsetup) and the signatures of the filesystems and swap a user is likely to lose.
#pragma once

#include <string>

#include "base/status.h"

namespace ublkcrypt {

// Stores a short description ("a LUKS2 header", "an ext2/3/4 filesystem", "swap space") of what
// `device` holds, or "" if no known signature is found.
Status describe_existing_content(const std::string& device, std::string* what);

}  // namespace ublkcrypt

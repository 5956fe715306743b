// How a passphrase is stretched into a keyslot key: cryptsetup's --pbkdf options.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

struct crypt_pbkdf_type;

namespace ublkcrypt {

struct PbkdfOptions {
  std::string type = "argon2id";   // "argon2id", "argon2i" or "pbkdf2"
  uint32_t iter_time_ms = 0;       // 0: libcryptsetup's default (2000 ms)
  uint32_t force_iterations = 0;   // benchmark skipped when set (tests, slow machines)
  uint32_t memory_kib = 0;         // argon2 only; 0: default (up to 1 GiB)
};

// invalid_argument naming the option if `o` is not usable for `luks_type` ("LUKS1"/"LUKS2").
Status check_pbkdf(const PbkdfOptions& o, const std::string& luks_type);

// libcryptsetup's form, starting from its defaults for `luks_type`.
crypt_pbkdf_type to_crypt_pbkdf(const PbkdfOptions& o, const std::string& luks_type);

}  // namespace ublkcrypt

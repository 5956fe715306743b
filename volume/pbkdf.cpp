#include "volume/pbkdf.h"

#include <libcryptsetup.h>

#include <fmt/format.h>

namespace ublkcrypt {

Status check_pbkdf(const PbkdfOptions& o, const std::string& luks_type) {
  if (o.type != "argon2id" && o.type != "argon2i" && o.type != "pbkdf2")
    return Status(Errc::invalid_argument,
                  fmt::format("pbkdf {}: unknown (use argon2id, argon2i or pbkdf2)", o.type));
  if (luks_type == CRYPT_LUKS1 && o.type != "pbkdf2")
    return Status(Errc::invalid_argument,
                  fmt::format("pbkdf {}: LUKS1 supports only pbkdf2", o.type));
  if (o.memory_kib != 0 && o.type == "pbkdf2")
    return Status(Errc::invalid_argument, "--pbkdf-memory: only for argon2 (not pbkdf2)");
  return Status::Ok();
}

crypt_pbkdf_type to_crypt_pbkdf(const PbkdfOptions& o, const std::string& luks_type) {
  crypt_pbkdf_type p = *crypt_get_pbkdf_default(luks_type == CRYPT_LUKS1 ? CRYPT_LUKS1
                                                                         : CRYPT_LUKS2);
  p.type = o.type == "pbkdf2"    ? CRYPT_KDF_PBKDF2
           : o.type == "argon2i" ? CRYPT_KDF_ARGON2I
                                 : CRYPT_KDF_ARGON2ID;
  if (o.type == "pbkdf2") {
    p.max_memory_kb = 0;
    p.parallel_threads = 0;
  }
  if (o.iter_time_ms != 0) p.time_ms = o.iter_time_ms;
  if (o.memory_kib != 0) p.max_memory_kb = o.memory_kib;
  if (o.force_iterations != 0) {
    p.iterations = o.force_iterations;
    p.time_ms = 0;
    p.flags |= CRYPT_PBKDF_NO_BENCHMARK;
  }
  return p;
}

}  // namespace ublkcrypt

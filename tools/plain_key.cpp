#include "tools/plain_key.h"

#include <fmt/format.h>

namespace ublkcrypt {

PlainKeyRule plain_key_rule(const KeyFileOptions& key, const std::string& hash) {
  const bool from_file = !key.key_file.empty() && key.key_file != "-";
  PlainKeyRule rule;
  // cryptsetup never hashes a key file other than standard input ("temporary hack" in its
  // source since 1.x, kept for compatibility), and "plain" names no hash.
  rule.hash = from_file || hash == "plain" ? "" : hash;
  rule.raw_key_file = !key.key_file.empty() && rule.hash.empty();
  return rule;
}

Status read_plain_key(const KeyFileOptions& key, const std::string& device, PlainParams* params,
                      SecureBytes* out) {
  const PlainKeyRule rule = plain_key_rule(key, params->hash);
  params->hash = rule.hash;
  if (rule.raw_key_file) {
    CipherSpec spec;
    if (Status s = plain_cipher_spec(*params, &spec); !s.ok()) return s;
    return read_raw_key(key, spec.key_bytes,
                        fmt::format("the {}-bit key of {}", spec.key_bytes * 8, spec.name()), out);
  }
  return read_passphrase(key, "Enter passphrase for " + device + ": ", Verify::no, out);
}

}  // namespace ublkcrypt

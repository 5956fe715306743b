// The key of `open --type plain`, read by cryptsetup's rules for plain volumes (2.6's
// action_open_plain), so that the options that open a volume in cryptsetup open it here:
//   --key-file FILE  the raw key: exactly key-size bytes after --keyfile-offset; --hash and
//                    --keyfile-size do not apply (cryptsetup ignores them with a warning)
//   --key-file -     a passphrase from standard input (up to --keyfile-size), hashed with
//                    --hash; with --hash plain, exactly key-size bytes of raw key
//   neither          a passphrase asked for (tools/passphrase.h), hashed with --hash; with
//                    --hash plain its first key-size bytes are the key, zero-padded
// Never from argv.
#pragma once

#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "tools/passphrase.h"
#include "volume/plain_volume.h"

namespace ublkcrypt {

// What the rules above make of the options, before anything is read.
struct PlainKeyRule {
  std::string hash;        // the hash that applies; "" = the bytes read are the key
  bool raw_key_file = false;  // exactly key-size bytes of key file, all of them there
};
PlainKeyRule plain_key_rule(const KeyFileOptions& key, const std::string& hash);

// Reads the key material for `params` from `key` and sets params->hash to the hash that
// applies, so that unlock_plain_volume(device, *params, out->view(), ...) derives the key
// cryptsetup would. `device` is named in the prompt.
Status read_plain_key(const KeyFileOptions& key, const std::string& device, PlainParams* params,
                      SecureBytes* out);

}  // namespace ublkcrypt

// UnlockedVolume: everything the block device needs to serve a LUKS volume, obtained from
// its header and one keyslot WITHOUT activating dm-crypt. This is the seam between the
// volume layer and `ublkcrypt open`:
//
//   SecureBytes passphrase;                      // tools/passphrase.h reads it
//   UnlockedVolume volume;
//   Status s = unlock_volume("/dev/sdb", passphrase.view(), std::nullopt, &volume);
//   EngineConfig config;
//   config.data_offset = volume.data_offset_bytes;
//   config.size_bytes = volume.size_bytes;
//   ... registry.open_session(volume.spec, volume.key.view(), ...)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "backends/cipher_spec.h"
#include "base/secure_bytes.h"
#include "base/status.h"

namespace ublkcrypt {

struct UnlockedVolume {
  CipherSpec spec;                 // cipher, key size, sector size, iv_offset from the header
  uint64_t data_offset_bytes = 0;  // where decrypted sector 0 lives on the backing device
  uint64_t size_bytes = 0;         // decrypted device size (segment size, or to device end)
  SecureBytes key;                 // the volume key, mlock'ed; wiped when this is destroyed
  int keyslot = -1;                // the keyslot the passphrase opened
  std::string uuid;                // LUKS header UUID
  std::string label;               // LUKS2 label, may be empty
  bool allow_discards = false;     // the header's persistent allow-discards flag (LUKS2)
};

// Loads the LUKS2 (or LUKS1) header of `device` (block device or image file), opens the
// keyslot `keyslot` (any slot if nullopt) with `passphrase` and fills `out`. Never
// activates dm-crypt, never prints. Failures, one line each:
//   permission  wrong passphrase ("wrong passphrase for /dev/sdb (no key slot matches)")
//   not_found   device missing, or the asked keyslot inactive
//   corrupt     not a LUKS device / both headers destroyed
//   unsupported a cipher ublkcrypt cannot serve, or a LUKS2 requirement flag (a
//               reencryption in progress, a newer feature), named in the message
//   permission  also a non-empty passphrase for a keyslot stored in the clear (cipher_null
//               keyslot area): as cryptsetup, only the empty passphrase opens one
// A data segment with cipher_null unlocks (spec.mode null): whether to serve it unencrypted
// is the caller's decision (`open --allow-null-cipher`).
//   io_error    device shorter than the header's data segment (truncated)
// On failure `out->key` is empty and no copy of the key or passphrase remains.
// A non-empty `header` is a detached header (cryptsetup's --header): the header is read
// there and `device` holds only the data (a data segment at offset 0 by cryptsetup's default).
Status unlock_volume(const std::string& device, std::span<const uint8_t> passphrase,
                     std::optional<int> keyslot, UnlockedVolume* out, const std::string& header = "");

}  // namespace ublkcrypt

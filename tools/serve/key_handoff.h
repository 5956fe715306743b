// KeyHandoff: how a server that dies leaves its volume to the next one without a
// passphrase. After unlocking, the server parks what the next server needs — the cipher,
// the data segment and the volume key — in the kernel keyring as one "user" key named
// "ublkcrypt:NAME" (base/kernel_keyring.h: root only, never swapped, in no core dump);
// `open --recover NAME` reads it back into locked memory. `close`, and the watchdog that
// gives up on a device nobody recovered, discard it. docs/recovery.md weighs this against
// a supervisor process that would hold the key instead.
#pragma once

#include <span>
#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {

// The keyring description for volume `name`.
std::string handoff_key_description(const std::string& name);

// Stores `volume`'s spec, data offset, size and key for `name`, replacing an older one.
Status park_volume_key(const std::string& name, const UnlockedVolume& volume);
// Reads them back (the key into locked memory); the parked copy stays for a next recovery.
// not_found when nothing is parked for `name`.
Status fetch_parked_volume_key(const std::string& name, UnlockedVolume* out);
// Removes the parked copy; quiet when there is none.
void discard_parked_volume_key(const std::string& name);

// Discards the key this server parked if its setup fails before keep(): a volume that
// never came up leaves nothing in the keyring.
class ParkedKeyGuard {
 public:
  ParkedKeyGuard() = default;
  ~ParkedKeyGuard() {
    if (!name_.empty()) discard_parked_volume_key(name_);
  }
  ParkedKeyGuard(const ParkedKeyGuard&) = delete;
  ParkedKeyGuard& operator=(const ParkedKeyGuard&) = delete;
  void arm(const std::string& name) { name_ = name; }
  void keep() { name_.clear(); }

 private:
  std::string name_;
};

// The parked form, exposed for tests: a fixed little header, the cipher name, the key.
Status encode_handoff(const UnlockedVolume& volume, SecureBytes* out);
Status decode_handoff(std::span<const uint8_t> bytes, UnlockedVolume* out);

}  // namespace ublkcrypt

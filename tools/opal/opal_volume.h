// LUKS2 volumes on self-encrypting drives: `format --hw-opal` / `--hw-opal-only` and the
// open/close half (unlock the Opal range with the key from the keyslot, lock it again).
// The on-disk side is volume/opal_segment.h; this file drives the drive.
//
// Credentials: format signs in as Admin1 (the password set by `ublkcrypt opal setup`),
// sets up Locking range N over the data segment, crypto-erases it (GenKey), enables UserN
// with a password derived from the new volume key, and gives UserN that range's lock and
// unlock ACEs. Open and close sign in as UserN only: the admin password is never needed to
// use a volume, and no password is stored anywhere but as the keyslot-protected volume key.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "engine/storage.h"
#include "tools/opal/opal_device.h"
#include "tools/passphrase.h"
#include "volume/format.h"
#include "volume/opal_segment.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {

struct OpalFormatOptions {
  bool hw_opal = false;       // drive + software cipher
  bool hw_opal_only = false;  // drive alone (segment cipher_null)
  KeyFileOptions admin_key;   // Admin1 password: terminal, or --opal-admin-key-file
  uint32_t range = 1;         // Locking range (and UserN) for the volume
  uint64_t length = 0;        // blocks; 0 = from the header's end to the end of the drive

  bool enabled() const { return hw_opal || hw_opal_only; }
};

// --hw-opal, --hw-opal-only, --opal-admin-key-file, --opal-range, --opal-length.
void add_opal_format_options(CLI::App* cmd, OpalFormatOptions* options);

// `ublkcrypt format --hw-opal[-only] DEVICE`: asks for confirmation (unless `batch`), the
// Admin1 password and the new passphrase (from `passphrase`), then sets up the range and
// writes the header. The drive must be owned and its Locking SP active (`opal setup`).
Status format_opal_volume(const std::string& device, const FormatOptions& options, const OpalFormatOptions& opal,
                          const KeyFileOptions& passphrase, bool batch);

// An Opal range unlocked for an open volume. Holds the UserN password (derived, in locked
// memory) until close locks the range again; the destructor locks it too if lock() was not
// called, so a failed open leaves nothing unlocked.
class OpalRangeHold {
 public:
  ~OpalRangeHold();
  OpalRangeHold(const OpalRangeHold&) = delete;
  OpalRangeHold& operator=(const OpalRangeHold&) = delete;

  // The data path: the drive's plaintext (through the same emulated drive object).
  Status open_storage(bool read_only, std::unique_ptr<Storage>* out);
  // The provider the volume's session needs: "opal" (pass-through) for hw-opal-only.
  std::string backend() const { return segment_ && segment_->hw_only() ? "opal" : ""; }
  // Locks the range again (close).
  Status lock();

 private:
  friend Status unlock_backing_volume(const std::string&, Passphrase, std::optional<int>, UnlockedVolume*,
                                      std::unique_ptr<OpalRangeHold>*, const std::string&);
  OpalRangeHold() = default;
  std::unique_ptr<OpalDevice> device_;
  std::optional<OpalSegment> segment_;  // none: an emulated drive holding an ordinary volume
  SecureBytes password_;
  bool unlocked_ = false;
};

// unlock_volume() for every backing `open` accepts: an ordinary LUKS device (`*hold`
// stays null), an emulated drive "emu:FILE", or a volume whose header carries the
// ublkcrypt-opal token — then the range is unlocked as UserN and `*hold` keeps it. With a
// detached `header` (non-empty) the device is an ordinary one: `format --hw-opal` writes
// its header onto the drive, so no detached header carries the token.
Status unlock_backing_volume(const std::string& device, Passphrase passphrase, std::optional<int> keyslot,
                             UnlockedVolume* out, std::unique_ptr<OpalRangeHold>* hold,
                             const std::string& header = "");

}  // namespace ublkcrypt

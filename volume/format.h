// Formatting a new LUKS volume: a fresh header, a random volume key, one keyslot.
// Defaults are cryptsetup's, so a volume formatted here looks like one `cryptsetup
// luksFormat` would make.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "volume/luks_volume.h"
#include "volume/pbkdf.h"

namespace ublkcrypt {

struct FormatOptions {
  std::string type = "luks2";            // "luks2" or "luks1"
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;               // aes-xts-plain64 with 512 bits is AES-256
  uint32_t sector_size = 0;              // 0: libcryptsetup's choice (512, or 4096 for 4K drives)
  PbkdfOptions pbkdf;
  std::string label;                     // LUKS2 only
  std::optional<int> keyslot;            // slot for the first passphrase; nullopt: slot 0
  // LUKS2: the data offset a multiple of this (an rbd image's object size keeps header
  // and data in different objects); 0: libcryptsetup's choice from the device.
  uint64_t data_alignment_bytes = 0;
  // A detached header (cryptsetup's `luksFormat --header`): the header goes to this file or
  // device (a missing file is created, mode 0600, as cryptsetup creates it) and the device
  // holds only data, from offset 0 unless data_offset_sectors says otherwise. "": the
  // header at the start of the device.
  std::string header;
  // cryptsetup's --offset: where the data starts on the device, in 512-byte sectors.
  std::optional<uint64_t> data_offset_sectors;
};

// invalid_argument / unsupported if `options` could not make a volume ublkcrypt can serve.
Status check_format_options(const FormatOptions& options);

// Formats `device` and adds `passphrase` as its first keyslot; `out` (optional) receives the
// loaded new volume. Checks the cipher against what ublkcrypt can serve BEFORE writing
// anything, so a refused request leaves the device untouched. Does not ask about existing
// content: the caller (the CLI) checks volume/existing_content.h and confirms first.
Status format_volume(const std::string& device, const FormatOptions& options,
                     Passphrase passphrase, std::unique_ptr<LuksVolume>* out);

}  // namespace ublkcrypt

// LUKS2 on a self-encrypting drive, as cryptsetup 2.7's --hw-opal / --hw-opal-only do it,
// but with libcryptsetup 2.6.1, which knows nothing of Opal. What we write instead:
//
//   segment 0   cipher_null-ecb (hw-opal-only: the drive alone encrypts) or the software
//               cipher (hw-opal: the drive under aes-xts, defence in depth), starting at the
//               Opal locking range's first block
//   token       {"type":"ublkcrypt-opal", "mode", "drive", "range", "user", "start",
//               "length", "block_size"}: where the range is and who unlocks it
//   keyslots    the volume key, as always
//
// Unlocking needs nothing new: unlock_volume() returns the volume key (for a cipher_null
// segment: spec null, and still the 32-byte key, which only derives the password below).

// The range's User password is derived from the volume key (HMAC-SHA256 with a fixed
// label), never stored: whoever opens a keyslot can unlock the range, nobody else. A
// derived password (instead of cryptsetup 2.7's "volume key = Opal key || dm key") keeps
// segment 0 a plain cryptsetup segment: cryptsetup 2.6 opens our header (null or aes
// segment) once the range is unlocked, but it does not unlock the drive itself, and the
// token is ignored by it. cryptsetup 2.7's own "hw-opal" segment types are not produced.
#pragma once

#include <cstdint>
#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "volume/format.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {

constexpr const char* kOpalTokenType = "ublkcrypt-opal";

struct OpalSegment {
  std::string mode;           // "hw-opal-only" or "hw-opal"
  std::string drive;          // the device given at format time (emu:FILE, /dev/nvme0n1)
  uint32_t range = 1;         // Locking range index
  uint32_t user = 1;          // UserN that may lock and unlock it
  uint64_t start = 0, length = 0;  // logical blocks of the drive
  uint32_t block_size = 512;

  bool hw_only() const { return mode == "hw-opal-only"; }
};

// Writes a new LUKS2 header to `device` (a path libcryptsetup can open) with `volume_key`
// as the volume key (32 bytes for hw-opal-only, the cipher's key otherwise), the data
// segment at segment.start, the token, and one keyslot for `passphrase`.
Status format_opal_header(const std::string& device, const FormatOptions& options, const OpalSegment& segment,
                          const SecureBytes& volume_key, Passphrase passphrase);

// Reads the token of `device`'s header. not_found when the header has none (an ordinary
// volume), corrupt when it is malformed.
Status read_opal_segment(const std::string& device, OpalSegment* out);

// Unlocking needs nothing new: unlock_volume() returns the volume key (for a cipher_null
// segment: spec null, and still the 32-byte key, which only derives the password below).

// The range's User password: HMAC-SHA256(volume key, "ublkcrypt opal range password v1").
Status derive_range_password(const SecureBytes& volume_key, SecureBytes* out);

}  // namespace ublkcrypt

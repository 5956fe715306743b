// Reencryption of a LUKS2 volume in place, offline: every sector decrypted with the old
// volume key and encrypted with a new one (and, if asked, a new cipher or key size), as
// `cryptsetup reencrypt` does it, by libcryptsetup's own reencryption.
//
// Crash safety is libcryptsetup's: it works through the data area a hotzone at a time and,
// with the default "checksum" resilience, records in the header enough to redo a hotzone a
// crash interrupted. While a reencryption is in progress the header carries the
// online-reencrypt requirement flag and `open` refuses the volume (LuksVolume::
// check_requirements names this command); a second run with the same passphrase resumes
// it, recovering an interrupted hotzone first.
//
// Killed after the last hotzone (every sector moved, the header not yet finalised), a
// volume is one libcryptsetup 2.6 resumes by reencrypting the whole device again from the
// old key, destroying it (an --encrypt run too: it encrypts every sector a second time; a
// decryption with a data shift decrypts its first moved part again): such a header is
// refused, in one line, and stays as it is.
//
// Not covered: a kill in libcryptsetup 2.6's last step, after it has removed the old
// keyslots and before it drops the reencryption metadata (it wipes the checksum area in
// between), leaves a header that neither this code nor cryptsetup 2.6 resumes: resuming
// asks for the old key, whose keyslot is gone ("Keyslot unusable for digest 0"). Kills
// between hotzones, the last one included, are covered (tests/volume/reencrypt_test.cpp,
// tests/vm/scenarios/reencrypt.sh).
//
// Only the keyslot the passphrase opens survives: its passphrase is bound to the new key
// and the other keyslots, which hold the old key, are removed when the reencryption ends
// (cryptsetup with --key-slot does the same). A volume with several active keyslots is
// therefore refused unless the keyslot is named, so no passphrase is dropped by surprise.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "volume/luks_volume.h"
#include "volume/pbkdf.h"

namespace ublkcrypt {

// cryptsetup reencrypt's three modes.
//   reencrypt  a new volume key (and cipher) for a LUKS2 volume
//   encrypt    data in the clear on the device becomes a LUKS2 volume, with its header
//              either in the new file `header` (it must not exist yet; a header left by an
//              interrupted encryption resumes it) or, given reduce_device_bytes, at the start
//              of the device, the data moved towards the end to make room (a device whose
//              header records an encryption in progress resumes it)
//   decrypt    a LUKS2 volume leaves its data in the clear: with a detached header `header`
//              in place, or with the header on the device moved to the new file `header`
//              and the data moved back to the start of the device (below)
//
// Encryption with the header on the device is cryptsetup's `--encrypt --reduce-device-size
// R`: the data must end R bytes before the end of the device (a filesystem shrunk first);
// the header takes the first R/2 and the data moves R/2 towards the end. As cryptsetup does
// it, the header is made in a temporary file; libcryptsetup copies the data's first R/2 into
// the device's last R/2 and records that, in the file's header, as the encryption's first
// step; only then is the header copied to the start of the device, over data that now has a
// copy. Killed before that copy, the device still holds its data where it was (the run
// starts over; the tail it wrote was free); killed after it, the device's own header
// resumes the encryption, hotzone by hotzone, with libcryptsetup's "datashift" resilience.
//
// Decryption with the header on the device is cryptsetup 2.6's `--decrypt --header NEW_FILE`:
// the header is copied to NEW_FILE.part and wiped from the device; libcryptsetup moves the
// first segment to the start of the device and records the decryption in NEW_FILE.part,
// which is then renamed NEW_FILE. A run that finds no header on the device and a
// NEW_FILE.part resumes from it if the decryption is recorded there, and otherwise puts the
// header back on the device (the data has not moved) and starts again.
enum class ReencryptMode { reencrypt, encrypt, decrypt };

struct ReencryptOptions {
  ReencryptMode mode = ReencryptMode::reencrypt;
  std::string cipher;              // new data cipher ("aes-cbc-essiv:sha256"); "" keeps it
  uint32_t key_bits = 0;           // new volume key size; 0 keeps it (or the cipher's default)
  std::optional<int> keyslot;      // the keyslot whose passphrase is given and kept
  std::string resilience = "checksum";  // libcryptsetup's: "checksum", "journal" or "none"
  uint64_t hotzone_bytes = 0;      // most data per step; 0: libcryptsetup's default
  bool resume_only = false;        // only finish a reencryption already in progress
  std::optional<PbkdfOptions> pbkdf;  // for the new keyslot; default: the old keyslot's
  std::string header;              // a detached header file; "" when it is on `device`
  uint32_t sector_size = 512;      // encrypt: the new volume's sector size (cryptsetup's default)
  uint64_t reduce_device_bytes = 0;  // encrypt: cryptsetup's --reduce-device-size (above)
};

// Called after each hotzone with the bytes done and the total: a place to report progress.
using ReencryptProgress = std::function<void(uint64_t done, uint64_t total)>;

// Reencrypts `device` (block device or image file, not in use: the caller holds it) with
// `passphrase`, or resumes the reencryption in progress. Failures, one line each, with
// nothing changed on disk unless the message says a reencryption is in progress:
//   permission        wrong passphrase
//   invalid_argument  a bad option, a cipher ublkcrypt could not open afterwards, several
//                     keyslots without --key-slot, --resume-only with nothing in progress,
//                     encrypt without a detached header or a reduction, decrypt without
//                     --header or of a device with no header, encrypt onto a header file
//                     that already holds a finished volume or onto a device that already
//                     is one
//   unsupported       a LUKS1 volume, or a header libcryptsetup cannot reencrypt
//   io_error          the data could not be read or written (a reencryption stays in
//                     progress: run again to resume)
Status reencrypt_volume(const std::string& device, Passphrase passphrase,
                        const ReencryptOptions& options, const ReencryptProgress& progress);

}  // namespace ublkcrypt

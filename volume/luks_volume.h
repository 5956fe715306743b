// LuksVolume: one LUKS header (LUKS2, or LUKS1 for old volumes) opened through
// libcryptsetup. Header parsing, keyslots and key derivation are libcryptsetup's: this
// class only adapts them to Status, SecureBytes and one-line messages. It never activates
// dm-crypt, so it works on image files and on kernels without dm-crypt.
//
// Not thread-safe: one thread uses a LuksVolume at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "volume/pbkdf.h"
#include "volume/unlocked_volume.h"

struct crypt_device;

namespace ublkcrypt {

class CryptLog;

using Passphrase = std::span<const uint8_t>;

struct KeyslotInfo {
  int slot = -1;
  bool active = false;
};

// How many keyslots of the header `cd` has loaded (LUKS1 or LUKS2) are active: for callers
// holding a libcryptsetup handle of their own (reencrypt), as LuksVolume::active_keyslots().
int active_keyslots_of(crypt_device* cd);

class LuksVolume {
 public:
  // Loads the header of `device`. corrupt if it holds no LUKS header (or both copies are
  // destroyed); not_found if the device does not exist.
  static Status load(const std::string& device, std::unique_ptr<LuksVolume>* out);
  // The same with a detached header (cryptsetup's --header): the header is read from
  // `header` (a file or device), `device` holds only the data. An empty `header` is the
  // header at the start of `device`. corrupt naming `header` if it holds no LUKS header.
  static Status load(const std::string& device, const std::string& header,
                     std::unique_ptr<LuksVolume>* out);
  ~LuksVolume();
  LuksVolume(const LuksVolume&) = delete;
  LuksVolume& operator=(const LuksVolume&) = delete;

  const std::string& device() const { return device_; }
  // The detached header, or "" when the header is on device().
  const std::string& header() const { return header_; }
  std::string type() const;    // "LUKS2" or "LUKS1"
  std::string uuid() const;
  std::string label() const;   // LUKS2 only; empty otherwise
  std::string cipher() const;  // cryptsetup's spelling: "aes-xts-plain64"
  uint32_t key_bits() const;
  uint32_t sector_size() const;
  uint64_t data_offset_bytes() const;
  uint64_t iv_offset() const;  // 512-byte units
  std::vector<KeyslotInfo> keyslots() const;
  int active_keyslots() const;

  // The decrypted size: the data segment's fixed size, or the device size minus the data
  // offset for a "dynamic" segment. io_error if the device ends before the segment does.
  Status data_size_bytes(uint64_t* out) const;

  // See unlock_volume() in volume/unlocked_volume.h.
  Status unlock(Passphrase passphrase, std::optional<int> keyslot, UnlockedVolume* out) const;

  // ok unless the LUKS2 header carries requirement flags (config.requirements.mandatory):
  // a reencryption in progress or a feature newer than this libcryptsetup. cryptsetup
  // refuses to activate such a volume; unlock() refuses to serve it. Errc::unsupported,
  // naming the flag.
  Status check_requirements() const;

  // LUKS2's persistent activation flags (cryptsetup open/refresh --persistent): whether the
  // header asks for discards to pass through. false for LUKS1, which stores none.
  Status allows_discards(bool* out) const;
  // Stores the activation flags of `open --persistent`: exactly allow-discards or nothing,
  // as cryptsetup stores the flags of the command that says --persistent. invalid_argument
  // on a LUKS1 header.
  Status store_allow_discards(bool allow);

  // ok if the header is the version `wanted` names, in cryptsetup's --type spelling:
  // "luks1" or "luks2" insist on that version, "luks" takes either (cryptsetup refuses
  // `open --type luks2` on a LUKS1 volume, exit 1). invalid_argument naming both versions.
  Status check_version(const std::string& wanted) const;

  // ok if `passphrase` opens `slot` (any slot if nullopt); stores the slot it opens.
  // permission if it opens none. Derives the key but keeps nothing.
  Status check_passphrase(Passphrase passphrase, std::optional<int> slot, int* opened) const;

  // The key derivation for keyslots added or changed from now on (add_key, change_key).
  Status set_pbkdf(const PbkdfOptions& pbkdf);

  // Adds `new_passphrase` in `slot` (first free slot if nullopt), authorised by
  // `passphrase`; stores the slot used in `*added`.
  Status add_key(Passphrase passphrase, Passphrase new_passphrase, std::optional<int> slot,
                 int* added);
  // Adds a keyslot from the volume key itself (format, or recovery with a key in hand).
  Status add_key_by_volume_key(const SecureBytes& volume_key, Passphrase new_passphrase,
                               std::optional<int> slot, int* added);
  // Destroys the keyslot that `passphrase` opens.
  Status remove_key(Passphrase passphrase, int* removed);
  // Replaces the passphrase of the slot `passphrase` opens (or `slot`), in place where
  // libcryptsetup can; stores the slot now holding `new_passphrase`.
  Status change_key(Passphrase passphrase, Passphrase new_passphrase, std::optional<int> slot,
                    int* changed);
  // Destroys keyslot `slot` without asking for any passphrase (caller confirms).
  Status kill_slot(int slot);
  // Destroys every keyslot: the data becomes unrecoverable without a header backup.
  Status erase();

  // Copies the whole header (both copies and keyslot area) into `file`, which must not
  // exist yet.
  Status backup_header(const std::string& file);

  // The header as libcryptsetup's luksDump prints it, and as JSON (LUKS2 metadata; for
  // LUKS1 a JSON summary built from the getters).
  Status dump_text(std::string* out) const;
  Status dump_json(std::string* out) const;

 private:
  LuksVolume(std::string device, std::string header, crypt_device* cd, std::unique_ptr<CryptLog> log);
  // Whether keyslot `slot`'s area is stored unencrypted (cipher_null).
  bool keyslot_in_clear(int slot) const;
  // crypt_volume_key_get into `key`, trying only the slots a passphrase may open.
  int volume_key_get(Passphrase passphrase, std::optional<int> keyslot, SecureBytes* key, size_t* key_size) const;

  std::string device_;
  std::string header_;
  crypt_device* cd_ = nullptr;
  std::unique_ptr<CryptLog> log_;
};

// Writes `file` (made by header-backup) back over the header of `device` (or over the
// detached `header`, when not empty). corrupt if the file holds no valid LUKS header.
Status restore_header(const std::string& device, const std::string& file,
                      const std::string& header = "");

// ok if `device` (or the detached `header`, when not empty) holds a LUKS header; corrupt if
// not; not_found if it does not exist.
Status probe_luks(const std::string& device, const std::string& header = "");

}  // namespace ublkcrypt

// Keyslot management on a loaded LuksVolume: add, remove, change, kill, erase.
#include <libcryptsetup.h>

#include <cerrno>
#include <fmt/format.h>

#include "volume/crypt_log.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

static const char* chars(Passphrase p) { return reinterpret_cast<const char*>(p.data()); }

Status LuksVolume::set_pbkdf(const PbkdfOptions& pbkdf) {
  Status s = check_pbkdf(pbkdf, type());
  if (!s.ok()) return s;
  crypt_pbkdf_type p = to_crypt_pbkdf(pbkdf, type());
  int r = crypt_set_pbkdf_type(cd_, &p);
  if (r < 0) return crypt_failure(fmt::format("set pbkdf of {}", device_), r, *log_);
  return Status::Ok();
}

Status LuksVolume::add_key(Passphrase passphrase, Passphrase new_passphrase,
                           std::optional<int> slot, int* added) {
  int r = crypt_keyslot_add_by_passphrase(cd_, slot.value_or(CRYPT_ANY_SLOT), chars(passphrase),
                                          passphrase.size(), chars(new_passphrase),
                                          new_passphrase.size());
  if (r < 0) return keyslot_failure(device_, "add key to", slot, r, *log_);
  *added = r;
  return Status::Ok();
}

Status LuksVolume::add_key_by_volume_key(const SecureBytes& volume_key, Passphrase new_passphrase,
                                         std::optional<int> slot, int* added) {
  // A null key means "the key crypt_format just generated", which libcryptsetup still holds.
  const char* key = volume_key.empty() ? nullptr : reinterpret_cast<const char*>(volume_key.data());
  int r = crypt_keyslot_add_by_volume_key(cd_, slot.value_or(CRYPT_ANY_SLOT), key,
                                          volume_key.size(), chars(new_passphrase),
                                          new_passphrase.size());
  if (r < 0) return keyslot_failure(device_, "add key to", slot, r, *log_);
  *added = r;
  return Status::Ok();
}

Status LuksVolume::check_passphrase(Passphrase passphrase, std::optional<int> slot,
                                    int* opened) const {
  // Activating with no name only checks the passphrase and tells which slot it opens.
  int r = crypt_activate_by_passphrase(cd_, nullptr, slot.value_or(CRYPT_ANY_SLOT),
                                       chars(passphrase), passphrase.size(), 0);
  if (r < 0) return keyslot_failure(device_, "check passphrase of", slot, r, *log_);
  *opened = r;
  return Status::Ok();
}

Status LuksVolume::remove_key(Passphrase passphrase, int* removed) {
  int slot = -1;
  Status s = check_passphrase(passphrase, std::nullopt, &slot);
  if (!s.ok()) return s;
  int r = crypt_keyslot_destroy(cd_, slot);
  if (r < 0) return keyslot_failure(device_, "remove key from", slot, r, *log_);
  *removed = slot;
  return Status::Ok();
}

Status LuksVolume::change_key(Passphrase passphrase, Passphrase new_passphrase,
                              std::optional<int> slot, int* changed) {
  int s = slot.value_or(CRYPT_ANY_SLOT);
  int r = crypt_keyslot_change_by_passphrase(cd_, s, s, chars(passphrase), passphrase.size(),
                                             chars(new_passphrase), new_passphrase.size());
  if (r < 0) return keyslot_failure(device_, "change key of", slot, r, *log_);
  *changed = r;
  return Status::Ok();
}

Status LuksVolume::kill_slot(int slot) {
  switch (crypt_keyslot_status(cd_, slot)) {
    case CRYPT_SLOT_INVALID:
      return Status(Errc::invalid_argument,
                    fmt::format("kill slot of {}: key slot {} is out of range (0-{})", device_,
                                slot, crypt_keyslot_max(type().c_str()) - 1));
    case CRYPT_SLOT_INACTIVE:
      return Status(Errc::not_found,
                    fmt::format("kill slot of {}: key slot {} is not active", device_, slot));
    default: break;
  }
  int r = crypt_keyslot_destroy(cd_, slot);
  if (r < 0) return keyslot_failure(device_, "kill slot of", slot, r, *log_);
  return Status::Ok();
}

Status LuksVolume::erase() {
  for (const KeyslotInfo& info : keyslots()) {
    if (!info.active) continue;
    int r = crypt_keyslot_destroy(cd_, info.slot);
    if (r < 0) return keyslot_failure(device_, "erase", info.slot, r, *log_);
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

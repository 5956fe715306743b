#include "volume/luks_volume.h"

#include <fcntl.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "volume/crypt_log.h"

namespace ublkcrypt {

LuksVolume::LuksVolume(std::string device, std::string header, crypt_device* cd,
                       std::unique_ptr<CryptLog> log)
    : device_(std::move(device)), header_(std::move(header)), cd_(cd), log_(std::move(log)) {}

// crypt_free wipes the volume key libcryptsetup may hold in its own (locked) memory.
LuksVolume::~LuksVolume() { crypt_free(cd_); }

Status LuksVolume::load(const std::string& device, std::unique_ptr<LuksVolume>* out) {
  return load(device, "", out);
}

Status LuksVolume::load(const std::string& device, const std::string& header,
                        std::unique_ptr<LuksVolume>* out) {
  auto log = std::make_unique<CryptLog>();
  crypt_device* cd = nullptr;
  Status opened = crypt_open_device(device, header, log.get(), &cd);
  if (!opened.ok()) return opened;
  const std::string& metadata = header.empty() ? device : header;
  struct stat st;
  if (stat(metadata.c_str(), &st) != 0) st = {};
  // CRYPT_LUKS: either version. libcryptsetup falls back to the secondary LUKS2 header
  // when the primary is damaged.
  int r = crypt_load(cd, CRYPT_LUKS, nullptr);
  // A file too small for any header reads short (EIO): that too is "not LUKS", not a bad disk.
  if (r == -EIO && S_ISREG(st.st_mode) && st.st_size < 4096) r = -EINVAL;
  if (r < 0) {
    Status s = (r == -EINVAL)
                   ? Status(Errc::corrupt,
                            header.empty()
                                ? fmt::format("device {}: not a LUKS device (no valid LUKS header found)", device)
                                : fmt::format("header {}: not a LUKS header (no valid LUKS header found)", header))
                   : crypt_failure(fmt::format("load LUKS header of {}", metadata), r, *log);
    crypt_free(cd);
    return s;
  }
  out->reset(new LuksVolume(device, header, cd, std::move(log)));
  return Status::Ok();
}

Status probe_luks(const std::string& device, const std::string& header) {
  std::unique_ptr<LuksVolume> volume;
  return LuksVolume::load(device, header, &volume);
}

std::string LuksVolume::type() const {
  const char* t = crypt_get_type(cd_);
  return t != nullptr ? t : "";
}

std::string LuksVolume::uuid() const {
  const char* u = crypt_get_uuid(cd_);
  return u != nullptr ? u : "";
}

std::string LuksVolume::label() const {
  const char* l = crypt_get_label(cd_);
  return l != nullptr ? l : "";
}

std::string LuksVolume::cipher() const {
  const char* c = crypt_get_cipher(cd_);
  const char* m = crypt_get_cipher_mode(cd_);
  std::string name = c != nullptr ? c : "";
  if (m != nullptr && *m != '\0') name += fmt::format("-{}", m);
  return name;
}

uint32_t LuksVolume::key_bits() const {
  int bytes = crypt_get_volume_key_size(cd_);
  return bytes > 0 ? static_cast<uint32_t>(bytes) * 8 : 0;
}

uint32_t LuksVolume::sector_size() const {
  int size = crypt_get_sector_size(cd_);
  return size > 0 ? static_cast<uint32_t>(size) : 512;
}

uint64_t LuksVolume::data_offset_bytes() const { return crypt_get_data_offset(cd_) * 512; }

uint64_t LuksVolume::iv_offset() const { return crypt_get_iv_offset(cd_); }

static std::vector<KeyslotInfo> keyslots_of(crypt_device* cd) {
  std::vector<KeyslotInfo> slots;
  const char* type = crypt_get_type(cd);
  const int max = type != nullptr ? crypt_keyslot_max(type) : 0;
  for (int slot = 0; slot < max; ++slot) {
    const crypt_keyslot_info info = crypt_keyslot_status(cd, slot);
    slots.push_back({slot, info == CRYPT_SLOT_ACTIVE || info == CRYPT_SLOT_ACTIVE_LAST});
  }
  return slots;
}

int active_keyslots_of(crypt_device* cd) {
  int active = 0;
  for (const KeyslotInfo& info : keyslots_of(cd)) active += info.active ? 1 : 0;
  return active;
}

std::vector<KeyslotInfo> LuksVolume::keyslots() const { return keyslots_of(cd_); }

int LuksVolume::active_keyslots() const { return active_keyslots_of(cd_); }

static Status device_size(const std::string& device, uint64_t* out) {
  int fd = open(device.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(fmt::format("open {}", device), errno);
  struct stat st;
  Status s;
  if (fstat(fd, &st) != 0) {
    s = errno_status(fmt::format("stat {}", device), errno);
  } else if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &bytes) != 0)
      s = errno_status(fmt::format("size of {}", device), errno);
    *out = bytes;
  } else {
    *out = static_cast<uint64_t>(st.st_size);
  }
  close(fd);
  return s;
}

// LUKS2 keeps the data segment's size in its JSON metadata ("dynamic": to the device end);
// libcryptsetup has no getter for it short of activating. LUKS1 segments are always dynamic.
static Status segment_size(crypt_device* cd, const std::string& device,
                           std::optional<uint64_t>* fixed) {
  fixed->reset();
  if (std::string_view(crypt_get_type(cd)) != CRYPT_LUKS2) return Status::Ok();
  const char* text = nullptr;
  if (crypt_dump_json(cd, &text, 0) < 0 || text == nullptr)
    return Status(Errc::corrupt, fmt::format("{}: LUKS2 metadata unreadable", device));
  nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
  if (meta.is_discarded() || !meta.contains("segments") || !meta["segments"].is_object())
    return Status(Errc::corrupt, fmt::format("{}: LUKS2 metadata has no segments", device));
  const auto& segments = meta["segments"];
  if (segments.size() != 1)
    return Status(Errc::unsupported,
                  fmt::format("{}: {} data segments (LUKS2 reencryption in progress?); finish "
                              "it with cryptsetup reencrypt first",
                              device, segments.size()));
  const auto& size = segments.begin().value().value("size", std::string("dynamic"));
  if (size != "dynamic") *fixed = std::stoull(size);
  return Status::Ok();
}

Status LuksVolume::data_size_bytes(uint64_t* out) const {
  std::optional<uint64_t> fixed;
  Status s = segment_size(cd_, device_, &fixed);
  if (!s.ok()) return s;
  uint64_t device_bytes = 0;
  s = device_size(device_, &device_bytes);
  if (!s.ok()) return s;
  uint64_t offset = data_offset_bytes();
  uint64_t end = offset + fixed.value_or(0);
  if (device_bytes < end + sector_size())
    return Status(Errc::io_error,
                  fmt::format("device {}: {} bytes, too short for its LUKS data segment at "
                              "{}{} (truncated?)",
                              device_, device_bytes, offset,
                              fixed ? fmt::format("+{}", *fixed) : std::string()));
  *out = fixed.value_or(device_bytes - offset);
  return Status::Ok();
}

Status LuksVolume::check_version(const std::string& wanted) const {
  if (wanted == "luks") return Status::Ok();
  const std::string have = type();
  const std::string want = wanted == "luks1" ? CRYPT_LUKS1 : CRYPT_LUKS2;
  if (have == want) return Status::Ok();
  return Status(Errc::invalid_argument,
                fmt::format("{}: {} header, not the {} --type {} asks for (--type luks opens either)",
                            header_.empty() ? "device " + device_ : "header " + header_, have, want, wanted));
}

Status LuksVolume::allows_discards(bool* out) const {
  *out = false;
  if (type() != CRYPT_LUKS2) return Status::Ok();
  uint32_t flags = 0;
  int r = crypt_persistent_flags_get(cd_, CRYPT_FLAGS_ACTIVATION, &flags);
  if (r < 0) return crypt_failure(fmt::format("read LUKS2 flags of {}", device_), r, *log_);
  *out = (flags & CRYPT_ACTIVATE_ALLOW_DISCARDS) != 0;
  return Status::Ok();
}

Status LuksVolume::store_allow_discards(bool allow) {
  if (type() != CRYPT_LUKS2)
    return Status(Errc::invalid_argument,
                  fmt::format("{}: --persistent needs a LUKS2 header; LUKS1 stores no activation flags",
                              header_.empty() ? "device " + device_ : "header " + header_));
  int r = crypt_persistent_flags_set(cd_, CRYPT_FLAGS_ACTIVATION,
                                     allow ? CRYPT_ACTIVATE_ALLOW_DISCARDS : 0);
  if (r < 0) return crypt_failure(fmt::format("store LUKS2 flags of {}", device_), r, *log_);
  return Status::Ok();
}

Status LuksVolume::check_requirements() const {
  if (type() != CRYPT_LUKS2) return Status::Ok();
  uint32_t flags = 0;
  int r = crypt_persistent_flags_get(cd_, CRYPT_FLAGS_REQUIREMENTS, &flags);
  if (r < 0) return crypt_failure(fmt::format("read LUKS2 requirements of {}", device_), r, *log_);
  if (flags == 0) return Status::Ok();
  // libcryptsetup folds every flag it does not know into one bit: the names are in the
  // metadata.
  std::string names;
  const char* text = nullptr;
  if (crypt_dump_json(cd_, &text, 0) >= 0 && text != nullptr) {
    nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
    const nlohmann::json* mandatory = nullptr;
    if (meta.is_object() && meta.contains("config") && meta["config"].is_object() &&
        meta["config"].contains("requirements") && meta["config"]["requirements"].is_object() &&
        meta["config"]["requirements"].contains("mandatory")) {
      mandatory = &meta["config"]["requirements"]["mandatory"];
    }
    for (const auto& name : mandatory && mandatory->is_array() ? *mandatory : nlohmann::json::array()) {
      if (!name.is_string()) continue;
      const std::string n = name.get<std::string>();
      const bool known = n == "offline-reencrypt" || n.rfind("online-reencrypt", 0) == 0;
      if (((flags & CRYPT_REQUIREMENT_UNKNOWN) != 0) == known) continue;  // name the kind that is set
      names += (names.empty() ? "" : ", ") + n;
    }
  }
  if (names.empty()) names = fmt::format("0x{:x}", flags);
  if (flags & CRYPT_REQUIREMENT_UNKNOWN) {
    return Status(Errc::unsupported,
                  fmt::format("device {}: unmet LUKS2 requirement flag {} (unknown to this libcryptsetup): not "
                              "opened",
                              device_, names));
  }
  // online-reencrypt is libcryptsetup's current reencryption, which `ublkcrypt reencrypt`
  // resumes; offline-reencrypt is the legacy one only an old cryptsetup finishes.
  if (flags & CRYPT_REQUIREMENT_ONLINE_REENCRYPT)
    return Status(Errc::unsupported,
                  fmt::format("device {}: LUKS2 requirement flag {} (reencryption in progress): "
                              "finish it with ublkcrypt reencrypt --resume-only {}",
                              device_, names, device_));
  return Status(Errc::unsupported,
                fmt::format("device {}: LUKS2 requirement flag {} (reencryption in progress): finish it with "
                            "cryptsetup reencrypt first",
                            device_, names));
}

bool LuksVolume::keyslot_in_clear(int slot) const {
  size_t key_size = 0;
  const char* cipher = crypt_keyslot_get_encryption(cd_, slot, &key_size);
  return cipher != nullptr && (std::string_view(cipher).find("cipher_null") != std::string_view::npos ||
                               std::string_view(cipher) == "null");
}

// A keyslot stored in the clear (cipher_null area encryption) opens with any passphrase:
// the passphrase only derives the key of a cipher that ignores it. cryptsetup lets only the
// empty passphrase open one — LUKS1 always, LUKS2 keyslots since 2.8.1 (the 2.6.1 installed
// here still opens a LUKS2 one with anything) — and so do we, for both, by trying such a
// slot only with the empty passphrase.
int LuksVolume::volume_key_get(Passphrase passphrase, std::optional<int> keyslot, SecureBytes* key,
                               size_t* key_size) const {
  auto get = [&](int slot) {
    *key_size = key->size();
    return crypt_volume_key_get(cd_, slot, reinterpret_cast<char*>(key->data()), key_size,
                                reinterpret_cast<const char*>(passphrase.data()), passphrase.size());
  };
  if (passphrase.empty()) return get(keyslot.value_or(CRYPT_ANY_SLOT));
  if (keyslot) return keyslot_in_clear(*keyslot) ? -EPERM : get(*keyslot);
  bool any_in_clear = false;
  for (const KeyslotInfo& info : keyslots()) any_in_clear |= info.active && keyslot_in_clear(info.slot);
  if (!any_in_clear) return get(CRYPT_ANY_SLOT);
  int r = -EPERM;
  for (const KeyslotInfo& info : keyslots()) {
    if (!info.active || keyslot_in_clear(info.slot)) continue;
    r = get(info.slot);
    if (r != -EPERM) return r;
  }
  return r;
}

Status LuksVolume::unlock(Passphrase passphrase, std::optional<int> keyslot,
                          UnlockedVolume* out) const {
  if (Status s = check_requirements(); !s.ok()) return s;
  if (keyslot) {
    crypt_keyslot_info info = crypt_keyslot_status(cd_, *keyslot);
    if (info == CRYPT_SLOT_INVALID)
      return Status(Errc::invalid_argument,
                    fmt::format("{}: key slot {} is out of range (0-{})", device_, *keyslot,
                                crypt_keyslot_max(type().c_str()) - 1));
    if (info != CRYPT_SLOT_ACTIVE && info != CRYPT_SLOT_ACTIVE_LAST)
      return Status(Errc::not_found, fmt::format("{}: key slot {} is not active", device_, *keyslot));
  }
  UnlockedVolume volume;
  Status s = CipherSpec::parse(cipher(), key_bits(), sector_size(), &volume.spec);
  if (!s.ok()) return s.in(fmt::format("device {}", device_));
  volume.spec.iv_offset = iv_offset();
  volume.data_offset_bytes = data_offset_bytes();
  s = data_size_bytes(&volume.size_bytes);
  if (!s.ok()) return s;
  s = allows_discards(&volume.allow_discards);
  if (!s.ok()) return s;

  s = SecureBytes::allocate(static_cast<size_t>(crypt_get_volume_key_size(cd_)), &volume.key);
  if (!s.ok()) return s;
  size_t key_size = 0;
  int r = volume_key_get(passphrase, keyslot, &volume.key, &key_size);
  if (r < 0) {
    // volume.key is wiped by its destructor on this and every other return.
    std::string which = keyslot ? fmt::format("key slot {} of {}", *keyslot, device_) : device_;
    if (r == -EPERM && keyslot && !passphrase.empty() && keyslot_in_clear(*keyslot))
      return Status(Errc::permission,
                    fmt::format("wrong passphrase for {}: the slot is stored unencrypted (cipher_null), only "
                                "the empty passphrase opens it",
                                which));
    if (r == -EPERM)
      return Status(Errc::permission,
                    keyslot ? fmt::format("wrong passphrase for {}", which)
                            : fmt::format("wrong passphrase for {} (no key slot matches)",
                                          device_));
    return crypt_failure(fmt::format("unlock {}", which), r, *log_);
  }
  volume.key.truncate(key_size);
  volume.keyslot = r;
  volume.uuid = uuid();
  volume.label = label();
  *out = std::move(volume);
  return Status::Ok();
}

Status unlock_volume(const std::string& device, std::span<const uint8_t> passphrase,
                     std::optional<int> keyslot, UnlockedVolume* out, const std::string& header) {
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(device, header, &volume);
  if (!s.ok()) return s;
  return volume->unlock(passphrase, keyslot, out);
}

}  // namespace ublkcrypt

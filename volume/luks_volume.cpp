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

LuksVolume::LuksVolume(std::string device, crypt_device* cd, std::unique_ptr<CryptLog> log)
    : device_(std::move(device)), cd_(cd), log_(std::move(log)) {}

// crypt_free wipes the volume key libcryptsetup may hold in its own (locked) memory.
LuksVolume::~LuksVolume() { crypt_free(cd_); }

Status LuksVolume::load(const std::string& device, std::unique_ptr<LuksVolume>* out) {
  auto log = std::make_unique<CryptLog>();
  crypt_device* cd = nullptr;
  Status opened = crypt_open_device(device, log.get(), &cd);
  if (!opened.ok()) return opened;
  struct stat st;
  if (stat(device.c_str(), &st) != 0) st = {};
  // CRYPT_LUKS: either version. libcryptsetup falls back to the secondary LUKS2 header
  // when the primary is damaged.
  int r = crypt_load(cd, CRYPT_LUKS, nullptr);
  // A file too small for any header reads short (EIO): that too is "not LUKS", not a bad disk.
  if (r == -EIO && S_ISREG(st.st_mode) && st.st_size < 4096) r = -EINVAL;
  if (r < 0) {
    Status s = (r == -EINVAL)
                   ? Status(Errc::corrupt, fmt::format("device {}: not a LUKS device (no valid "
                                                       "LUKS header found)",
                                                       device))
                   : crypt_failure(fmt::format("load LUKS header of {}", device), r, *log);
    crypt_free(cd);
    return s;
  }
  out->reset(new LuksVolume(device, cd, std::move(log)));
  return Status::Ok();
}

Status probe_luks(const std::string& device) {
  std::unique_ptr<LuksVolume> volume;
  return LuksVolume::load(device, &volume);
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

std::vector<KeyslotInfo> LuksVolume::keyslots() const {
  std::vector<KeyslotInfo> slots;
  int max = crypt_keyslot_max(type().c_str());
  for (int slot = 0; slot < max; ++slot) {
    crypt_keyslot_info info = crypt_keyslot_status(cd_, slot);
    slots.push_back({slot, info == CRYPT_SLOT_ACTIVE || info == CRYPT_SLOT_ACTIVE_LAST});
  }
  return slots;
}

int LuksVolume::active_keyslots() const {
  int active = 0;
  for (const KeyslotInfo& info : keyslots()) active += info.active ? 1 : 0;
  return active;
}

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

Status LuksVolume::unlock(Passphrase passphrase, std::optional<int> keyslot,
                          UnlockedVolume* out) const {
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

  s = SecureBytes::allocate(static_cast<size_t>(crypt_get_volume_key_size(cd_)), &volume.key);
  if (!s.ok()) return s;
  size_t key_size = volume.key.size();
  int r = crypt_volume_key_get(cd_, keyslot.value_or(CRYPT_ANY_SLOT),
                               reinterpret_cast<char*>(volume.key.data()), &key_size,
                               reinterpret_cast<const char*>(passphrase.data()),
                               passphrase.size());
  if (r < 0) {
    // volume.key is wiped by its destructor on this and every other return.
    std::string which = keyslot ? fmt::format("key slot {} of {}", *keyslot, device_) : device_;
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
                     std::optional<int> keyslot, UnlockedVolume* out) {
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(device, &volume);
  if (!s.ok()) return s;
  return volume->unlock(passphrase, keyslot, out);
}

}  // namespace ublkcrypt

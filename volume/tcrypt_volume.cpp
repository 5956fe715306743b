#include "volume/tcrypt_volume.h"

#include <libcryptsetup.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <sys/stat.h>

#include "volume/crypt_log.h"

namespace ublkcrypt {
namespace {

// The sizes libcryptsetup 2.6 read from the decrypted header. It has no call that returns
// them (crypt_get_active_device needs a dm-crypt mapping), but its debug log states them in
// one line once the header decrypts, the same line in every release since 1.6:
//   "TCRYPT: Magic: TRUE, Header version: 5, req. 1792, sector 512, mk_offset 131072,
//    hidden_size 0, volume size 8126464"
struct HeaderSizes {
  bool found = false;
  uint64_t hidden_size = 0;
  uint64_t volume_size = 0;
};

HeaderSizes header_sizes(const std::string& debug_log) {
  HeaderSizes sizes;
  const size_t at = debug_log.rfind("TCRYPT: Magic:");
  if (at == std::string::npos) return sizes;
  const size_t hidden = debug_log.find("hidden_size ", at);
  if (hidden == std::string::npos) return sizes;
  sizes.found = std::sscanf(debug_log.c_str() + hidden, "hidden_size %" SCNu64 ", volume size %" SCNu64,
                            &sizes.hidden_size, &sizes.volume_size) == 2;
  return sizes;
}

}  // namespace

Status unlock_tcrypt_volume(const std::string& device, const TcryptParams& params,
                            std::span<const uint8_t> passphrase, UnlockedVolume* out) {
  const std::string who = "tcrypt volume " + device;
  for (const std::string& keyfile : params.keyfiles) {
    struct stat st;
    if (stat(keyfile.c_str(), &st) != 0) return errno_status("keyfile " + keyfile, errno);
  }

  CryptLog log;
  crypt_device* raw = nullptr;
  Status s = crypt_open_device(device, &log, &raw);
  if (!s.ok()) return s;
  // crypt_free wipes the decrypted header, keys included, in libcryptsetup's memory.
  std::unique_ptr<crypt_device, void (*)(crypt_device*)> cd(raw, crypt_free);

  std::vector<const char*> keyfiles;
  for (const std::string& keyfile : params.keyfiles) keyfiles.push_back(keyfile.c_str());
  crypt_params_tcrypt tcrypt{};
  tcrypt.passphrase = reinterpret_cast<const char*>(passphrase.data());
  tcrypt.passphrase_size = passphrase.size();
  tcrypt.keyfiles = keyfiles.empty() ? nullptr : keyfiles.data();
  tcrypt.keyfiles_count = static_cast<unsigned>(keyfiles.size());
  tcrypt.veracrypt_pim = params.veracrypt_pim;
  // cryptsetup's own flags for tcryptOpen: the legacy modes are tried too, so a volume in
  // one is named (and refused below) rather than taken for a wrong passphrase.
  tcrypt.flags = CRYPT_TCRYPT_LEGACY_MODES;
  if (params.veracrypt) tcrypt.flags |= CRYPT_TCRYPT_VERA_MODES;
  if (params.hidden) tcrypt.flags |= CRYPT_TCRYPT_HIDDEN_HEADER;
  // The system header sits in the disk's first track; for a partition, libcryptsetup reads
  // it from the disk the partition is on.
  if (params.system) tcrypt.flags |= CRYPT_TCRYPT_SYSTEM_HEADER;

  std::string debug_log;
  log.capture_debug(&debug_log);
  crypt_set_debug_level(CRYPT_DEBUG_ALL);
  int r = crypt_load(cd.get(), CRYPT_TCRYPT, &tcrypt);
  crypt_set_debug_level(CRYPT_DEBUG_NONE);
  log.capture_debug(nullptr);
  if (r == -EPERM)
    return {Errc::permission, who + ": no header decrypts with this passphrase" +
                                  (keyfiles.empty() ? std::string() : " and these keyfiles")};
  if (r < 0) return crypt_failure(who, r, log);

  // A cascade comes as "serpent-twofish-aes" with mode "xts-plain64", its volume key as the
  // ciphers' keys one after another (libcryptsetup's TCRYPT_get_volume_key).
  const std::string cipher = crypt_get_cipher(cd.get());
  const std::string mode = crypt_get_cipher_mode(cd.get());
  const int key_bytes = crypt_get_volume_key_size(cd.get());
  UnlockedVolume volume;
  const std::string name = cipher + "-" + mode;
  const auto parse = CipherSpec::is_cascade_name(name) ? CipherSpec::parse_cascade : CipherSpec::parse;
  s = parse(name, static_cast<uint32_t>(key_bytes) * 8, 512, &volume.spec);
  if (!s.ok()) return s.in(who);
  volume.spec.iv_offset = crypt_get_iv_offset(cd.get());
  volume.data_offset_bytes = crypt_get_data_offset(cd.get()) * 512;
  const HeaderSizes sizes = header_sizes(debug_log);
  if (!sizes.found)
    return {Errc::unsupported, who + ": libcryptsetup did not state the volume size (its debug log changed?)"};
  // As libcryptsetup 2.6 activates it: the hidden header's hidden size, else the volume size
  // (0 in headers of TrueCrypt before 5.0: to the end of the device). System encryption
  // ignores both (TCRYPT_activate): from the encrypted area's start (0 on a partition, its
  // IVs still counted from the disk's start) to the end of the device.
  if (params.system)
    volume.size_bytes = 0;
  else
    volume.size_bytes = params.hidden ? sizes.hidden_size : sizes.volume_size;

  s = SecureBytes::allocate(static_cast<size_t>(key_bytes), &volume.key);
  if (!s.ok()) return s;
  size_t key_size = volume.key.size();
  r = crypt_volume_key_get(cd.get(), CRYPT_ANY_SLOT, reinterpret_cast<char*>(volume.key.data()), &key_size,
                           nullptr, 0);
  if (r < 0) return crypt_failure(who + ": volume key", r, log);
  *out = std::move(volume);
  return Status::Ok();
}

}  // namespace ublkcrypt

#include "volume/reencrypt.h"

#include <libcryptsetup.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backends/cipher_spec.h"
#include "base/pause_point.h"
#include "volume/crypt_log.h"
#include "volume/format.h"
#include "volume/luks_volume.h"
#include "volume/plain_volume.h"

namespace ublkcrypt {

namespace {

const char* chars(Passphrase p) { return reinterpret_cast<const char*>(p.data()); }

struct DeviceHandle {
  crypt_device* cd = nullptr;
  ~DeviceHandle() {
    if (cd != nullptr) crypt_free(cd);
  }
};

// libcryptsetup calls this after each hotzone; a non-zero return would stop the run.
int on_progress(uint64_t total, uint64_t done, void* user) {
  pause_point("reencrypt-hotzone");
  const auto* progress = static_cast<const ReencryptProgress*>(user);
  if (*progress) (*progress)(done, total);
  return 0;
}

// cryptsetup reencrypt's key size for a new cipher: 256 bits, doubled for XTS's two halves.
uint32_t default_key_bytes(const CipherAndMode& cipher) {
  return cipher.mode.rfind("xts", 0) == 0 ? 64 : 32;
}

// The cipher and key size the volume ends with, refused here if ublkcrypt could not open
// the result (format's rule: nothing written that `open` would then refuse).
Status target_cipher(crypt_device* cd, const std::string& device, const ReencryptOptions& o,
                     CipherAndMode* cipher, uint32_t* key_bytes) {
  const std::string current =
      std::string(crypt_get_cipher(cd) ? crypt_get_cipher(cd) : "") + "-" +
      (crypt_get_cipher_mode(cd) ? crypt_get_cipher_mode(cd) : "");
  const std::string spec_text = o.cipher.empty() ? current : o.cipher;
  *cipher = split_cipher_spec(spec_text);
  if (cipher->cipher.empty())
    return Status(Errc::invalid_argument, fmt::format("cipher {}: not of the form "
                                                      "cipher-chainmode-ivmode", spec_text));
  if (o.key_bits % 8 != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("key size {}: not a whole number of bytes", o.key_bits));
  if (o.key_bits != 0) {
    *key_bytes = o.key_bits / 8;
  } else if (spec_text == current) {
    *key_bytes = static_cast<uint32_t>(crypt_get_volume_key_size(cd));
  } else {
    *key_bytes = default_key_bytes(*cipher);
  }
  CipherSpec spec;
  Status s = CipherSpec::parse(cipher->spec(), *key_bytes * 8,
                               static_cast<uint32_t>(crypt_get_sector_size(cd)), &spec);
  return s.ok() ? s : s.in("reencrypt " + device);
}

// The new keyslot copies the old one's area encryption and key derivation, unless the
// caller names a key derivation: a reencryption is not the moment to weaken a passphrase.
Status set_new_keyslot_params(crypt_device* cd, const std::string& device, int old_slot,
                              const ReencryptOptions& o, const CryptLog& log) {
  size_t area_key_bytes = 0;
  const char* area_cipher = crypt_keyslot_get_encryption(cd, old_slot, &area_key_bytes);
  int r = area_cipher == nullptr ? -EINVAL
                                 : crypt_keyslot_set_encryption(cd, area_cipher, area_key_bytes);
  if (r < 0) return crypt_failure(fmt::format("keyslot {} of {}", old_slot, device), r, log);
  crypt_pbkdf_type pbkdf{};
  if (o.pbkdf) {
    if (Status s = check_pbkdf(*o.pbkdf, CRYPT_LUKS2); !s.ok()) return s;
    pbkdf = to_crypt_pbkdf(*o.pbkdf, CRYPT_LUKS2);
  } else {
    r = crypt_keyslot_get_pbkdf(cd, old_slot, &pbkdf);
    if (r < 0) return crypt_failure(fmt::format("keyslot {} of {}", old_slot, device), r, log);
    pbkdf.flags |= CRYPT_PBKDF_NO_BENCHMARK;  // its own cost, not a new benchmark's
  }
  r = crypt_set_pbkdf_type(cd, &pbkdf);
  if (r < 0) return crypt_failure(fmt::format("set pbkdf of {}", device), r, log);
  return Status::Ok();
}

// Writes the reencryption's metadata: a new volume key in an unbound keyslot for
// `passphrase`, and the segments libcryptsetup moves the data between.
Status initialise(crypt_device* cd, const std::string& device, Passphrase passphrase,
                  const ReencryptOptions& o, const CryptLog& log) {
  const int active = active_keyslots_of(cd);
  if (!o.keyslot && active > 1)
    return Status(Errc::invalid_argument,
                  fmt::format("reencrypt {}: {} key slots are active and only one is kept; name "
                              "it with --key-slot (the others are removed)",
                              device, active));
  CipherAndMode cipher;
  uint32_t key_bytes = 0;
  if (Status s = target_cipher(cd, device, o, &cipher, &key_bytes); !s.ok()) return s;
  const int old_slot = crypt_activate_by_passphrase(
      cd, nullptr, o.keyslot.value_or(CRYPT_ANY_SLOT), chars(passphrase), passphrase.size(), 0);
  if (old_slot < 0) return keyslot_failure(device, "reencrypt", o.keyslot, old_slot, log);
  if (Status s = set_new_keyslot_params(cd, device, old_slot, o, log); !s.ok()) return s;
  // A fresh random volume key, bound to no segment until the reencryption makes it the key.
  const int new_slot = crypt_keyslot_add_by_key(cd, CRYPT_ANY_SLOT, nullptr, key_bytes,
                                                chars(passphrase), passphrase.size(),
                                                CRYPT_VOLUME_KEY_NO_SEGMENT);
  if (new_slot < 0)
    return crypt_failure(fmt::format("reencrypt {}: add a key slot for the new key", device),
                         new_slot, log);
  crypt_params_luks2 luks2{};
  luks2.sector_size = static_cast<uint32_t>(crypt_get_sector_size(cd));
  crypt_params_reencrypt params{};
  params.mode = CRYPT_REENCRYPT_REENCRYPT;
  params.direction = CRYPT_REENCRYPT_FORWARD;
  params.resilience = o.resilience.c_str();
  params.hash = "sha256";
  params.max_hotzone_size = o.hotzone_bytes / 512;
  params.luks2 = &luks2;
  const int r = crypt_reencrypt_init_by_passphrase(
      cd, nullptr, chars(passphrase), passphrase.size(), old_slot, new_slot,
      cipher.cipher.c_str(), cipher.mode.c_str(), &params);
  if (r < 0) {
    // Nothing started: the unbound keyslot would only be litter.
    if (crypt_reencrypt_status(cd, nullptr) == CRYPT_REENCRYPT_NONE)
      crypt_keyslot_destroy(cd, new_slot);
    return crypt_failure(fmt::format("reencrypt {}", device), r, log);
  }
  return Status::Ok();
}

const char* mode_name(ReencryptMode mode) {
  switch (mode) {
    case ReencryptMode::encrypt: return "encrypt";
    case ReencryptMode::decrypt: return "decrypt";
    case ReencryptMode::reencrypt: break;
  }
  return "reencrypt";
}

// --encrypt's first step, as cryptsetup's: a LUKS2 header in the new file `header`, its
// data segment at `data_offset_sectors` of `device` and its first keyslot holding a fresh
// volume key for `passphrase`. The data is not touched yet.
Status format_encryption_header(const std::string& device, Passphrase passphrase,
                                const ReencryptOptions& o, const std::string& header,
                                uint64_t data_offset_sectors) {
  FormatOptions f;
  f.cipher = o.cipher.empty() ? "aes-xts-plain64" : o.cipher;
  f.key_bits = o.key_bits != 0 ? o.key_bits : 8 * default_key_bytes(split_cipher_spec(f.cipher));
  f.sector_size = o.sector_size;
  if (o.pbkdf) f.pbkdf = *o.pbkdf;
  f.keyslot = o.keyslot;
  f.header = header;
  f.data_offset_sectors = data_offset_sectors;  // libcryptsetup fits the keyslots before it
  Status s = format_volume(device, f, passphrase, nullptr);
  return s.ok() ? s : s.in("encrypt " + device);
}

// Starts libcryptsetup's encryption (the header just formatted, its keyslot for the new
// key) or decryption (the old key's keyslot; no new one).
Status initialise_mode(crypt_device* cd, const std::string& device, Passphrase passphrase,
                       const ReencryptOptions& o, const CryptLog& log) {
  crypt_params_reencrypt params{};
  params.resilience = o.resilience.c_str();
  params.hash = "sha256";
  params.max_hotzone_size = o.hotzone_bytes / 512;
  crypt_params_luks2 luks2{};  // encrypt: the new segment's geometry
  luks2.sector_size = static_cast<uint32_t>(crypt_get_sector_size(cd));
  int r;
  if (o.mode == ReencryptMode::encrypt) {
    params.mode = CRYPT_REENCRYPT_ENCRYPT;
    params.direction = CRYPT_REENCRYPT_FORWARD;
    params.luks2 = &luks2;
    // The keyslot format gave the new key (slot 0 unless named): libcryptsetup wants it named.
    r = crypt_reencrypt_init_by_passphrase(cd, nullptr, chars(passphrase), passphrase.size(),
                                           CRYPT_ANY_SLOT, o.keyslot.value_or(0),
                                           crypt_get_cipher(cd), crypt_get_cipher_mode(cd), &params);
  } else {
    // Backward, as cryptsetup decrypts without a data shift.
    params.mode = CRYPT_REENCRYPT_DECRYPT;
    params.direction = CRYPT_REENCRYPT_BACKWARD;
    r = crypt_reencrypt_init_by_passphrase(cd, nullptr, chars(passphrase), passphrase.size(),
                                           o.keyslot.value_or(CRYPT_ANY_SLOT), CRYPT_ANY_SLOT,
                                           nullptr, nullptr, &params);
  }
  if (r < 0) return keyslot_failure(device, mode_name(o.mode), o.keyslot, r, log);
  return Status::Ok();
}

// Whether the reencryption in progress has already moved every sector: the metadata holds
// a single data segment, and it is the "backup-final" one: under the new key (the digest of
// the "backup-final" segment), or in the clear for a decryption (both linear). Only
// finalising the header is left then, and libcryptsetup 2.6 does not resume that: it
// reencrypts the whole device again from the old key, which destroys every sector, or a
// decryption with a data shift decrypts its first moved segment a second time
// (reencrypt_test: killed after the last hotzone and resumed, by ublkcrypt or by cryptsetup
// 2.6.1, the data read back wrong).
enum class Unfinalised { no, under_new_key, in_clear };

Unfinalised finished_but_not_finalised(crypt_device* cd) {
  const char* text = nullptr;
  if (crypt_dump_json(cd, &text, 0) < 0 || text == nullptr) return Unfinalised::no;
  const nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
  if (!meta.is_object() || !meta.contains("segments") || !meta.contains("digests")) return Unfinalised::no;
  std::string data_segment, final_segment;
  int data_segments = 0;
  for (const auto& [id, segment] : meta["segments"].items()) {
    const auto flags = segment.value("flags", nlohmann::json::array());
    bool backup_final = false, backup = false;
    for (const auto& flag : flags) {
      if (!flag.is_string()) continue;
      backup |= flag.get<std::string>().rfind("backup-", 0) == 0;
      backup_final |= flag == "backup-final";
    }
    if (backup_final) final_segment = id;
    if (!backup) {
      data_segment = id;
      ++data_segments;
    }
  }
  if (data_segments != 1 || final_segment.empty()) return Unfinalised::no;
  const auto type_of = [&](const std::string& id) {
    return meta["segments"][id].value("type", std::string());
  };
  if (type_of(data_segment) == "linear" && type_of(final_segment) == "linear")
    return Unfinalised::in_clear;
  for (const auto& [id, digest] : meta["digests"].items()) {
    const auto segments = digest.value("segments", nlohmann::json::array());
    bool data = false, final = false;
    for (const auto& segment : segments) {
      data |= segment == data_segment;
      final |= segment == final_segment;
    }
    if (data && final) return Unfinalised::under_new_key;
  }
  return Unfinalised::no;
}

// Loads the reencryption in progress for crypt_reencrypt_run, redoing first the hotzone a
// crash interrupted. When that hotzone was the last, libcryptsetup finalises the header once
// it has redone it: the reencryption is over, and nothing is left in progress.
Status load_in_progress(crypt_device* cd, const std::string& device, Passphrase passphrase,
                        const ReencryptOptions& o, crypt_reencrypt_info state,
                        const CryptLog& log) {
  const int slot = o.keyslot.value_or(CRYPT_ANY_SLOT);
  if (const Unfinalised done = finished_but_not_finalised(cd); done != Unfinalised::no)
    return Status(Errc::unsupported,
                  done == Unfinalised::in_clear
                      ? fmt::format("reencrypt {}: every sector is already in the clear but the "
                                    "header was not finalised, and libcryptsetup 2.6 would decrypt "
                                    "part of the data again and destroy it: not resumed (the data "
                                    "needs the header no more)",
                                    device)
                      : fmt::format("reencrypt {}: every sector is already under the new key but "
                                    "the header was not finalised, and libcryptsetup 2.6 would "
                                    "reencrypt the data again and destroy it: not resumed",
                                    device));
  if (state == CRYPT_REENCRYPT_CRASH) {
    crypt_params_reencrypt recovery{};
    recovery.flags = CRYPT_REENCRYPT_RECOVERY;
    const int r = crypt_reencrypt_init_by_passphrase(cd, nullptr, chars(passphrase),
                                                     passphrase.size(), slot, slot, nullptr,
                                                     nullptr, &recovery);
    if (r < 0) return keyslot_failure(device, "recover the reencryption of", o.keyslot, r, log);
  }
  crypt_params_reencrypt params{};
  const crypt_reencrypt_info after = crypt_reencrypt_status(cd, &params);
  if (state == CRYPT_REENCRYPT_CRASH && after == CRYPT_REENCRYPT_NONE) return Status::Ok();
  if (after != CRYPT_REENCRYPT_CLEAN)
    return Status(Errc::corrupt, fmt::format("reencrypt {}: the reencryption in progress could "
                                             "not be recovered",
                                             device));
  params.resilience = nullptr;  // keep the one it started with
  params.max_hotzone_size = o.hotzone_bytes / 512;
  params.flags = CRYPT_REENCRYPT_RESUME_ONLY;
  const int r = crypt_reencrypt_init_by_passphrase(cd, nullptr, chars(passphrase),
                                                   passphrase.size(), slot, slot, nullptr,
                                                   nullptr, &params);
  if (r < 0) return keyslot_failure(device, "resume the reencryption of", o.keyslot, r, log);
  return Status::Ok();
}

// What the device (or, with `header`, its detached header) holds.
enum class DeviceContent { clear, encryption_in_progress, luks };

Status content_of(const std::string& device, const std::string& header, DeviceContent* content) {
  CryptLog log;
  DeviceHandle handle;
  if (Status s = crypt_open_device(device, header, &log, &handle.cd); !s.ok()) return s;
  const int r = crypt_load(handle.cd, CRYPT_LUKS, nullptr);
  if (r == -EINVAL) {
    *content = DeviceContent::clear;
  } else if (r < 0) {
    return crypt_failure(fmt::format("read {}", header.empty() ? device : header), r, log);
  } else {
    const bool in_progress = std::string_view(crypt_get_type(handle.cd)) == CRYPT_LUKS2 &&
                             crypt_reencrypt_status(handle.cd, nullptr) != CRYPT_REENCRYPT_NONE;
    *content = in_progress ? DeviceContent::encryption_in_progress : DeviceContent::luks;
  }
  return Status::Ok();
}

// Whether `header` records an encryption in progress (or finished): a header only
// formatted, before libcryptsetup marked the reencryption, has not started one. A header
// that cannot be read counts as started: it is kept.
bool encryption_started(const std::string& device, const std::string& header) {
  DeviceContent content = DeviceContent::clear;
  return !content_of(device, header, &content).ok() || content == DeviceContent::encryption_in_progress;
}

// The run itself, once any new header is in place.
Status run_mode(const std::string& device, Passphrase passphrase, const ReencryptOptions& o,
                const ReencryptProgress& progress, bool formatted_here) {
  CryptLog log;
  DeviceHandle handle;
  if (Status s = crypt_open_device(device, o.header, &log, &handle.cd); !s.ok()) return s;
  crypt_device* cd = handle.cd;
  int r = crypt_load(cd, CRYPT_LUKS, nullptr);
  if (r < 0)
    return r == -EINVAL ? Status(Errc::corrupt,
                                 fmt::format("device {}: not a LUKS device (no valid LUKS "
                                             "header found)",
                                             device))
                        : crypt_failure(fmt::format("load LUKS header of {}", device), r, log);
  if (std::string_view(crypt_get_type(cd)) != CRYPT_LUKS2)
    return Status(Errc::unsupported,
                  fmt::format("reencrypt {}: a LUKS1 volume (convert it to LUKS2 first: "
                              "cryptsetup convert --type luks2)",
                              device));
  const crypt_reencrypt_info state = crypt_reencrypt_status(cd, nullptr);
  if (state == CRYPT_REENCRYPT_INVALID)
    return Status(Errc::corrupt,
                  fmt::format("reencrypt {}: invalid reencryption metadata", device));
  Status s;
  if (state == CRYPT_REENCRYPT_NONE) {
    if (o.resume_only)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt {}: no reencryption in progress to resume", device));
    if (o.mode == ReencryptMode::encrypt && !formatted_here)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt --encrypt {}: header {} already holds a LUKS2 volume "
                                "(--encrypt writes a new header file)",
                                device, o.header));
    s = o.mode == ReencryptMode::reencrypt ? initialise(cd, device, passphrase, o, log)
                                            : initialise_mode(cd, device, passphrase, o, log);
  } else {
    if (!formatted_here && (!o.cipher.empty() || o.key_bits != 0))
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt {}: a reencryption is already in progress; finish it "
                                "first (ublkcrypt reencrypt --resume-only {})",
                                device, device));
    s = load_in_progress(cd, device, passphrase, o, state, log);
    // A recovery that finished the reencryption leaves nothing to run.
    if (s.ok() && crypt_reencrypt_status(cd, nullptr) == CRYPT_REENCRYPT_NONE) return s;
  }
  if (!s.ok()) return s;
  r = crypt_reencrypt_run(cd, on_progress, const_cast<ReencryptProgress*>(&progress));
  if (r < 0)
    return crypt_failure(fmt::format("reencrypt {} (still in progress: run again to resume)",
                                     device),
                         r, log);
  return Status::Ok();
}

// A private directory for the header of an encryption with a data shift until it is placed
// on the device; gone, with the header, when this goes out of scope.
class TemporaryHeader {
 public:
  Status create() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ublkcrypt-encrypt-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return errno_status("temporary directory " + pattern, errno);
    directory_ = pattern;
    return Status::Ok();
  }
  std::string path() const { return directory_ + "/header"; }
  ~TemporaryHeader() {
    if (directory_.empty()) return;
    ::unlink(path().c_str());
    ::rmdir(directory_.c_str());
  }

 private:
  std::string directory_;
};

// --encrypt --reduce-device-size up to the header's placement (volume/reencrypt.h): the
// header in a temporary file with the data offset at half the reduction, libcryptsetup's
// move of the first segment to the device's end, then the header copied to the device.
Status place_shifted_encryption(const std::string& device, Passphrase passphrase,
                                const ReencryptOptions& o) {
  const uint64_t shift_sectors = o.reduce_device_bytes / 2 / 512;
  TemporaryHeader temporary;
  if (Status s = temporary.create(); !s.ok()) return s;
  if (Status s = format_encryption_header(device, passphrase, o, temporary.path(), shift_sectors);
      !s.ok())
    return s;
  {
    CryptLog log;
    DeviceHandle handle;
    if (Status s = crypt_open_device(device, temporary.path(), &log, &handle.cd); !s.ok()) return s;
    int r = crypt_load(handle.cd, CRYPT_LUKS2, nullptr);
    if (r < 0) return crypt_failure(fmt::format("encrypt {}: load the new header", device), r, log);
    crypt_params_luks2 luks2{};
    luks2.sector_size = static_cast<uint32_t>(crypt_get_sector_size(handle.cd));
    crypt_params_reencrypt params{};
    params.mode = CRYPT_REENCRYPT_ENCRYPT;
    params.direction = CRYPT_REENCRYPT_BACKWARD;  // libcryptsetup's only way with a shift
    params.resilience = "datashift";
    params.hash = "sha256";
    params.data_shift = shift_sectors;
    params.max_hotzone_size = o.hotzone_bytes / 512;
    params.luks2 = &luks2;
    params.flags = CRYPT_REENCRYPT_INITIALIZE_ONLY | CRYPT_REENCRYPT_MOVE_FIRST_SEGMENT;
    r = crypt_reencrypt_init_by_passphrase(handle.cd, nullptr, chars(passphrase), passphrase.size(),
                                           CRYPT_ANY_SLOT, o.keyslot.value_or(0),
                                           crypt_get_cipher(handle.cd),
                                           crypt_get_cipher_mode(handle.cd), &params);
    if (r < 0) return keyslot_failure(device, "encrypt", o.keyslot, r, log);
  }
  pause_point("encrypt-first-segment-moved");
  CryptLog log;
  DeviceHandle handle;
  if (Status s = crypt_open_device(device, &log, &handle.cd); !s.ok()) return s;
  const int r = crypt_header_restore(handle.cd, CRYPT_LUKS2, temporary.path().c_str());
  if (r < 0)
    return crypt_failure(
        fmt::format("encrypt {}: place the header at the start of the device (the data is "
                    "still in the clear where it was)",
                    device),
        r, log);
  return Status::Ok();
}

// --encrypt with the header on the device: started, or resumed from the device's header.
Status encrypt_in_place(const std::string& device, Passphrase passphrase,
                        const ReencryptOptions& o, const ReencryptProgress& progress) {
  const uint64_t reduce = o.reduce_device_bytes;
  if (reduce % 8192 != 0 || reduce > (uint64_t{1} << 30))
    return Status(Errc::invalid_argument,
                  fmt::format("--reduce-device-size {}: not a multiple of 8 KiB up to 1 GiB (the "
                              "header takes half of it, 4 KiB aligned)",
                              reduce));
  DeviceContent content = DeviceContent::clear;
  if (Status s = content_of(device, "", &content); !s.ok()) return s;
  if (content == DeviceContent::luks)
    return Status(Errc::invalid_argument,
                  fmt::format("reencrypt --encrypt {}: the device already holds a LUKS volume",
                              device));
  if (content == DeviceContent::clear) {
    if (o.resume_only)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt {}: no encryption in progress to resume", device));
    if (Status s = place_shifted_encryption(device, passphrase, o); !s.ok()) return s;
    pause_point("encrypt-header-placed");
  }
  return run_mode(device, passphrase, o, progress, content == DeviceContent::clear);
}

// Makes `path`'s contents and its name in its directory durable: a header copy must survive
// a power loss before the header it copies is wiped from the device.
Status make_durable(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::filesystem::path directory = parent.empty() ? std::filesystem::path(".") : parent;
  for (const std::filesystem::path& name : {std::filesystem::path(path), directory}) {
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_status("sync " + name.string(), errno);
    const int r = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (r != 0) return errno_status("sync " + name.string(), err);
  }
  return Status::Ok();
}

// NEW_FILE.part becomes NEW_FILE, durably: from here on a run resumes from NEW_FILE.
Status promote_pending(const std::string& device, const std::string& pending,
                       const std::string& header) {
  if (::rename(pending.c_str(), header.c_str()) != 0)
    return errno_status(fmt::format("decrypt {}: rename {} to {}", device, pending, header), errno);
  return make_durable(header);
}

// The steps of --decrypt with the header on the device (volume/reencrypt.h), from a header
// copy in `pending` whose device header is gone (wiped, or overwritten by the first move):
// libcryptsetup moves the first segment to the start of the device and records the
// decryption in `pending`, which then becomes o.header. A failed start puts the header back.
Status start_shifted_decryption(const std::string& device, Passphrase passphrase,
                                const ReencryptOptions& o, const std::string& pending) {
  {
    CryptLog log;
    DeviceHandle handle;
    if (Status s = crypt_open_device(device, pending, &log, &handle.cd); !s.ok()) return s;
    int r = crypt_load(handle.cd, CRYPT_LUKS2, nullptr);
    if (r < 0) return crypt_failure(fmt::format("decrypt {}: load the header {}", device, pending), r, log);
    crypt_params_reencrypt params{};
    params.mode = CRYPT_REENCRYPT_DECRYPT;
    params.direction = CRYPT_REENCRYPT_FORWARD;  // libcryptsetup's only way with a shift
    params.resilience = "datashift-checksum";
    params.hash = "sha256";
    params.data_shift = crypt_get_data_offset(handle.cd);
    params.max_hotzone_size = o.hotzone_bytes / 512;
    params.flags = CRYPT_REENCRYPT_INITIALIZE_ONLY | CRYPT_REENCRYPT_MOVE_FIRST_SEGMENT;
    r = crypt_reencrypt_init_by_passphrase(handle.cd, nullptr, chars(passphrase), passphrase.size(),
                                           o.keyslot.value_or(CRYPT_ANY_SLOT), CRYPT_ANY_SLOT,
                                           nullptr, nullptr, &params);
    if (r < 0) {
      Status failed = keyslot_failure(device, "decrypt", o.keyslot, r, log);
      if (crypt_reencrypt_status(handle.cd, nullptr) != CRYPT_REENCRYPT_NONE) return failed;
      CryptLog restore_log;
      DeviceHandle restore;
      if (crypt_open_device(device, &restore_log, &restore.cd).ok() &&
          crypt_header_restore(restore.cd, CRYPT_LUKS2, pending.c_str()) == 0)
        ::unlink(pending.c_str());
      return failed;
    }
  }
  pause_point("decrypt-initialised");
  return promote_pending(device, pending, o.header);
}

// --decrypt --header FILE of a volume whose header is on the device, FILE not existing yet
// (cryptsetup 2.6's header export): the header is copied to FILE.part, wiped from the
// device, and the data moves back to the start of the device. Killed before FILE exists,
// the next run finds the header in FILE.part: a decryption not yet recorded there is
// undone (the header goes back to the device, whose data has not moved) and started again;
// one recorded there is resumed.
Status decrypt_in_place(const std::string& device, Passphrase passphrase,
                        const ReencryptOptions& o, const ReencryptProgress& progress) {
  const std::string pending = o.header + ".part";
  DeviceContent content = DeviceContent::clear;
  if (Status s = content_of(device, "", &content); !s.ok()) return s;
  if (content == DeviceContent::encryption_in_progress)
    return Status(Errc::invalid_argument,
                  fmt::format("reencrypt --decrypt {}: a reencryption is in progress; finish it "
                              "first (ublkcrypt reencrypt --resume-only {})",
                              device, device));
  struct stat st;
  const bool have_pending = ::stat(pending.c_str(), &st) == 0;
  if (content == DeviceContent::clear) {
    if (!have_pending)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt --decrypt {}: header {} does not exist and the device "
                                "holds no LUKS header",
                                device, o.header));
    DeviceContent recorded = DeviceContent::clear;
    if (Status s = content_of(device, pending, &recorded); !s.ok())
      return s.in(fmt::format("decrypt {}", device));
    if (recorded == DeviceContent::clear)
      return Status(Errc::invalid_argument,
                    fmt::format("decrypt {}: load the header {}: not a LUKS header", device, pending));
    if (recorded == DeviceContent::encryption_in_progress) {
      if (Status s = promote_pending(device, pending, o.header); !s.ok()) return s;
      return run_mode(device, passphrase, o, progress, false);
    }
    if (o.resume_only)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt {}: no decryption in progress to resume", device));
    // Killed before libcryptsetup recorded the decryption: the data has not moved.
    CryptLog restore_log;
    DeviceHandle restore;
    if (Status s = crypt_open_device(device, &restore_log, &restore.cd); !s.ok()) return s;
    const int r = crypt_header_restore(restore.cd, CRYPT_LUKS2, pending.c_str());
    if (r < 0) return crypt_failure(fmt::format("decrypt {}: put the header from {} back", device, pending), r, restore_log);
  } else if (o.resume_only) {
    return Status(Errc::invalid_argument,
                  fmt::format("reencrypt {}: no decryption in progress to resume", device));
  }
  {
    CryptLog log;
    DeviceHandle handle;
    if (Status s = crypt_open_device(device, &log, &handle.cd); !s.ok()) return s;
    int r = crypt_load(handle.cd, CRYPT_LUKS, nullptr);
    if (r < 0) return crypt_failure(fmt::format("load LUKS header of {}", device), r, log);
    if (std::string_view(crypt_get_type(handle.cd)) != CRYPT_LUKS2)
      return Status(Errc::unsupported,
                    fmt::format("reencrypt {}: a LUKS1 volume (convert it to LUKS2 first: "
                                "cryptsetup convert --type luks2)",
                                device));
    // The passphrase first: nothing is written for a wrong one.
    r = crypt_activate_by_passphrase(handle.cd, nullptr, o.keyslot.value_or(CRYPT_ANY_SLOT),
                                     chars(passphrase), passphrase.size(), 0);
    if (r < 0) return keyslot_failure(device, "decrypt", o.keyslot, r, log);
    ::unlink(pending.c_str());  // a copy of the header still on the device
    r = crypt_header_backup(handle.cd, CRYPT_LUKS2, pending.c_str());
    if (r < 0) return crypt_failure(fmt::format("decrypt {}: copy the header to {}", device, pending), r, log);
    if (Status s = make_durable(pending); !s.ok()) return s;
    pause_point("decrypt-header-exported");
    // Both binary headers go, so a short first move cannot leave one behind that would
    // still describe the device as encrypted.
    uint64_t metadata_bytes = 0, keyslots_bytes = 0;
    r = crypt_get_metadata_size(handle.cd, &metadata_bytes, &keyslots_bytes);
    if (r == 0)
      r = crypt_wipe(handle.cd, device.c_str(), CRYPT_WIPE_ZERO, 0, 2 * metadata_bytes, 0, 0,
                     nullptr, nullptr);
    if (r < 0) return crypt_failure(fmt::format("decrypt {}: wipe the header", device), r, log);
  }
  pause_point("decrypt-header-wiped");
  if (Status s = start_shifted_decryption(device, passphrase, o, pending); !s.ok()) return s;
  return run_mode(device, passphrase, o, progress, false);
}

}  // namespace

Status reencrypt_volume(const std::string& device, Passphrase passphrase,
                        const ReencryptOptions& o, const ReencryptProgress& progress) {
  if (o.resilience != "checksum" && o.resilience != "journal" && o.resilience != "none")
    return Status(Errc::invalid_argument,
                  fmt::format("resilience {}: unsupported (checksum, journal or none)",
                              o.resilience));
  if (o.hotzone_bytes % 512 != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("hotzone size {}: not a multiple of 512 bytes", o.hotzone_bytes));
  if (o.reduce_device_bytes != 0 && (o.mode != ReencryptMode::encrypt || !o.header.empty()))
    return Status(Errc::invalid_argument,
                  fmt::format("reencrypt {}: --reduce-device-size makes room for a header at the "
                              "start of the device: only with --encrypt and without --header",
                              device));
  if (o.mode == ReencryptMode::encrypt && o.header.empty()) {
    if (o.reduce_device_bytes == 0)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt --encrypt {}: needs --header FILE, or "
                                "--reduce-device-size SIZE to make room for the header at the "
                                "start of the device",
                                device));
    return encrypt_in_place(device, passphrase, o, progress);
  }
  if (o.mode == ReencryptMode::decrypt && o.header.empty())
    return Status(Errc::invalid_argument,
                  fmt::format("reencrypt --decrypt {}: needs --header FILE: a detached header, or "
                              "a new file the header on the device moves to",
                              device));
  struct stat header_st;
  if (o.mode == ReencryptMode::decrypt && ::stat(o.header.c_str(), &header_st) != 0) {
    if (errno != ENOENT) return errno_status("header " + o.header, errno);
    return decrypt_in_place(device, passphrase, o, progress);
  }
  // --encrypt onto a header file that does not exist yet starts the encryption; one an
  // interrupted encryption left resumes it (below, as any reencryption in progress).
  bool formatted_here = false;
  if (o.mode == ReencryptMode::encrypt && ::stat(o.header.c_str(), &header_st) != 0) {
    if (errno != ENOENT) return errno_status("header " + o.header, errno);
    if (o.resume_only)
      return Status(Errc::invalid_argument,
                    fmt::format("reencrypt {}: no encryption in progress to resume ({} does not exist)",
                                device, o.header));
    if (Status s = format_encryption_header(device, passphrase, o, o.header, 0); !s.ok()) return s;
    formatted_here = true;
  }
  Status s = run_mode(device, passphrase, o, progress, formatted_here);
  // An encryption that never started leaves no header behind: the data is still in the
  // clear, and a stray header would claim otherwise.
  if (!s.ok() && formatted_here && !encryption_started(device, o.header)) ::unlink(o.header.c_str());
  return s;
}

}  // namespace ublkcrypt

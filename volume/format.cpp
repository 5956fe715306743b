#include "volume/format.h"

#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <vector>

#include "backends/cipher_spec.h"
#include "volume/crypt_log.h"

namespace ublkcrypt {

static const char* luks_type(const FormatOptions& o) {
  return o.type == "luks1" ? CRYPT_LUKS1 : CRYPT_LUKS2;
}

Status check_format_options(const FormatOptions& o) {
  if (o.type != "luks2" && o.type != "luks1")
    return Status(Errc::invalid_argument,
                  fmt::format("type {}: unsupported (use luks2 or luks1)", o.type));
  Status s = check_pbkdf(o.pbkdf, luks_type(o));
  if (!s.ok()) return s;
  if (o.type == "luks1" && o.sector_size != 0 && o.sector_size != 512)
    return Status(Errc::invalid_argument,
                  fmt::format("sector size {}: LUKS1 supports only 512", o.sector_size));
  // Refuse here, before anything is written, what ublkcrypt could not open afterwards.
  CipherSpec spec;
  return CipherSpec::parse(o.cipher, o.key_bits, o.sector_size == 0 ? 512 : o.sector_size, &spec);
}

// "aes-xts-plain64" -> "aes", "xts-plain64": crypt_format takes them apart.
static void split_cipher(const std::string& full, std::string* cipher, std::string* mode) {
  size_t dash = full.find('-');
  *cipher = full.substr(0, dash);
  *mode = dash == std::string::npos ? "" : full.substr(dash + 1);
}

// Undoes a half-made format: zeroes the header area so the device is not left holding a
// header without keyslots, which would look like a volume nobody can open.
static void wipe_header_area(const std::string& device, uint64_t bytes) {
  int fd = open(device.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes = std::min<uint64_t>(bytes, st.st_size);
  std::vector<char> zeros(1 << 20, 0);
  for (uint64_t done = 0; done < bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - done));
    ssize_t w = pwrite(fd, zeros.data(), n, static_cast<off_t>(done));
    if (w <= 0) break;
    done += static_cast<uint64_t>(w);
  }
  fsync(fd);
  close(fd);
}

// A detached header file that does not exist yet is created with one 4 KiB block, mode 0600
// (it will hold keyslots), as cryptsetup's luksFormat creates it: libcryptsetup grows a
// header file to the header's size but refuses an empty one ("too small"). `*created` tells
// the caller to remove it again if the format fails.
static Status create_header_file(const std::string& header, bool* created) {
  *created = false;
  struct stat st;
  if (header.empty() || stat(header.c_str(), &st) == 0) return Status::Ok();
  if (errno != ENOENT) return errno_status("header " + header, errno);
  int fd = open(header.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("create header file " + header, errno);
  *created = true;
  const int r = posix_fallocate(fd, 0, 4096);
  close(fd);
  if (r != 0) return errno_status("create header file " + header, r);
  return Status::Ok();
}

static Status write_header(const std::string& device, const FormatOptions& options, Passphrase passphrase);

Status format_volume(const std::string& device, const FormatOptions& options,
                     Passphrase passphrase, std::unique_ptr<LuksVolume>* out) {
  Status s = check_format_options(options);
  if (!s.ok()) return s;
  // Checked before a header file is created: a missing device leaves nothing behind.
  struct stat st;
  if (stat(device.c_str(), &st) != 0) return errno_status("device " + device, errno);
  bool created = false;
  s = create_header_file(options.header, &created);
  if (s.ok()) s = write_header(device, options, passphrase);
  if (!s.ok()) {
    if (created) unlink(options.header.c_str());
    return s;
  }
  if (out == nullptr) return Status::Ok();
  return LuksVolume::load(device, options.header, out);
}

// The header and its first keyslot, on the device or in options.header.
static Status write_header(const std::string& device, const FormatOptions& options, Passphrase passphrase) {
  CryptLog log;
  crypt_device* cd = nullptr;
  Status s = crypt_open_device(device, options.header, &log, &cd);
  if (!s.ok()) return s;
  int r = 0;
  // With a detached header libcryptsetup starts the data at the alignment (0 by default),
  // as cryptsetup's luksFormat --header does; --offset sets it explicitly.
  if (options.data_offset_sectors) r = crypt_set_data_offset(cd, *options.data_offset_sectors);

  std::string cipher, mode;
  split_cipher(options.cipher, &cipher, &mode);
  CipherSpec spec;
  const bool whole_sector_iv =
      CipherSpec::parse(options.cipher, options.key_bits, 512, &spec).ok() && spec.whitens_sectors();
  crypt_pbkdf_type pbkdf = to_crypt_pbkdf(options.pbkdf, luks_type(options));
  size_t key_bytes = options.key_bits / 8;
  if (options.type == "luks1") {
    crypt_params_luks1 params{};
    params.hash = "sha256";
    if (r >= 0) r = crypt_set_pbkdf_type(cd, &pbkdf);
    if (r >= 0)
      r = crypt_format(cd, CRYPT_LUKS1, cipher.c_str(), mode.c_str(), nullptr, nullptr,
                       key_bytes, &params);
  } else {
    crypt_params_luks2 params{};
    params.pbkdf = &pbkdf;
    // libcryptsetup would pick 4096-byte sectors on some devices; lmk and tcw need 512.
    params.sector_size = options.sector_size == 0 && whole_sector_iv ? 512 : options.sector_size;
    params.data_alignment = options.data_alignment_bytes / 512;
    params.label = options.label.empty() ? nullptr : options.label.c_str();
    if (r >= 0)
      r = crypt_format(cd, CRYPT_LUKS2, cipher.c_str(), mode.c_str(), nullptr, nullptr, key_bytes,
                       &params);
  }
  if (r < 0) {
    s = crypt_failure(fmt::format("format {}", device), r, log);
    crypt_free(cd);
    return s;
  }
  // lmk's and tcw's IVs depend on whole 512-byte sectors of data, which libcryptsetup's
  // keyslot encryption does not compute: as `cryptsetup luksFormat` asks of them
  // (--keyslot-cipher), the keyslots get LUKS2's default keyslot cipher instead.
  if (whole_sector_iv && options.type != "luks1")
    r = crypt_keyslot_set_encryption(cd, "aes-xts-plain64", 64);
  if (r < 0) {
    s = crypt_failure(fmt::format("format {}: keyslot cipher", device), r, log);
    crypt_free(cd);
    return s;
  }
  // crypt_format generated the volume key and still holds it; the first keyslot wraps it.
  r = crypt_keyslot_add_by_volume_key(cd, options.keyslot.value_or(CRYPT_ANY_SLOT), nullptr, 0,
                                      reinterpret_cast<const char*>(passphrase.data()),
                                      passphrase.size());
  if (r < 0) {
    s = crypt_failure(fmt::format("format {}: add key slot", device), r, log);
    // A detached header's area is the header's own start, whatever the data offset: both
    // LUKS2 copies lie within 8 MiB (4 MiB at most each), a LUKS1 header within its keyslots.
    uint64_t header_bytes = options.header.empty() ? crypt_get_data_offset(cd) * 512 : 8 << 20;
    crypt_free(cd);
    wipe_header_area(options.header.empty() ? device : options.header, header_bytes);
    return s;
  }
  crypt_free(cd);  // wipes libcryptsetup's copy of the volume key
  return Status::Ok();
}

}  // namespace ublkcrypt

#include "tools/crypttab.h"

#include <blkid/blkid.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

namespace ublkcrypt {
namespace {

bool parse_number(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// Applies one option of the OPTIONS field to `e`; the error names the option.
Status apply_option(std::string_view option, CrypttabEntry* e) {
  size_t eq = option.find('=');
  std::string_view key = option.substr(0, eq);
  bool has_value = eq != std::string_view::npos;
  std::string_view value = has_value ? option.substr(eq + 1) : std::string_view();
  const std::string quoted = "'" + std::string(option) + "'";
  auto flag = [&](bool* target) {
    if (has_value) return Status(Errc::invalid_argument, "option " + quoted + " takes no value");
    *target = true;
    return Status::Ok();
  };
  auto text = [&](std::string* target) {
    if (!has_value || value.empty()) return Status(Errc::invalid_argument, "option " + quoted + " needs a value");
    *target = std::string(value);
    return Status::Ok();
  };
  auto number = [&](auto* target) {
    uint64_t n = 0;
    if (!has_value || !parse_number(value, &n) || n > std::numeric_limits<std::remove_pointer_t<decltype(target)>>::max())
      return Status(Errc::invalid_argument, "option " + quoted + " needs a number");
    *target = static_cast<std::remove_pointer_t<decltype(target)>>(n);
    return Status::Ok();
  };
  OpenOptions& o = e->open;
  if (key == "luks" || key == "plain" || key == "tcrypt") {
    if (has_value) return Status(Errc::invalid_argument, "option " + quoted + " takes no value");
    o.type = std::string(key);
    return Status::Ok();
  }
  if (key == "header") return text(&o.header);  // a detached LUKS header, as crypttab(5) has it
  if (key == "cipher") return text(&o.plain.cipher);
  if (key == "hash") return text(&o.plain.hash);
  if (key == "size") {
    // crypttab's size is the key size in bits, whole bytes.
    if (Status s = number(&o.plain.key_bits); !s.ok()) return s;
    if (o.plain.key_bits == 0 || o.plain.key_bits % 8 != 0)
      return Status(Errc::invalid_argument, "option " + quoted + ": key size must be a positive multiple of 8 bits");
    return Status::Ok();
  }
  if (key == "sector-size") return number(&o.plain.sector_size);
  if (key == "offset") return number(&o.plain.offset);
  if (key == "skip") return number(&o.plain.skip);
  if (key == "readonly" || key == "read-only") return flag(&o.read_only);
  if (key == "discard") return flag(&o.allow_discards);
  if (key == "noauto") return flag(&e->noauto);
  if (key == "nofail") return flag(&e->nofail);
  if (key == "keyfile-offset") return number(&o.key.keyfile_offset);
  if (key == "keyfile-size") return number(&o.key.keyfile_size);
  // systemd's crypttab names for the tcrypt options (cryptsetup's --tcrypt-hidden, ...).
  if (key == "tcrypt-hidden") return flag(&o.tcrypt.hidden);
  if (key == "tcrypt-system") return flag(&o.tcrypt.system);
  if (key == "tcrypt-veracrypt") return flag(&o.tcrypt.veracrypt);
  if (key == "veracrypt-pim") return number(&o.tcrypt.veracrypt_pim);
  if (key == "tcrypt-keyfile") {
    std::string keyfile;
    if (Status s = text(&keyfile); !s.ok()) return s;
    o.tcrypt.keyfiles.push_back(std::move(keyfile));
    return Status::Ok();
  }
  if (key == "tries") {
    uint64_t ignored = 0;
    return number(&ignored);
  }
  return Status(Errc::invalid_argument, "unknown option " + quoted);
}

CrypttabEntry parse_line(std::string_view line, const std::string& where) {
  CrypttabEntry e;
  e.where = where;
  std::vector<std::string> fields;
  std::istringstream in{std::string(line)};
  for (std::string field; in >> field;) fields.push_back(field);
  if (fields.size() < 2 || fields.size() > 4) {
    e.error = Status(Errc::invalid_argument,
                     where + ": expected NAME DEVICE [KEYFILE [OPTIONS]], found " + std::to_string(fields.size()) +
                         " field" + (fields.size() == 1 ? "" : "s"));
    return e;
  }
  e.open.name = fields[0];
  e.open.device = fields[1];
  if (fields.size() > 2 && fields[2] != "none" && fields[2] != "-") e.open.key.key_file = fields[2];
  if (fields.size() > 3 && fields[3] != "-" && fields[3] != "none") {
    for (std::string_view option : split(fields[3], ',')) {
      if (option.empty()) continue;  // "luks,,discard", a trailing comma
      if (Status s = apply_option(option, &e); !s.ok()) {
        e.error = s.in(where);
        return e;
      }
    }
  }
  // A TrueCrypt line's key file holds the passphrase, as `key` has it for every type;
  // keyfiles come with tcrypt-keyfile= (systemd's crypttab(5)).
  return e;
}

}  // namespace

std::vector<CrypttabEntry> parse_crypttab(std::string_view text, const std::string& file) {
  std::vector<CrypttabEntry> entries;
  int number = 0;
  for (std::string_view line : split(text, '\n')) {
    ++number;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    entries.push_back(parse_line(line, file + ":" + std::to_string(number)));
  }
  // split() yields one empty piece after a final newline: skipped above as blank.
  return entries;
}

Status read_crypttab(const std::string& file, std::vector<CrypttabEntry>* out) {
  std::ifstream in(file);
  if (!in) return errno_status("crypttab " + file, errno ? errno : ENOENT);
  std::stringstream text;
  text << in.rdbuf();
  *out = parse_crypttab(text.str(), file);
  return Status::Ok();
}

Status resolve_crypttab_device(const std::string& device, const std::string& by_uuid_dir, std::string* out) {
  if (device.rfind("UUID=", 0) != 0) {
    *out = device;
    return Status::Ok();
  }
  std::string uuid = device.substr(5);
  if (uuid.empty() || uuid.find('/') != std::string::npos)
    return Status(Errc::invalid_argument, "device " + device + ": not a UUID");
  std::string link = by_uuid_dir + "/" + uuid;
  struct stat st;
  if (::stat(link.c_str(), &st) == 0) {
    *out = link;
    return Status::Ok();
  }
  // No udev (early boot, a VM): libblkid probes the block devices for the UUID.
  blkid_cache cache = nullptr;
  char* found = blkid_evaluate_tag("UUID", uuid.c_str(), &cache);
  if (cache) blkid_put_cache(cache);
  if (!found) return Status(Errc::not_found, "device " + device + ": no block device has this UUID");
  *out = found;
  std::free(found);
  return Status::Ok();
}

}  // namespace ublkcrypt

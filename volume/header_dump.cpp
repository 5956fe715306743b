// The header as text and JSON (dump), and as a file (header backup and restore).
#include <libcryptsetup.h>
#include <sys/stat.h>

#include <cerrno>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "volume/crypt_log.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

Status LuksVolume::dump_text(std::string* out) const {
  out->clear();
  log_->capture_output(out);
  int r = crypt_dump(cd_);
  log_->capture_output(nullptr);
  if (r < 0) return crypt_failure(fmt::format("dump {}", device_), r, *log_);
  return Status::Ok();
}

Status LuksVolume::dump_json(std::string* out) const {
  if (type() == CRYPT_LUKS2) {
    const char* text = nullptr;
    int r = crypt_dump_json(cd_, &text, 0);
    if (r < 0) return crypt_failure(fmt::format("dump {}", device_), r, *log_);
    *out = nlohmann::json::parse(text).dump(2);
    return Status::Ok();
  }
  // LUKS1 has no JSON metadata: summarise it in the LUKS2 shape a script would look for.
  nlohmann::json slots = nlohmann::json::object();
  for (const KeyslotInfo& info : keyslots())
    if (info.active) slots[std::to_string(info.slot)] = {{"type", "luks1"}};
  nlohmann::json meta = {
      {"type", type()},
      {"uuid", uuid()},
      {"keyslots", slots},
      {"segments",
       {{"0",
         {{"type", "crypt"},
          {"offset", std::to_string(data_offset_bytes())},
          {"size", "dynamic"},
          {"iv_tweak", std::to_string(iv_offset())},
          {"encryption", cipher()},
          {"sector_size", sector_size()}}}}},
  };
  *out = meta.dump(2);
  return Status::Ok();
}

Status LuksVolume::backup_header(const std::string& file) {
  struct stat st;
  if (stat(file.c_str(), &st) == 0)
    return Status(Errc::busy, fmt::format("header backup file {} already exists", file));
  int r = crypt_header_backup(cd_, nullptr, file.c_str());
  if (r < 0)
    return crypt_failure(fmt::format("back up header of {} to {}", device_, file), r, *log_);
  return Status::Ok();
}

Status restore_header(const std::string& device, const std::string& file, const std::string& header) {
  struct stat st;
  if (stat(file.c_str(), &st) != 0)
    return errno_status(fmt::format("header backup file {}", file), errno);
  CryptLog log;
  crypt_device* cd = nullptr;
  Status s = crypt_open_device(device, header, &log, &cd);
  if (!s.ok()) return s;
  // With a detached header, crypt_header_restore writes into the header, not the data.
  const std::string& target = header.empty() ? device : header;
  int r = crypt_header_restore(cd, CRYPT_LUKS, file.c_str());
  crypt_free(cd);
  if (r == -EINVAL && log.last_error().empty())
    return Status(Errc::corrupt,
                  fmt::format("restore header of {}: {} holds no valid LUKS header", target, file));
  if (r < 0) return crypt_failure(fmt::format("restore header of {}", target), r, log);
  return Status::Ok();
}

}  // namespace ublkcrypt

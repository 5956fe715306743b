#include "volume/crypt_log.h"

#include <libcryptsetup.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include <mutex>

namespace ublkcrypt {

static void forward(int level, const char* message, void* user) {
  CryptLog* log = user != nullptr ? static_cast<CryptLog*>(user) : &thread_crypt_log();
  log->receive(level, message);
}

CryptLog& thread_crypt_log() {
  thread_local CryptLog log;
  return log;
}

void CryptLog::attach(crypt_device* cd) {
  static std::once_flag once;
  std::call_once(once, [] { crypt_set_log_callback(nullptr, forward, nullptr); });
  if (cd != nullptr) crypt_set_log_callback(cd, forward, this);
}

void CryptLog::receive(int level, const char* message) {
  if (message == nullptr) return;
  if (level == CRYPT_LOG_ERROR) {
    std::string_view text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == '.')) text.remove_suffix(1);
    last_error_.assign(text);
  } else if (level == CRYPT_LOG_NORMAL && sink_ != nullptr) {
    sink_->append(message);
  } else if (level == CRYPT_LOG_DEBUG && debug_sink_ != nullptr) {
    debug_sink_->append(message);
  }
}

Status crypt_open_device(const std::string& device, CryptLog* log, crypt_device** out) {
  return crypt_open_device(device, "", log, out);
}

Status crypt_open_device(const std::string& device, const std::string& header, CryptLog* log,
                         crypt_device** out) {
  struct stat st;
  if (stat(device.c_str(), &st) != 0) return errno_status("device " + device, errno);
  if (!header.empty() && stat(header.c_str(), &st) != 0)
    return errno_status("header " + header, errno);
  log->attach(nullptr);
  int r = header.empty() ? crypt_init(out, device.c_str())
                         : crypt_init_data_device(out, header.c_str(), device.c_str());
  if (r < 0)
    return crypt_failure(header.empty() ? "device " + device : "header " + header, r, thread_crypt_log());
  log->attach(*out);
  return Status::Ok();
}

Status crypt_failure(std::string_view what, int negative_errno, const CryptLog& log) {
  Status from_errno = errno_status(what, -negative_errno);
  if (log.last_error().empty()) return from_errno;
  std::string text(what);
  text += ": ";
  text += log.last_error();
  return Status(from_errno.code(), std::move(text));
}

Status keyslot_failure(const std::string& device, std::string_view action,
                       std::optional<int> slot, int r, const CryptLog& log) {
  if (r == -EPERM)
    return Status(Errc::permission,
                  fmt::format("{} {}: wrong passphrase (no key slot matches)", action, device));
  if (r == -ENOENT && slot)
    return Status(Errc::not_found,
                  fmt::format("{} {}: key slot {} is not active", action, device, *slot));
  if (r == -EINVAL && slot)
    return Status(Errc::invalid_argument,
                  fmt::format("{} {}: key slot {} is invalid or already in use", action,
                              device, *slot));
  return crypt_failure(fmt::format("{} {}", action, device), r, log);
}

}  // namespace ublkcrypt

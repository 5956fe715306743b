// CryptLog: where libcryptsetup's messages go. Left alone, libcryptsetup prints them to
// stdout/stderr, which would break our one-line error contract and mix its wording with
// ours. Instead its errors are kept so a failing call can name the cause in its Status,
// normal and debug output are kept only while a caller asks for them (luksDump text, a
// header field), and verbose output is dropped. libcryptsetup never logs passphrases or
// keys; nothing here could print one anyway, since nothing is printed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

struct crypt_device;

namespace ublkcrypt {

class CryptLog {
 public:
  // Routes `cd`'s messages here. Also installs, once per process, a default route for
  // messages libcryptsetup logs before a handle has its own (into a per-thread CryptLog).
  void attach(crypt_device* cd);

  // The most recent error message, without the trailing newline and period.
  const std::string& last_error() const { return last_error_; }

  // While set, normal-level output is appended to `*sink` (crypt_dump's text).
  void capture_output(std::string* sink) { sink_ = sink; }
  // While set, debug-level output is appended to `*sink`: libcryptsetup states some header
  // fields only there (volume/tcrypt_volume.cpp). It logs no passphrase or key at any level.
  void capture_debug(std::string* sink) { debug_sink_ = sink; }

  void receive(int level, const char* message);

 private:
  std::string last_error_;
  std::string* sink_ = nullptr;
  std::string* debug_sink_ = nullptr;
};

// crypt_init on `device` with its messages routed to `log`. A missing device is named by
// errno (libcryptsetup would report it as a generic failure). With a non-empty `header` the
// LUKS header lives apart from the data (cryptsetup's --header): crypt_init_data_device
// reads and writes the header in `header` and takes `device` as the data device only.
Status crypt_open_device(const std::string& device, CryptLog* log, crypt_device** out);
Status crypt_open_device(const std::string& device, const std::string& header, CryptLog* log,
                         crypt_device** out);

// The per-thread CryptLog that receives messages of calls made without a handle.
CryptLog& thread_crypt_log();

// Status for a failed libcryptsetup call returning -errno: "<what>: <cause>", the cause
// being libcryptsetup's own last error message when it logged one, else strerror. The class
// comes from the errno.
Status crypt_failure(std::string_view what, int negative_errno, const CryptLog& log);

// The failures every passphrase-authorised keyslot operation shares: "<action> <device>:
// wrong passphrase (no key slot matches)" (permission), the asked `slot` inactive
// (not_found) or unusable (invalid_argument), else crypt_failure.
Status keyslot_failure(const std::string& device, std::string_view action,
                       std::optional<int> slot, int r, const CryptLog& log);

}  // namespace ublkcrypt

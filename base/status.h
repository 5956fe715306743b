// Status: the result of an operation that can fail, as a value (never an exception across
// a layer). The message is one line naming the object and the cause, ready to print:
//   "open /dev/sdb: no such file or directory"
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ublkcrypt {

// Error classes. Each maps to one documented CLI exit code (tools/exit_codes.h), modelled
// on cryptsetup's: 1 wrong parameters, 2 no permission / bad passphrase, 3 out of memory,
// 4 wrong device, 5 device busy.
enum class Errc {
  ok = 0,
  invalid_argument,  // bad parameter or request (misaligned, out of range, unknown cipher)
  unsupported,       // valid but not supported here (cipher a provider lacks, no ublk driver)
  permission,        // no permission, wrong passphrase, locked range
  no_memory,
  not_found,         // object does not exist (file, name, key slot, driver)
  busy,              // device or name in use
  corrupt,           // on-disk or on-wire data malformed (header, drive response)
  io_error,          // storage I/O failed or came back short
  device_gone,       // a provider or device disappeared (card unplugged)
  timeout,           // a provider missed its deadline
};

const char* errc_name(Errc code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Errc::ok; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with the object the caller was working on:
  //   Status(io_error, "short read").in("read /var/img") -> "read /var/img: short read"
  Status in(std::string_view context) const;

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

// Status for a failed system call: "<what>: <strerror(err)>", classified from errno.
Status errno_status(std::string_view what, int err);

}  // namespace ublkcrypt

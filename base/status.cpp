#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace ublkcrypt {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::unsupported: return "unsupported";
    case Errc::permission: return "permission denied";
    case Errc::no_memory: return "out of memory";
    case Errc::not_found: return "not found";
    case Errc::busy: return "busy";
    case Errc::corrupt: return "corrupt";
    case Errc::io_error: return "I/O error";
    case Errc::device_gone: return "device gone";
    case Errc::timeout: return "timeout";
  }
  return "unknown";
}

Status Status::in(std::string_view context) const {
  if (ok()) return *this;
  std::string text(context);
  text += ": ";
  text += message_;
  return Status(code_, std::move(text));
}

static Errc classify_errno(int err) {
  switch (err) {
    case EINVAL: case ERANGE: case EFBIG: return Errc::invalid_argument;
    case EOPNOTSUPP: case ENOTTY: case ENOSYS: case EAFNOSUPPORT: case EPROTONOSUPPORT:
      return Errc::unsupported;
    case EACCES: case EPERM: case EROFS: return Errc::permission;
    case ENOMEM: return Errc::no_memory;
    case ENOENT: case ENODEV: case ENXIO: return Errc::not_found;
    case EBUSY: case EEXIST: case EAGAIN: return Errc::busy;
    case ETIMEDOUT: return Errc::timeout;
    default: return Errc::io_error;
  }
}

Status errno_status(std::string_view what, int err) {
  std::string text(what);
  text += ": ";
  text += std::strerror(err);
  return Status(classify_errno(err), std::move(text));
}

}  // namespace ublkcrypt

#include "tools/opal/header_window.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace ublkcrypt {

namespace {
constexpr uint64_t kChunk = 1u << 20;
}

Status HeaderWindow::open(OpalDevice& device, uint64_t bytes, bool copy_in, std::unique_ptr<HeaderWindow>* out) {
  const auto& emu = device.image();
  if (!emu) {
    out->reset(new HeaderWindow(device, device.path(), bytes, false));
    return Status::Ok();
  }
  const uint64_t drive_bytes = emu->block_count() * emu->block_size();
  if (bytes > drive_bytes || bytes % emu->block_size() != 0) {
    return Status(Errc::invalid_argument, "opal " + device.path() + ": header window of " + std::to_string(bytes) +
                                              " bytes does not fit the drive");
  }
  const char* tmp = getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/ublkcrypt-opal-header-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0) return errno_status("header window " + path, errno);
  std::unique_ptr<HeaderWindow> w(new HeaderWindow(device, path, bytes, true));
  Status s = ::ftruncate(fd, off_t(drive_bytes)) == 0 ? Status::Ok() : errno_status("header window " + path, errno);
  std::vector<uint8_t> buf(kChunk);
  for (uint64_t at = 0; s.ok() && copy_in && at < bytes; at += kChunk) {
    const uint64_t n = std::min(kChunk, bytes - at);
    s = emu->read(at / emu->block_size(), n / emu->block_size(), {buf.data(), n});
    if (s.ok() && ::pwrite(fd, buf.data(), n, off_t(at)) != ssize_t(n)) s = errno_status("header window " + path, errno);
  }
  ::close(fd);
  if (!s.ok()) return s;
  *out = std::move(w);
  return Status::Ok();
}

HeaderWindow::~HeaderWindow() {
  if (temporary_) ::unlink(path_.c_str());
}

Status HeaderWindow::commit() {
  const auto& emu = device_.image();
  if (!temporary_ || !emu) return Status::Ok();
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("header window " + path_, errno);
  std::vector<uint8_t> buf(kChunk);
  Status s;
  for (uint64_t at = 0; s.ok() && at < bytes_; at += kChunk) {
    const uint64_t n = std::min(kChunk, bytes_ - at);
    if (::pread(fd, buf.data(), n, off_t(at)) != ssize_t(n)) {
      s = errno_status("header window " + path_, errno ? errno : EIO);
      break;
    }
    s = emu->write(at / emu->block_size(), n / emu->block_size(), {buf.data(), n});
  }
  ::close(fd);
  if (s.ok()) s = emu->flush();
  return s.in("write LUKS2 header to " + device_.path());
}

}  // namespace ublkcrypt

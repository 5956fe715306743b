#include "tools/serve/backing_claim.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ublkcrypt {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

// A stacked device in sysfs, or a mount in mountinfo.
std::string describe_block_holder(dev_t rdev) {
  const std::string sys = "/sys/dev/block/" + std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(sys + "/holders", ec)) {
    const std::string holder = entry.path().filename();
    const std::string dm_name = first_line("/sys/block/" + holder + "/dm/name");
    if (!dm_name.empty()) {
      const bool crypt = first_line("/sys/block/" + holder + "/dm/uuid").rfind("CRYPT-", 0) == 0;
      return "held by " + std::string(crypt ? "dm-crypt" : "device-mapper") + " device " + dm_name + " (" + holder +
             ")";
    }
    return "held by " + holder;
  }
  std::ifstream mounts("/proc/self/mountinfo");
  const std::string numbers = std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    if (fields >> id >> parent >> devno >> root >> mount_point && devno == numbers) return "mounted on " + mount_point;
  }
  return "";
}

Status BackingClaim::named(const Status& s, const std::string& name) const {
  const std::string opened = reopen_path();
  std::string m = s.message();
  for (size_t at = m.find(opened); at != std::string::npos; at = m.find(opened, at + 1)) {
    const size_t end = at + opened.size();
    if (end < m.size() && m[end] >= '0' && m[end] <= '9') continue;  // fd 5 is not fd 57
    m.replace(at, opened.size(), name);
  }
  return s.ok() ? s : Status(s.code(), m);
}

BackingClaim::~BackingClaim() {
  if (fd_ >= 0) ::close(fd_);  // drops the OFD lock or the exclusive claim
}

Status BackingClaim::acquire(const std::string& path, bool read_only, std::unique_ptr<BackingClaim>* out) {
  std::unique_ptr<BackingClaim> c(new BackingClaim);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_status(path, errno);
  if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
    return Status(Errc::invalid_argument, path + ": not a block device or a regular file");
  }
  c->block_device_ = S_ISBLK(st.st_mode);
  const int access = read_only ? O_RDONLY : O_RDWR;
  c->fd_ = ::open(path.c_str(), access | O_CLOEXEC | (c->block_device_ ? O_EXCL : 0));
  if (c->fd_ < 0 && errno == EBUSY && c->block_device_) {
    const std::string holder = describe_block_holder(st.st_rdev);
    return Status(Errc::busy, path + ": in use, " + (holder.empty() ? "held open exclusively by a process" : holder));
  }
  if (c->fd_ < 0) return errno_status(path, errno);
  // The file opened may not be the one stat() saw (a path swapped in between): what counts
  // from here on is the open file.
  if (::fstat(c->fd_, &st) != 0) return errno_status(path, errno);
  c->block_device_ = S_ISBLK(st.st_mode);
  if (c->block_device_) {
    c->dev_ = st.st_rdev;
  } else if (S_ISREG(st.st_mode)) {
    c->dev_ = st.st_dev;
    c->ino_ = st.st_ino;
    struct flock lock {};
    lock.l_type = read_only ? F_RDLCK : F_WRLCK;
    lock.l_whence = SEEK_SET;  // l_start 0, l_len 0: the whole file, however it grows
    if (::fcntl(c->fd_, F_OFD_SETLK, &lock) != 0) {
      if (errno == EAGAIN || errno == EACCES) {
        struct flock who {};
        who.l_type = F_WRLCK;
        who.l_whence = SEEK_SET;
        const bool posix = ::fcntl(c->fd_, F_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_pid > 0;
        return Status(Errc::busy, path + ": in use, locked by " +
                                      (posix ? "process " + std::to_string(who.l_pid) : std::string("another process")));
      }
      return errno_status("lock " + path, errno);
    }
  } else {
    return Status(Errc::invalid_argument, path + ": not a block device or a regular file");
  }
  *out = std::move(c);
  return Status::Ok();
}

}  // namespace ublkcrypt

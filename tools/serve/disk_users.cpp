#include "tools/serve/disk_users.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "tools/serve/backing_claim.h"

namespace ublkcrypt {
namespace {

// "process 1234 (sleep)" for the first process other than this one with an open file on the
// block device `rdev`; empty if none.
std::string process_holding(dev_t rdev) {
  const std::string self = std::to_string(::getpid());
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid == self) continue;
    std::error_code fd_ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
      struct stat st;
      if (::stat(fd.path().c_str(), &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != rdev) continue;
      std::string comm;
      std::getline(std::ifstream(proc.path() / "comm"), comm);
      return "process " + pid + " (" + comm + ")";
    }
  }
  return "";
}

}  // namespace

Status check_disk_not_in_use(const std::string& name, const std::string& disk) {
  struct stat st;
  if (::stat(disk.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) return Status::Ok();  // gone already
  const auto in_use = [&](const std::string& by) {
    return Status(Errc::busy, "Device " + name + " is still in use" + (by.empty() ? "" : " (" + by + ")"));
  };
  // Mounts, stacked devices and other exclusive openers conflict with an exclusive open.
  int fd = ::open(disk.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
  if (fd < 0 && errno == EBUSY) return in_use(describe_block_holder(st.st_rdev));
  if (fd >= 0) ::close(fd);
  // Plain openers do not; only their open files show them.
  const std::string holder = process_holding(st.st_rdev);
  if (!holder.empty()) return in_use("held open by " + holder);
  return Status::Ok();
}

}  // namespace ublkcrypt

#include "tools/serve/served_backing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/rbd_storage.h"
#include "tools/opal/opal_device.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {

namespace {

// The lock file that stands for `image` (rbd:POOL/IMAGE), created if missing. Never
// removed: unlinking a lock file another process may be about to lock would let two
// holders lock two different files; the run directory is emptied at boot.
Status rbd_claim_file(const std::string& image, std::string* file) {
  const std::string dir = run_dir() + "/rbd";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_status("mkdir " + dir, errno);
  std::string escaped;  // pool and image names may hold '/' between them and '%' in them
  for (char c : image.substr(4)) escaped += c == '/' ? "%2F" : c == '%' ? "%25" : std::string(1, c);
  *file = dir + "/" + escaped + ".lock";
  const int fd = ::open(file->c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errno_status("create " + *file, errno);
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Status claim_volume_backing(const std::string& device, bool read_only, const std::string& own_name,
                            std::unique_ptr<BackingClaim>* out) {
  std::string file = backing_file(device);
  if (is_rbd_name(device)) {
    if (::mkdir(run_dir().c_str(), 0755) != 0 && errno != EEXIST)
      return errno_status("mkdir " + run_dir(), errno);
    if (Status s = rbd_claim_file(device, &file); !s.ok()) return s;
  }
  Status s = BackingClaim::acquire(file, read_only, out);
  if (s.code() != Errc::busy) return s;
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return s;
  const uint64_t dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
  const uint64_t ino = S_ISBLK(st.st_mode) ? 0 : st.st_ino;
  for (const std::string& other : state_names()) {
    RunState os;
    if (other == own_name || !name_is_served(other) || !read_state(other, &os).ok()) continue;
    if (os.backing_dev == dev && os.backing_ino == ino)
      return Status(Errc::busy, device + ": in use, held by ublkcrypt volume " + other + " (pid " +
                                    std::to_string(os.pid) + ")");
  }
  if (is_rbd_name(device)) return Status(Errc::busy, device + ": in use by another ublkcrypt server on this host");
  return s;
}

}  // namespace ublkcrypt

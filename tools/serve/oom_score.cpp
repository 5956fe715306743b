#include "tools/serve/oom_score.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ublkcrypt {

std::string keep_from_oom_killer() {
  int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  const bool done = fd >= 0 && ::write(fd, "-1000", 5) == 5;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  return done ? "" : std::string("oom_score_adj -1000 not set (") + std::strerror(err) + "): the OOM killer may pick this server";
}

}  // namespace ublkcrypt

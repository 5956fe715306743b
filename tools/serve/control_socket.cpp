#include "tools/serve/control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ublkcrypt {
namespace {

bool make_address(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Reads up to the first newline, waiting at most `timeout_ms` overall.
bool read_line(int fd, int timeout_ms, std::string* out) {
  out->clear();
  char buf[4096];
  while (out->find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > (1 << 20)) return false;
  }
  auto nl = out->find('\n');
  if (nl == std::string::npos) return !out->empty();
  out->resize(nl);
  return true;
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ControlListener::~ControlListener() {
  if (fd_ >= 0) ::close(fd_);
}

Status ControlListener::listen(const std::string& path) {
  sockaddr_un addr;
  if (!make_address(path, &addr)) return {Errc::invalid_argument, path + ": path too long"};
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return errno_status("socket", errno);
  ::unlink(path.c_str());  // only the lock holder gets here: the file is stale
  mode_t old = ::umask(0077);
  int r = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (r != 0) return errno_status("bind " + path, errno);
  if (::listen(fd_, 8) != 0) return errno_status("listen " + path, errno);
  path_ = path;
  return Status::Ok();
}

int ControlListener::accept_request(std::string* request) {
  int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return -1;
  // A client that connects and says nothing must not stall the daemon's loop.
  if (!read_line(client, 2000, request)) {
    ::close(client);
    return -1;
  }
  return client;
}

void ControlListener::reply(int client, const std::string& response) {
  (void)write_all(client, response + "\n");
  ::close(client);
}

Status control_request(const std::string& path, const std::string& request, int timeout_ms,
                       std::string* response) {
  sockaddr_un addr;
  if (!make_address(path, &addr)) return {Errc::invalid_argument, path + ": path too long"};
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("socket", errno);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return errno_status("connect " + path, err);
  }
  bool ok = write_all(fd, request + "\n") && read_line(fd, timeout_ms, response);
  ::close(fd);
  if (!ok) return {Errc::timeout, path + ": no answer from the daemon"};
  return Status::Ok();
}

}  // namespace ublkcrypt

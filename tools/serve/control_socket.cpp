#include "tools/serve/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tools/serve/control_request.h"

namespace ublkcrypt {
namespace {

using Clock = std::chrono::steady_clock;

bool make_address(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30)) + 1;
}

// Reads up to the first newline (or the end of the stream), by `deadline` overall.
bool read_line(int fd, Clock::time_point deadline, std::string* out) {
  out->clear();
  char buf[4096];
  while (out->find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, ms_until(deadline));
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
  for (const Client& c : clients_) ::close(c.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status ControlListener::listen(const std::string& path) {
  sockaddr_un addr;
  if (!make_address(path, &addr)) return {Errc::invalid_argument, path + ": path too long"};
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return errno_status("socket", errno);
  ::unlink(path.c_str());  // only the lock holder gets here: the file is stale
  mode_t old = ::umask(0077);
  int r = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (r != 0) return errno_status("bind " + path, errno);
  if (::listen(listen_fd_, 16) != 0) return errno_status("listen " + path, errno);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return errno_status("epoll_create1", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) return errno_status("epoll_ctl", errno);
  path_ = path;
  return Status::Ok();
}

int ControlListener::timeout_ms() const {
  if (clients_.empty()) return -1;
  auto nearest = std::min_element(clients_.begin(), clients_.end(),
                                  [](const Client& a, const Client& b) { return a.deadline < b.deadline; });
  return ms_until(nearest->deadline);
}

void ControlListener::refuse(int fd, const Status& why) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  reply(fd, control_error_reply(why));
}

void ControlListener::accept_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN: none left (or a transient error: the next poll retries)
    if (clients_.size() >= kMaxClients) {
      reply(fd, control_error_reply(Status(Errc::busy, "control socket: " + std::to_string(kMaxClients) +
                                                           " requests already waiting")));
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    clients_.push_back(Client{fd, {}, Clock::now() + std::chrono::milliseconds(deadline_ms_)});
  }
}

bool ControlListener::read_client(Client& c, std::vector<ControlConnection>* complete) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(c.fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;  // more to come
    if (n > 0) c.bytes.append(buf, static_cast<size_t>(n));
    const size_t nl = c.bytes.find('\n');
    if (nl != std::string::npos || n <= 0) {
      // A line, or the end of the stream: what came is the request (the parser judges it).
      if (nl != std::string::npos) c.bytes.resize(nl);
      if (nl == std::string::npos && c.bytes.empty()) {
        refuse(c.fd, Status(Errc::invalid_argument, "control request: empty"));
        return true;
      }
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
      complete->push_back(ControlConnection{c.fd, std::move(c.bytes)});
      return true;
    }
    if (c.bytes.size() > kMaxControlRequestBytes) {
      refuse(c.fd, Status(Errc::invalid_argument, "control request: longer than " +
                                                      std::to_string(kMaxControlRequestBytes) + " bytes"));
      return true;
    }
  }
}

std::vector<ControlConnection> ControlListener::take() {
  std::vector<ControlConnection> complete;
  epoll_event events[kMaxClients + 1];
  const int n = ::epoll_wait(epoll_fd_, events, static_cast<int>(kMaxClients + 1), 0);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == listen_fd_) continue;  // after the clients: a new one cannot be in this batch
    auto it = std::find_if(clients_.begin(), clients_.end(), [fd](const Client& c) { return c.fd == fd; });
    if (it != clients_.end() && read_client(*it, &complete)) clients_.erase(it);
  }
  const auto now = Clock::now();
  std::erase_if(clients_, [&](const Client& c) {
    if (c.deadline > now) return false;
    refuse(c.fd, Status(Errc::timeout, "control request: not complete within " + std::to_string(deadline_ms_) +
                                           " ms"));
    return true;
  });
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == listen_fd_) accept_clients();
  }
  return complete;
}

void ControlListener::reply(int client, const std::string& response) {
  const int flags = ::fcntl(client, F_GETFL);
  if (flags >= 0) ::fcntl(client, F_SETFL, flags & ~O_NONBLOCK);
  const timeval limit{1, 0};
  ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  (void)write_all(client, response + "\n");
  ::close(client);
}

Status control_request(const std::string& path, const std::string& request, int timeout_ms,
                       std::string* response) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  sockaddr_un addr;
  if (!make_address(path, &addr)) return {Errc::invalid_argument, path + ": path too long"};
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("socket", errno);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return errno_status("connect " + path, err);
  }
  bool ok = write_all(fd, request + "\n") && read_line(fd, deadline, response);
  ::close(fd);
  if (!ok) return {Errc::timeout, path + ": no answer from the daemon"};
  return Status::Ok();
}

}  // namespace ublkcrypt

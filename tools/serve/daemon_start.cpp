#include "tools/serve/daemon_start.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "tools/serve/run_state.h"

namespace ublkcrypt {
namespace {

// Pipe protocol: "ok <disk>\n" or "err <errc> <message>\n".
class PipeReport final : public ReadyReport {
 public:
  explicit PipeReport(int fd) : fd_(fd) {}
  void ready(const std::string& disk) override { send("ok " + disk + "\n"); }
  void failed(const Status& status) override {
    send("err " + std::to_string(static_cast<int>(status.code())) + " " + status.message() +
         "\n");
  }

 private:
  void send(const std::string& line) {
    if (fd_ < 0) return;
    (void)!::write(fd_, line.data(), line.size());
    ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

}  // namespace

Status start_volume_daemon(const OpenOptions& o, std::string* disk) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return errno_status("pipe", errno);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(p[0]);
    ::close(p[1]);
    return errno_status("fork", err);
  }
  if (pid == 0) {
    ::close(p[0]);
    PipeReport report(p[1]);
    Status s = serve_volume(o, &report, true);
    std::fflush(nullptr);
    ::_exit(s.ok() ? 0 : 1);
  }
  ::close(p[1]);
  std::string line;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.rfind("ok ", 0) == 0) {
    *disk = line.substr(3);
    return Status::Ok();
  }
  if (line.rfind("err ", 0) == 0) {
    size_t sp = line.find(' ', 4);
    int code = std::atoi(line.substr(4, sp - 4).c_str());
    return Status(static_cast<Errc>(code), sp == std::string::npos ? "" : line.substr(sp + 1));
  }
  return Status(Errc::io_error, "open " + o.name + ": the daemon exited during setup (see " +
                                    log_path(o.name) + ")");
}

}  // namespace ublkcrypt

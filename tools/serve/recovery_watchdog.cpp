#include "tools/serve/recovery_watchdog.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "blockdev/block_device.h"
#include "blockdev/control_device.h"
#include "tools/serve/key_handoff.h"
#include "tools/serve/run_state.h"

extern char** environ;

namespace ublkcrypt {
namespace {

using Clock = std::chrono::steady_clock;

// What the device says about the server `server_pid`.
enum class Watch { waiting, gone, taken_over };

Watch look(ControlDevice& control, uint32_t dev_id, pid_t server_pid) {
  ublksrv_ctrl_dev_info info;
  Status s = control.get_info(dev_id, &info);
  if (s.code() == Errc::not_found) return Watch::gone;
  if (!s.ok()) return Watch::waiting;  // a transient control error: look again
  if (info.ublksrv_pid != server_pid) return Watch::taken_over;
  if (info.state == UBLK_S_DEV_DEAD) return Watch::gone;
  return Watch::waiting;
}

// Blocks until `server_pid` (our parent when we start) exits.
void wait_for_exit(pid_t server_pid) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, server_pid, 0));
  // Reparented already: the server is gone (or the pid is someone else's by now).
  if (pidfd < 0 || ::getppid() != server_pid) {
    if (pidfd >= 0) ::close(pidfd);
    return;
  }
  pollfd p{pidfd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  ::close(pidfd);
}

}  // namespace

Status spawn_recovery_watchdog(const std::string& name, uint32_t dev_id, unsigned timeout_s) {
  const std::string dev = std::to_string(dev_id);
  const std::string pid = std::to_string(::getpid());
  const std::string timeout = std::to_string(timeout_s);
  std::vector<const char*> argv = {"ublkcrypt", "watchdog", name.c_str(), "--dev-id", dev.c_str(),
                                   "--server-pid", pid.c_str(), "--timeout", timeout.c_str(), nullptr};
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, log_path(name).c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  // Its own session (a terminal hang-up of `open`'s caller does not reach it) and none of
  // the server's blocked signals.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  pid_t child = -1;
  // The running binary, even if a package upgrade has replaced the file meanwhile.
  int r = posix_spawn(&child, "/proc/self/exe", &files, &attr, const_cast<char* const*>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (r != 0) return errno_status("start the recovery watchdog of " + name, r);
  return Status::Ok();
}

Status run_recovery_watchdog(const std::string& name, uint32_t dev_id, pid_t server_pid,
                             unsigned timeout_s) {
  // Started from wherever `open` ran: hold no directory (a mount point) busy.
  (void)!::chdir("/");
  std::unique_ptr<ControlDevice> control;
  Status s = ControlDevice::open(&control);
  if (!s.ok()) return s;
  wait_for_exit(server_pid);

  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  bool announced = false;
  for (;; std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
    const Watch w = look(*control, dev_id, server_pid);
    if (w != Watch::waiting) return Status::Ok();
    if (!announced) {
      std::fprintf(stderr,
                   "ublkcrypt: %s: server pid %d is gone; ublk device %u waits up to %u s for "
                   "'ublkcrypt open --recover %s'\n",
                   name.c_str(), static_cast<int>(server_pid), dev_id, timeout_s, name.c_str());
      announced = true;
    }
    if (Clock::now() < deadline) continue;
    // Held: a server is taking the volume over right now. Its own waits are bounded.
    NameLock lock;
    if (!NameLock::try_lock(lock_path(name), &lock).ok()) continue;
    if (look(*control, dev_id, server_pid) != Watch::waiting) return Status::Ok();
    s = remove_dead_device(dev_id, server_pid);
    discard_parked_volume_key(name);
    RunState st;
    if (read_state(name, &st).ok() && st.pid == server_pid) remove_state(name);
    std::fprintf(stderr,
                 "ublkcrypt: %s: no server for %u s: stopped ublk device %u (its waiting I/O "
                 "fails with EIO) and discarded its key%s%s\n",
                 name.c_str(), timeout_s, dev_id, s.ok() ? "" : ": ", s.ok() ? "" : s.message().c_str());
    return s;
  }
}

}  // namespace ublkcrypt

#include "backends/kernel/fd_graveyard.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace ublkcrypt {
namespace {

struct KeepList {
  std::vector<int> fds;  // ascending
};

// Runs in the helper, which shares this process's memory and its thread pointer: no libc
// call that touches thread state (errno, cancellation), only raw system calls. It closes
// every descriptor but the kept ones, then sleeps for good (every signal is blocked, so
// ppoll without fds or timeout never returns).
int helper_main(void* arg) {
  const auto* keep = static_cast<const KeepList*>(arg);
  unsigned next = 0;
  for (int fd : keep->fds) {
    if (static_cast<unsigned>(fd) > next) syscall(SYS_close_range, next, fd - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
  for (;;) syscall(SYS_ppoll, nullptr, 0, nullptr, nullptr, 0);
  return 0;
}

}  // namespace

Status keep_open_after_exit(std::span<const int> fds) {
  // Both stay allocated for good: the helper reads them after this returns, and its stack
  // is in the shared address space.
  auto* keep = new KeepList;
  for (int fd : fds)
    if (fd >= 0) keep->fds.push_back(fd);
  std::sort(keep->fds.begin(), keep->fds.end());
  keep->fds.erase(std::unique(keep->fds.begin(), keep->fds.end()), keep->fds.end());
  constexpr size_t kStack = 64 * 1024;
  void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return errno_status("fd keeper stack", errno);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the helper inherits this mask
  // No exit signal: nobody waits for it. Without CLONE_FILES it gets its own copy of the
  // descriptor table, which it trims to `keep`.
  int pid = clone(helper_main, static_cast<char*>(stack) + kStack, CLONE_VM, keep);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return errno_status("clone (fd keeper)", err);
  return Status::Ok();
}

}  // namespace ublkcrypt

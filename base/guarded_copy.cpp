#include "base/guarded_copy.h"

#include <atomic>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>

namespace ublkcrypt {
namespace {

// The copy in progress on this thread, if any: where its SIGBUS jumps back to. Volatile:
// memcpy visibly touches nothing else, so the compiler would drop the store before it.
thread_local sigjmp_buf* volatile tls_recover = nullptr;
struct sigaction previous_handler {};

void on_sigbus(int, siginfo_t*, void*) {
  if (sigjmp_buf* recover = tls_recover) {
    tls_recover = nullptr;
    siglongjmp(*recover, 1);
  }
  // Not ours: hand it to whoever had it before. Returning re-runs the faulting access,
  // which raises SIGBUS again under the restored disposition (its handler, or death).
  sigaction(SIGBUS, &previous_handler, nullptr);
}

void install_handler() {
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  // SA_NODEFER: the jump out of the handler does not restore the signal mask (that would
  // cost a system call per copy), so SIGBUS must not be blocked while the handler runs.
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &previous_handler);
}

}  // namespace

bool guarded_copy(void* dst, const void* src, size_t bytes) {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  sigjmp_buf recover;
  if (sigsetjmp(recover, /*savemask=*/0) != 0) return false;
  tls_recover = &recover;
  // The copy stays between the two stores: the handler must see the guard throughout.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(dst, src, bytes);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  tls_recover = nullptr;
  return true;
}

}  // namespace ublkcrypt

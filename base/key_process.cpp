#include "base/key_process.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>

namespace ublkcrypt {
namespace {

constexpr int kCapIpcLock = 14;  // linux/capability.h

// From /proc/self/status rather than capget(2): one line, no libcap.
bool has_effective_capability(int cap) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    try {
      return (std::stoull(line.substr(7), nullptr, 16) >> cap) & 1u;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

uint64_t locked_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmLck:", 0) != 0) continue;
    try {
      return std::stoull(line.substr(6));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

}  // namespace

Status protect_key_process(KeyProcessProtection* out) {
  *out = KeyProcessProtection{};
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return errno_status("prctl(PR_SET_DUMPABLE, 0)", errno);
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return errno_status("setrlimit(RLIMIT_CORE, 0)", errno);

  rlimit memlock{};
  const bool unlimited = ::getrlimit(RLIMIT_MEMLOCK, &memlock) == 0 && memlock.rlim_cur == RLIM_INFINITY;
  if (!unlimited && !has_effective_capability(kCapIpcLock)) {
    out->note = "memory not locked (no CAP_IPC_LOCK): keys are, OpenSSL's key schedules may be swapped";
    return Status::Ok();
  }
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    out->note = errno_status("mlockall", errno).message() + ": keys are locked, OpenSSL's key schedules may be swapped";
    return Status::Ok();
  }
  // AddressSanitizer replaces mlockall with a no-op that reports success: believe VmLck.
  if (locked_kb() == 0) {
    out->note = "mlockall locked nothing (a sanitizer build?): OpenSSL's key schedules may be swapped";
    return Status::Ok();
  }
  out->all_memory_locked = true;
  return Status::Ok();
}

}  // namespace ublkcrypt

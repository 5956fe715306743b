// KernelSed: the kernel's sed-opal ioctls (<linux/sed-opal.h>) on a block device the kernel
// already manages as an Opal drive. The kernel speaks the protocol itself, so this is not
// a Transport: it exposes the few operations a block layer needs at open/close time.
// Covered, as in the Debian 12 (6.1) headers: IOC_OPAL_GET_STATUS (locking state flags),
// IOC_OPAL_LOCK_UNLOCK, IOC_OPAL_SAVE (lets the kernel unlock the range again after
// suspend), IOC_OPAL_PSID_REVERT_TPR. Not covered: IOC_OPAL_DISCOVERY (not in 6.1 headers)
// and setup ioctls, which the Opal protocol path (opal::Drive) does itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backends/opal/drive.h"
#include "backends/opal/method_status.h"
#include "base/secure_bytes.h"
#include "base/status.h"

namespace ublkcrypt::opal {

struct KernelOpalStatus {
  bool supported = false, locking_supported = false, locking_enabled = false, locked = false,
       mbr_enabled = false, mbr_done = false;
};

class KernelSed {
 public:
  // Opens the block device (e.g. /dev/nvme0n1).
  static Status open(const std::string& path, std::unique_ptr<KernelSed>* out);
  ~KernelSed();
  KernelSed(const KernelSed&) = delete;
  KernelSed& operator=(const KernelSed&) = delete;

  Status status(KernelOpalStatus* out);
  // `who` is Admin1 or User1..9, `range` 0..8 (OPAL_MAX_LRS).
  Status set_lock_state(const Authority& who, const SecureBytes& password, uint32_t range, LockState state);
  Status save(const Authority& who, const SecureBytes& password, uint32_t range, LockState state);
  Status psid_revert(const SecureBytes& psid);

 private:
  KernelSed(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status lock_ioctl(unsigned long request, const char* what, const Authority& who, const SecureBytes& password,
                    uint32_t range, LockState state);

  std::string path_;
  int fd_;
};

}  // namespace ublkcrypt::opal

#include "backends/opal/kernel_sed.h"

#include <fcntl.h>
#include <linux/sed-opal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ublkcrypt::opal {

namespace {

// Fills the kernel's key struct; the caller wipes it (it holds the password).
Status fill_key(const SecureBytes& password, uint32_t range, opal_key* key) {
  if (password.size() > OPAL_KEY_MAX) {
    return Status(Errc::invalid_argument, "password longer than " + std::to_string(OPAL_KEY_MAX) + " bytes");
  }
  if (range >= OPAL_MAX_LRS) return Status(Errc::invalid_argument, "range " + std::to_string(range) + " out of 0..8");
  key->lr = uint8_t(range);
  key->key_len = uint8_t(password.size());
  std::memcpy(key->key, password.data(), password.size());
  return Status::Ok();
}

// The kernel returns a positive TCG method status from some ioctls, errno from others.
Status ioctl_result(const std::string& what, int rc) {
  if (rc == 0) return Status::Ok();
  if (rc < 0) {
    if (errno == ENOTTY) return Status(Errc::unsupported, what + ": the kernel does not manage this device as Opal");
    return errno_status(what, errno);
  }
  return Status(method_status_errc(uint8_t(rc)), what + ": " + method_status_name(uint8_t(rc)));
}

}  // namespace

Status KernelSed::open(const std::string& path, std::unique_ptr<KernelSed>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("open " + path, errno);
  out->reset(new KernelSed(path, fd));
  return Status::Ok();
}

KernelSed::~KernelSed() { ::close(fd_); }

Status KernelSed::status(KernelOpalStatus* out) {
  opal_status st = {};
  if (Status s = ioctl_result("sed-opal " + path_ + ": get status", ::ioctl(fd_, IOC_OPAL_GET_STATUS, &st)); !s.ok()) {
    return s;
  }
  *out = {bool(st.flags & OPAL_FL_SUPPORTED),       bool(st.flags & OPAL_FL_LOCKING_SUPPORTED),
          bool(st.flags & OPAL_FL_LOCKING_ENABLED), bool(st.flags & OPAL_FL_LOCKED),
          bool(st.flags & OPAL_FL_MBR_ENABLED),     bool(st.flags & OPAL_FL_MBR_DONE)};
  return Status::Ok();
}

Status KernelSed::lock_ioctl(unsigned long request, const char* what, const Authority& who,
                             const SecureBytes& password, uint32_t range, LockState state) {
  std::string context = "sed-opal " + path_ + ": " + what;
  opal_lock_unlock lk = {};
  if (who.kind == Authority::Kind::admin && who.index == 1) {
    lk.session.who = OPAL_ADMIN1;
  } else if (who.kind == Authority::Kind::user && who.index >= 1 && who.index <= 9) {
    lk.session.who = who.index;  // OPAL_USER1..9 equal their number
  } else {
    return Status(Errc::invalid_argument, context + ": the kernel only signs in as Admin1 or User1..9");
  }
  if (Status s = fill_key(password, range, &lk.session.opal_key); !s.ok()) return s.in(context);
  lk.l_state = state == LockState::locked ? OPAL_LK : state == LockState::read_only ? OPAL_RO : OPAL_RW;
  int rc = ::ioctl(fd_, request, &lk);
  int err = errno;
  secure_wipe(&lk, sizeof lk);
  errno = err;
  return ioctl_result(context, rc);
}

Status KernelSed::set_lock_state(const Authority& who, const SecureBytes& password, uint32_t range, LockState state) {
  return lock_ioctl(IOC_OPAL_LOCK_UNLOCK, "lock/unlock", who, password, range, state);
}

Status KernelSed::save(const Authority& who, const SecureBytes& password, uint32_t range, LockState state) {
  return lock_ioctl(IOC_OPAL_SAVE, "save unlock key", who, password, range, state);
}

Status KernelSed::psid_revert(const SecureBytes& psid) {
  std::string context = "sed-opal " + path_ + ": PSID revert";
  opal_key key = {};
  if (Status s = fill_key(psid, 0, &key); !s.ok()) return s.in(context);
  int rc = ::ioctl(fd_, IOC_OPAL_PSID_REVERT_TPR, &key);
  int err = errno;
  secure_wipe(&key, sizeof key);
  errno = err;
  return ioctl_result(context, rc);
}

}  // namespace ublkcrypt::opal

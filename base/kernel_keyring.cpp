#include "base/kernel_keyring.h"

#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ublkcrypt {
namespace {

// Permission bits (keyutils.h, which the build does not need otherwise).
constexpr uint32_t kPossessorViewReadSearch = 0x01000000 | 0x02000000 | 0x08000000;
constexpr uint32_t kUserViewReadSearch = 0x00010000 | 0x00020000 | 0x00080000;
constexpr uint32_t kPossessorSetattr = 0x20000000;

long keyctl(int op, unsigned long a2, unsigned long a3 = 0, unsigned long a4 = 0, unsigned long a5 = 0) {
  return ::syscall(SYS_keyctl, op, a2, a3, a4, a5);
}

Status keyring_status(const std::string& what, const std::string& description, int err) {
  if (err == ENOSYS || err == EOPNOTSUPP)
    return {Errc::unsupported, what + " " + description + ": this kernel has no keyrings (CONFIG_KEYS)"};
  if (err == ENOKEY || err == EKEYREVOKED || err == EKEYEXPIRED)
    return {Errc::not_found, "key " + description + ": not in the user keyring"};
  return errno_status(what + " " + description, err);
}

// The key's serial, or -errno.
long find(const std::string& description) {
  long id = keyctl(KEYCTL_SEARCH, static_cast<unsigned long>(KEY_SPEC_USER_KEYRING),
                   reinterpret_cast<unsigned long>("user"),
                   reinterpret_cast<unsigned long>(description.c_str()), 0);
  return id < 0 ? -errno : id;
}

}  // namespace

Status keyring_store(const std::string& description, const SecureBytes& payload) {
  // A key left under this name (a server that was never recovered) is replaced, not
  // updated: ours carry no write permission.
  if (Status s = keyring_discard(description); !s.ok()) return s;
  long id = ::syscall(SYS_add_key, "user", description.c_str(), payload.data(), payload.size(),
                      KEY_SPEC_USER_KEYRING);
  if (id < 0) return keyring_status("add key", description, errno);
  // Dropping setattr last: nothing can widen the permissions afterwards but root's
  // CAP_SYS_ADMIN.
  const uint32_t perm = kPossessorViewReadSearch | kUserViewReadSearch;
  if (keyctl(KEYCTL_SETPERM, static_cast<unsigned long>(id), perm | kPossessorSetattr) < 0 ||
      keyctl(KEYCTL_SETPERM, static_cast<unsigned long>(id), perm) < 0) {
    int err = errno;
    keyctl(KEYCTL_INVALIDATE, static_cast<unsigned long>(id));
    return keyring_status("restrict key", description, err);
  }
  return Status::Ok();
}

Status keyring_load(const std::string& description, SecureBytes* out) {
  long id = find(description);
  if (id < 0) return keyring_status("find key", description, static_cast<int>(-id));
  long size = keyctl(KEYCTL_READ, static_cast<unsigned long>(id), 0, 0);
  if (size < 0) return keyring_status("read key", description, errno);
  SecureBytes buffer;
  Status s = SecureBytes::allocate(static_cast<size_t>(size), &buffer);
  if (!s.ok()) return s;
  long got = keyctl(KEYCTL_READ, static_cast<unsigned long>(id),
                    reinterpret_cast<unsigned long>(buffer.data()), static_cast<unsigned long>(size));
  if (got < 0) return keyring_status("read key", description, errno);
  if (got != size) return {Errc::corrupt, "key " + description + ": changed while read"};
  *out = std::move(buffer);
  return Status::Ok();
}

Status keyring_discard(const std::string& description) {
  // An invalidated key is no longer found; more than one can only be leftovers.
  for (int round = 0; round < 16; ++round) {
    long id = find(description);
    if (id == -ENOKEY || id == -EKEYREVOKED || id == -EKEYEXPIRED || id == -ENOSYS) return Status::Ok();
    if (id < 0) return keyring_status("find key", description, static_cast<int>(-id));
    if (keyctl(KEYCTL_INVALIDATE, static_cast<unsigned long>(id)) < 0)
      return keyring_status("invalidate key", description, errno);
  }
  return {Errc::busy, "key " + description + ": still found after invalidating it"};
}

}  // namespace ublkcrypt

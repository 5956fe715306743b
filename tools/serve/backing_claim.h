// BackingClaim: the server's hold on its backing for as long as it serves it — so that it
// never serves what something else is using, and nothing else takes the backing meanwhile.
//
//  - A block device is opened O_EXCL, as the kernel's own claimants hold one: while a
//    filesystem is mounted on it, a device-mapper target (dm-crypt, LVM) or md sits on it,
//    or another O_EXCL opener (another ublkcrypt server, mkfs) has it, the open fails with
//    EBUSY. dm-crypt and mounts then claim it in turn and fail while we hold it.
//  - An image file gets an open file description lock over the whole file (F_OFD_SETLK):
//    a write lock, or a read lock for a read-only volume, so read-only servers share. Any
//    path, hard link or symlink to the file meets the same lock. Not seen: programs that
//    take no lock (a loop device over the file, and cryptsetup through one).
//
// The identity (device and inode) comes from the claimed file itself (fstat), not from a
// second lookup of the path; and everything after the claim reads and writes the claimed file
// through reopen_path(), never through the path again: a path swapped for a symlink to
// another disk after the claim cannot redirect the header read or the data.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace ublkcrypt {

class BackingClaim {
 public:
  // Errc::busy when held, with the holder where it can be told from here ("mounted on
  // /mnt", "held by device-mapper device NAME (dm-3)"); not_found when missing.
  static Status acquire(const std::string& path, bool read_only, std::unique_ptr<BackingClaim>* out);
  ~BackingClaim();
  BackingClaim(const BackingClaim&) = delete;
  BackingClaim& operator=(const BackingClaim&) = delete;

  int fd() const { return fd_; }
  // "/proc/self/fd/N": opening it opens the claimed file itself, whatever its path names now
  // (for libcryptsetup and the data path, which take a path; a new open file description,
  // so the data path can have its own O_DIRECT). Valid in this process only.
  std::string reopen_path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  // `s` with reopen_path() in its message replaced by `name`, the user's name for the backing.
  Status named(const Status& s, const std::string& name) const;
  bool block_device() const { return block_device_; }
  // st_rdev for a block device, st_dev for a file; the inode (0 for a block device).
  uint64_t dev() const { return dev_; }
  uint64_t ino() const { return ino_; }

 private:
  BackingClaim() = default;
  int fd_ = -1;
  bool block_device_ = false;
  uint64_t dev_ = 0, ino_ = 0;
};

// Who holds the block device `rdev` exclusively, from what the kernel publishes: "held by
// dm-crypt device NAME (dm-3)", "mounted on /mnt"; empty when it cannot be told from here
// (an exclusive opener that is a process).
std::string describe_block_holder(dev_t rdev);

}  // namespace ublkcrypt

// HeaderShadow: the LUKS header of a backing that libcryptsetup cannot open by path (a Ceph
// RBD image) in a private file it can, and the changes libcryptsetup makes there written
// back to the backing in an order that keeps the header valid at every step.
//
// Why a shadow file: libcryptsetup reads and writes headers through a file descriptor of
// its own; there is no callback API, these hosts have no kernel rbd or nbd client to give
// an image a device node, and a detached header would leave the image without the header
// librbd's own LUKS support and other clients look for. So the header area (LUKS2: both
// binary+JSON copies and the keyslots area; LUKS1: up to the payload offset) is copied into
// a memfd (mode 0600, never on a filesystem, gone when the process ends) that is sized as
// the backing with holes past the header, so that a "dynamic" data segment's size and the
// device size crypt_format sees are the image's. Everything (format, unlock, dump, key
// verbs) then runs on /proc/self/fd/N unchanged.
//
// Crash safety of write_back() for LUKS2, which keeps two copies of its binary header and
// JSON area, each with a sequence id and a checksum; libcryptsetup uses the valid copy with
// the higher sequence id (and repairs the other). The changed 4 KiB blocks go out in four
// steps, each made durable (flushed) before the next starts:
//   1. keyslot-area blocks inside an area a keyslot of the NEW header uses: no valid old
//      header points at a new keyslot's bytes (libcryptsetup puts a new or changed key in a
//      free area), so the old state stays whole;
//   2. the secondary copy: torn, its checksum fails and the old primary rules; whole, its
//      higher sequence id makes the new state rule;
//   3. the primary copy: torn, the new secondary rules; whole, both agree;
//   4. everything else that changed: the areas of keyslots the new header dropped (a
//      killed or moved slot, wiped only once no header uses them), other padding.
// A crash therefore leaves the old header or the new one, as on a disk. (An in-place
// rewrite of an area both headers use is not crash-safe on a disk either.) LUKS1 has one
// copy: its changes go out in one step, as cryptsetup writes them on a disk.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/storage.h"

namespace ublkcrypt {

class StorageSync;

class HeaderShadow {
 public:
  // Copies the header area of `storage` (nothing if it holds no LUKS header) into a new
  // shadow. `storage` outlives the shadow.
  static Status load(Storage& storage, std::unique_ptr<HeaderShadow>* out);
  ~HeaderShadow();
  HeaderShadow(const HeaderShadow&) = delete;
  HeaderShadow& operator=(const HeaderShadow&) = delete;

  // The shadow as libcryptsetup opens it: /proc/self/fd/N.
  std::string path() const;
  // Writes what changed in the shadow's header area since load() (or the last write_back)
  // to the backing, in the order above.
  Status write_back();

 private:
  HeaderShadow(Storage& storage, std::unique_ptr<StorageSync> io, int fd);
  Storage& storage_;
  std::unique_ptr<StorageSync> io_;
  int fd_;
};

}  // namespace ublkcrypt

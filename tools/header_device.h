// HeaderDevice: what libcryptsetup opens for the <device> a header verb names. A path is
// itself. An rbd image (rbd:POOL/IMAGE) is opened through librbd and its header copied
// into a shadow file (volume/header_shadow.h); commit() writes a verb's changes back.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "engine/storage.h"
#include "volume/header_shadow.h"

namespace ublkcrypt {

class HeaderDevice {
 public:
  static Status open(const std::string& name, std::unique_ptr<HeaderDevice>* out);

  const std::string& name() const { return name_; }
  // The file libcryptsetup opens: the path, or the shadow's /proc/self/fd/N.
  const std::string& path() const { return path_; }
  // A LUKS2 data alignment for format: the rbd image's object size; 0 for a path.
  uint64_t data_alignment() const;
  bool is_rbd() const { return shadow_ != nullptr; }
  // After a change: the shadow's header to the image (nothing to do for a path).
  Status commit();
  // `s` with the shadow's path replaced by the user's name, so messages name the image.
  Status named(Status s) const;

 private:
  std::string name_;
  std::string path_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<HeaderShadow> shadow_;  // declared after storage_: goes first
};

}  // namespace ublkcrypt

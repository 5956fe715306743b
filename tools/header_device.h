// HeaderDevice: what libcryptsetup opens for the <device> a header verb names. A path is
// itself. An rbd image (rbd:POOL/IMAGE) is opened through librbd and its header copied
// into a shadow file (volume/header_shadow.h); commit() writes a verb's changes back.
// A detached header (--header FILE, as cryptsetup has it) keeps the header in FILE and
// only data on the device.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/storage.h"
#include "volume/header_shadow.h"

namespace ublkcrypt {

class HeaderDevice {
 public:
  // `header`: the detached header file or device, "" for none. An rbd image with a
  // detached header is refused (invalid_argument): its shadow copies the image's own
  // header area, and librbd's clients look for the header on the image.
  static Status open(const std::string& name, const std::string& header, std::unique_ptr<HeaderDevice>* out);

  const std::string& name() const { return name_; }
  // The detached header libcryptsetup opens beside path(), or "".
  const std::string& header() const { return header_; }
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
  std::string header_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<HeaderShadow> shadow_;  // declared after storage_: goes first
};

// Adds --header FILE to a verb that takes a LUKS <device>, described by `what`.
inline constexpr const char* kHeaderOptionHelp =
    "detached LUKS header: the header and keyslots are in this file or device, DEVICE holds only data";
void add_header_option(CLI::App* cmd, std::string* header, const std::string& what = kHeaderOptionHelp);

}  // namespace ublkcrypt

// HeaderWindow: a path libcryptsetup can use for the LUKS2 header of an Opal volume.
// libcryptsetup 2.6 only opens paths, and a drive image's plaintext is not one: for
// "emu:FILE" the window is a sparse temporary file as large as the drive whose first
// `bytes` mirror the drive's plaintext (the global range, where the header lives), and
// commit() writes them back. For a real drive the window is the device itself.
// The rest of the temporary file is never read: the header must lie within `bytes`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "tools/opal/opal_device.h"

namespace ublkcrypt {

class HeaderWindow {
 public:
  // `copy_in`: fill the window from the drive (open, status); false: start zeroed (format).
  static Status open(OpalDevice& device, uint64_t bytes, bool copy_in, std::unique_ptr<HeaderWindow>* out);
  ~HeaderWindow();
  HeaderWindow(const HeaderWindow&) = delete;
  HeaderWindow& operator=(const HeaderWindow&) = delete;

  const std::string& path() const { return path_; }
  // Writes the window back to the drive image (nothing to do for a real drive).
  Status commit();

 private:
  HeaderWindow(OpalDevice& device, std::string path, uint64_t bytes, bool temporary)
      : device_(device), path_(std::move(path)), bytes_(bytes), temporary_(temporary) {}
  OpalDevice& device_;
  std::string path_;
  uint64_t bytes_;
  bool temporary_;
};

// Header bytes read for an existing volume before its data offset is known: cryptsetup's
// default LUKS2 header (and ours) is 16 MiB.
constexpr uint64_t kDefaultHeaderWindow = 16u << 20;

}  // namespace ublkcrypt

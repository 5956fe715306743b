// DriveImage: a self-encrypting drive that is a file rather than a device node — the
// emulated drive of fixtures/opal, named "emu:FILE" on the command line. It is managed
// like a real drive (an opal::Transport) and read and written by blocks.
//
// The shipped `ublkcrypt` links no implementation: the emulated drive is test machinery,
// and only the test build (`ublkcrypt-test`, fixtures/test_build) installs an opener. A
// build without one refuses "emu:" paths with one line instead of treating them as files.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "backends/opal/transport.h"
#include "base/status.h"
#include "engine/storage.h"

namespace ublkcrypt {

class DriveImage : public opal::Transport {
 public:
  virtual uint64_t block_count() const = 0;
  virtual uint32_t block_size() const = 0;
  // `count` blocks at `lba`; `data` holds count * block_size() bytes. Errc::permission
  // (nothing transferred) while a block lies in a locked range.
  virtual Status read(uint64_t lba, uint64_t count, std::span<uint8_t> data) = 0;
  virtual Status write(uint64_t lba, uint64_t count, std::span<const uint8_t> data) = 0;
  virtual Status flush() = 0;
  // The drive's plaintext as engine Storage, through this same drive: opening the file a
  // second time would be a power cycle that locks its ranges again.
  virtual Status open_storage(bool read_only, std::unique_ptr<Storage>* out) = 0;
};

inline constexpr std::string_view kDriveImagePrefix = "emu:";

inline bool is_drive_image_path(std::string_view path) { return path.starts_with(kDriveImagePrefix); }

// Opens "emu:FILE" (a power cycle of the drive). Errc::unsupported in a build that
// installed no opener (the shipped binary).
Status open_drive_image(std::string_view path, std::shared_ptr<DriveImage>* out);

// Opens a drive image path ("emu:FILE").
using DriveImageOpener = Status (*)(std::string_view path, std::shared_ptr<DriveImage>* out);

// Installs the opener; called once, at static initialisation, by the test build.
struct DriveImageRegistration {
  explicit DriveImageRegistration(DriveImageOpener opener);
};

}  // namespace ublkcrypt

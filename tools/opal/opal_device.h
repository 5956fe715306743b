// OpalDevice: a drive named the way the CLI names it — "/dev/nvme0n1" (NVMe Security
// Send/Receive through libnvme) or "emu:FILE" (a DriveImage: the emulated drive, in the
// test build only) — with the Opal management object on top and, for a drive image, its
// data path.
//
// One OpalDevice per drive per process: opening an emulated drive file is a power cycle
// (ranges with LockOnReset lock again), so the block layer shares this object's drive
// instead of opening the file a second time.
#pragma once

#include <memory>
#include <string>

#include "backends/opal/drive.h"
#include "backends/opal/transport.h"
#include "base/status.h"
#include "engine/storage.h"
#include "tools/opal/drive_image.h"

namespace ublkcrypt {

class OpalDevice {
 public:
  // Opens the transport and reads discovery. A drive without Opal still opens (discovery
  // tells what it has); Errc::unsupported from a transport that has no Security Receive.
  static Status open(const std::string& path, std::unique_ptr<OpalDevice>* out);

  const std::string& path() const { return path_; }
  opal::Drive& drive() { return *drive_; }
  // The drive image, or null for a real drive.
  const std::shared_ptr<DriveImage>& image() const { return image_; }

  // Logical blocks and their size: from the drive image, or the block device's size.
  Status geometry(uint64_t* blocks, uint32_t* block_size) const;

  // The drive's plaintext as engine Storage (a drive image: through this object's image).
  Status open_storage(bool read_only, std::unique_ptr<Storage>* out) const;

 private:
  OpalDevice() = default;
  std::string path_;
  std::shared_ptr<DriveImage> image_;
  std::unique_ptr<opal::Transport> nvme_;
  std::unique_ptr<opal::Drive> drive_;
};

// Storage for any backing path: "emu:FILE" serves the drive image's plaintext,
// "rbd:POOL/IMAGE" is a Ceph RBD image (open_rbd_storage), anything else is a file or block
// device (open_file_storage); images and files pass through the test build's wrapper if it
// installed one (backing_wrapper.h).
Status open_backing_storage(const std::string& path, const FileStorageOptions& options,
                            std::unique_ptr<Storage>* out);

// The file behind a backing path ("emu:FILE" -> FILE), for identity checks.
std::string backing_file(const std::string& path);

}  // namespace ublkcrypt

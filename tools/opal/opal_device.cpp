#include "tools/opal/opal_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "backends/opal/nvme_transport.h"
#include "engine/rbd_storage.h"
#include "tools/opal/backing_wrapper.h"

namespace ublkcrypt {

Status OpalDevice::open(const std::string& path, std::unique_ptr<OpalDevice>* out) {
  std::unique_ptr<OpalDevice> d(new OpalDevice);
  d->path_ = path;
  opal::Transport* transport = nullptr;
  if (is_drive_image_path(path)) {
    if (Status s = open_drive_image(path, &d->image_); !s.ok()) return s.in("opal " + path);
    transport = d->image_.get();
  } else {
    std::unique_ptr<opal::NvmeTransport> nvme;
    if (Status s = opal::NvmeTransport::open(path, &nvme); !s.ok()) return s.in("opal " + path);
    transport = nvme.get();
    d->nvme_ = std::move(nvme);
  }
  if (Status s = opal::Drive::open(*transport, &d->drive_); !s.ok()) return s;
  *out = std::move(d);
  return Status::Ok();
}

Status OpalDevice::geometry(uint64_t* blocks, uint32_t* block_size) const {
  if (image_) {
    *blocks = image_->block_count();
    *block_size = image_->block_size();
    return Status::Ok();
  }
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("open " + path_, errno);
  uint64_t bytes = 0;
  int lbs = 0;
  Status s = ::ioctl(fd, BLKGETSIZE64, &bytes) == 0 && ::ioctl(fd, BLKSSZGET, &lbs) == 0 && lbs > 0
                 ? Status::Ok()
                 : errno_status("size of " + path_, errno);
  ::close(fd);
  if (!s.ok()) return s;
  *block_size = uint32_t(lbs);
  *blocks = bytes / uint32_t(lbs);
  return Status::Ok();
}

Status OpalDevice::open_storage(bool read_only, std::unique_ptr<Storage>* out) const {
  if (image_) return image_->open_storage(read_only, out);
  FileStorageOptions options;
  options.read_only = read_only;
  return open_file_storage(path_, options, out);
}

Status open_backing_storage(const std::string& path, const FileStorageOptions& options,
                            std::unique_ptr<Storage>* out) {
  if (is_rbd_name(path)) {
    if (Status s = open_rbd_storage(path, {.read_only = options.read_only}, out); !s.ok()) return s;
    *out = wrap_backing(std::move(*out));
    return Status::Ok();
  }
  if (!is_drive_image_path(path)) {
    if (Status s = open_file_storage(path, options, out); !s.ok()) return s;
    *out = wrap_backing(std::move(*out));
    return Status::Ok();
  }
  std::shared_ptr<DriveImage> image;
  if (Status s = open_drive_image(path, &image); !s.ok()) return s;
  return image->open_storage(options.read_only, out);
}

std::string backing_file(const std::string& path) {
  if (!is_drive_image_path(path)) return path;
  return path.substr(kDriveImagePrefix.size());
}

}  // namespace ublkcrypt

#include "tools/header_device.h"

#include "engine/rbd_storage.h"

namespace ublkcrypt {

Status HeaderDevice::open(const std::string& name, const std::string& header,
                          std::unique_ptr<HeaderDevice>* out) {
  auto device = std::make_unique<HeaderDevice>();
  device->name_ = name;
  device->path_ = name;
  device->header_ = header;
  if (is_rbd_name(name) && !header.empty())
    return Status(Errc::invalid_argument,
                  "--header " + header + ": " + name + " is an rbd image, whose LUKS header stays on the image");
  if (is_rbd_name(name)) {
    if (Status s = open_rbd_storage(name, {}, &device->storage_); !s.ok()) return s;
    if (Status s = HeaderShadow::load(*device->storage_, &device->shadow_); !s.ok()) return s;
    device->path_ = device->shadow_->path();
  }
  *out = std::move(device);
  return Status::Ok();
}

uint64_t HeaderDevice::data_alignment() const {
  return storage_ ? rbd_object_size(*storage_) : 0;
}

Status HeaderDevice::commit() { return shadow_ ? shadow_->write_back() : Status::Ok(); }

Status HeaderDevice::named(Status s) const {
  if (s.ok() || path_ == name_) return s;
  std::string message = s.message();
  for (size_t at; (at = message.find(path_)) != std::string::npos;)
    message.replace(at, path_.size(), name_);
  return Status(s.code(), std::move(message));
}

void add_header_option(CLI::App* cmd, std::string* header, const std::string& what) {
  cmd->add_option("--header", *header, what);
}

}  // namespace ublkcrypt

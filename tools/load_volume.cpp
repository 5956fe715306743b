#include "tools/load_volume.h"

#include "tools/command.h"

namespace ublkcrypt {

std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device, const std::string& header,
                                                std::unique_ptr<HeaderDevice>* header_device) {
  Status s = HeaderDevice::open(device, header, header_device);
  if (!s.ok()) fail(s);
  std::unique_ptr<LuksVolume> volume;
  s = LuksVolume::load((*header_device)->path(), (*header_device)->header(), &volume);
  if (!s.ok()) fail((*header_device)->named(s));
  return volume;
}

}  // namespace ublkcrypt

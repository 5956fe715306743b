#include "tools/load_volume.h"

#include "tools/command.h"

namespace ublkcrypt {

std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device) {
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(device, &volume);
  if (!s.ok()) fail(s);
  return volume;
}

std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device,
                                                std::unique_ptr<HeaderDevice>* header) {
  Status s = HeaderDevice::open(device, header);
  if (!s.ok()) fail(s);
  std::unique_ptr<LuksVolume> volume;
  s = LuksVolume::load((*header)->path(), &volume);
  if (!s.ok()) fail((*header)->named(s));
  return volume;
}

}  // namespace ublkcrypt

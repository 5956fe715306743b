#include "tools/load_volume.h"

#include "tools/command.h"

namespace ublkcrypt {

std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device) {
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(device, &volume);
  if (!s.ok()) fail(s);
  return volume;
}

}  // namespace ublkcrypt

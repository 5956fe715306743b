// The header-managing verbs all start the same way: load the LUKS header of their
// <device> argument or end with its one-line error.
#pragma once

#include <memory>
#include <string>

#include "tools/header_device.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

// Loads `device`'s LUKS header, or the detached `header` when not empty (--header); on
// failure reports it with fail() (never returns).
std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device, const std::string& header);

// Opens `device` as a HeaderDevice (an rbd image through a shadow of its header) and loads
// the header there, or from the detached `header` file; failures name `device`. The
// HeaderDevice must outlive the volume.
std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device, const std::string& header,
                                                std::unique_ptr<HeaderDevice>* header_device);

}  // namespace ublkcrypt

// The header-managing verbs all start the same way: load the LUKS header of their
// <device> argument or end with its one-line error.
#pragma once

#include <memory>
#include <string>

#include "tools/header_device.h"
#include "volume/luks_volume.h"

namespace ublkcrypt {

// Opens `device` as a HeaderDevice (an rbd image through a shadow of its header) and loads
// the header there, or from the detached `header` file (--header, when not empty); on
// failure reports it, naming `device`, with fail() (never returns). The HeaderDevice must
// outlive the volume; a verb that changes the header commits it there.
std::unique_ptr<LuksVolume> load_volume_or_fail(const std::string& device, const std::string& header,
                                                std::unique_ptr<HeaderDevice>* header_device);

}  // namespace ublkcrypt

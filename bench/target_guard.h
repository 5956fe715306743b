// The checks a benchmark target passes before any I/O: it exists, it is large enough for
// the workload, and a write benchmark does not destroy a filesystem or a LUKS header
// without --force (the same detector `format` uses, volume/existing_content.h).
#pragma once

#include <string>

#include "base/status.h"
#include "bench/workload.h"
#include "engine/storage.h"

namespace ublkcrypt {

// Probes `path` (size, alignment, O_DIRECT) and validates `w` against it. `alignment` is
// raised to at least `min_alignment` (the sector size when the engine runs on it).
Status check_target(const std::string& path, const Workload& w, bool force,
                    uint32_t min_alignment, StorageInfo* info);

}  // namespace ublkcrypt

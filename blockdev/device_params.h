// DeviceParams: what the kernel is told about the disk (SET_PARAMS), computed from the
// volume's geometry. A pure function, so the arithmetic is unit-tested on a host without
// ublk.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "blockdev/ublk_uapi.h"

namespace ublkcrypt {

// The largest request a ublk device takes: the kernel refuses a larger max_io_buf_bytes.
inline constexpr uint32_t kUblkMaxIoBytes = 1u << 20;

struct DeviceGeometry {
  uint64_t size_bytes = 0;     // decrypted device size
  uint32_t sector_size = 512;  // the volume's encryption sector: logical = physical block
  uint32_t max_io_bytes = 512 * 1024;  // largest request; also the per-tag buffer size
  bool read_only = false;
  bool allow_discards = false;  // off by default, as dm-crypt
};

// Fills `out` for UBLK_CMD_SET_PARAMS, or says which geometry value the kernel would
// refuse (the kernel's answer would only be EINVAL).
Status make_device_params(const DeviceGeometry& geometry, ublk_params* out);

}  // namespace ublkcrypt

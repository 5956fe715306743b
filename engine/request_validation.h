// Which block requests the engine refuses before any storage I/O, and why, in one line:
//   "write at offset 4097 (4096 bytes) on /var/tmp/img: not a multiple of the 512-byte sector"
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "engine/engine.h"

namespace ublkcrypt {

struct VolumeGeometry {
  std::string name;  // the backing, for messages
  uint64_t size_bytes = 0;
  uint32_t sector_size = 512;
  uint32_t max_io_bytes = 0;
  bool read_only = false;
  bool allow_discards = false;
};

const char* block_op_name(BlockOp op);

Status validate_request(const VolumeGeometry& volume, const BlockRequest& request);

}  // namespace ublkcrypt

#include "engine/storage.h"

#include <fmt/format.h>

namespace ublkcrypt {

static const char* op_name(StorageOp op) {
  switch (op) {
    case StorageOp::read: return "read";
    case StorageOp::write: return "write";
    case StorageOp::flush: return "flush";
    case StorageOp::discard: return "discard";
  }
  return "io";
}

std::string describe_storage_io(const StorageInfo& info, const StorageIo& io) {
  if (io.op == StorageOp::flush) return fmt::format("flush {}", info.name);
  return fmt::format("{} {} at offset {}", op_name(io.op), info.name, io.offset);
}

}  // namespace ublkcrypt

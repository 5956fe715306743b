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

Status Storage::current_size(uint64_t* /*size_bytes*/) const {
  return Status(Errc::unsupported, fmt::format("{}: this backing's size cannot change", info().name));
}

Status Storage::set_size(uint64_t /*size_bytes*/) {
  return Status(Errc::unsupported, fmt::format("{}: this backing's size cannot change", info().name));
}

}  // namespace ublkcrypt

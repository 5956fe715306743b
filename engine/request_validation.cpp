#include "engine/request_validation.h"

#include <fmt/format.h>

namespace ublkcrypt {

const char* block_op_name(BlockOp op) {
  switch (op) {
    case BlockOp::read: return "read";
    case BlockOp::write: return "write";
    case BlockOp::flush: return "flush";
    case BlockOp::discard: return "discard";
    case BlockOp::write_zeroes: return "write_zeroes";
  }
  return "request";
}

// Buffers go to O_DIRECT I/O unchanged; 4096 covers every logical block size.
constexpr uintptr_t kBufferAlignment = 4096;

Status validate_request(const VolumeGeometry& volume, const BlockRequest& request) {
  const BlockOp op = request.op;
  auto refuse = [&](Errc code, std::string_view cause) {
    return Status(code, fmt::format("{} at offset {} ({} bytes) on {}: {}", block_op_name(op),
                                    request.offset, request.length, volume.name, cause));
  };
  if (op == BlockOp::flush) return Status::Ok();
  const bool modifies = op != BlockOp::read;
  if (modifies && volume.read_only) return refuse(Errc::permission, "volume is read-only");
  // The block device advertises discard only when allowed, so one arriving anyway is a
  // request the kernel can take "not supported" for (EOPNOTSUPP), as dm-crypt answers.
  if (op == BlockOp::discard && !volume.allow_discards)
    return refuse(Errc::unsupported, "discards are not allowed on this volume");
  if (request.length == 0) return refuse(Errc::invalid_argument, "zero length");
  if (request.offset % volume.sector_size != 0 || request.length % volume.sector_size != 0)
    return refuse(Errc::invalid_argument,
                  fmt::format("not a multiple of the {}-byte sector", volume.sector_size));
  if (request.offset > volume.size_bytes || request.length > volume.size_bytes - request.offset)
    return refuse(Errc::invalid_argument,
                  fmt::format("beyond the end of the {}-byte volume", volume.size_bytes));
  // Discard and write_zeroes carry no data; the engine works through them in pieces.
  if (op == BlockOp::read || op == BlockOp::write) {
    if (request.length > volume.max_io_bytes)
      return refuse(Errc::invalid_argument,
                    fmt::format("larger than the {}-byte maximum I/O", volume.max_io_bytes));
    if (request.buffer == nullptr) return refuse(Errc::invalid_argument, "no buffer");
    if (reinterpret_cast<uintptr_t>(request.buffer) % kBufferAlignment != 0)
      return refuse(Errc::invalid_argument, "buffer not 4096-byte aligned");
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

#include "blockdev/device_params.h"

#include <bit>
#include <cstring>
#include <string>

namespace ublkcrypt {
namespace {

// The largest discard handed over in one request. BlockRequest::length is 32-bit, and a
// bounded size keeps one discard from monopolising the backing.
constexpr uint32_t kMaxDiscardBytes = 1u << 30;

}  // namespace

Status make_device_params(const DeviceGeometry& g, ublk_params* out) {
  const uint32_t ss = g.sector_size;
  if (ss < 512 || ss > 4096 || !std::has_single_bit(ss))
    return {Errc::invalid_argument,
            "sector size " + std::to_string(ss) + ": must be 512, 1024, 2048 or 4096"};
  if (g.size_bytes < ss || g.size_bytes % ss != 0)
    return {Errc::invalid_argument, "device size " + std::to_string(g.size_bytes) +
                                        ": must be a non-zero multiple of the sector size " +
                                        std::to_string(ss)};
  // The kernel rounds max_io_buf_bytes down to pages and refuses max_sectors beyond it.
  if (g.max_io_bytes < 4096 || g.max_io_bytes % 4096 != 0 || g.max_io_bytes > kUblkMaxIoBytes)
    return {Errc::invalid_argument, "max io size " + std::to_string(g.max_io_bytes) +
                                        ": must be a multiple of 4096 up to 1 MiB"};

  std::memset(out, 0, sizeof(*out));
  out->len = sizeof(*out);
  out->types = UBLK_PARAM_TYPE_BASIC;

  ublk_param_basic& b = out->basic;
  // A volatile write cache with FUA makes the block layer send REQ_OP_FLUSH and REQ_FUA
  // down to us instead of swallowing them; the engine turns them into fdatasync/RWF_DSYNC.
  b.attrs = UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA;
  if (g.read_only) b.attrs |= UBLK_ATTR_READ_ONLY;
  const auto shift = static_cast<uint8_t>(std::countr_zero(ss));
  // Physical = logical: a sector is encrypted as a unit, so a partial-sector write would
  // need read-modify-write; the block layer must never send one.
  b.logical_bs_shift = shift;
  b.physical_bs_shift = shift;
  b.io_min_shift = shift;
  b.io_opt_shift = shift;
  b.max_sectors = g.max_io_bytes >> 9;  // 512-byte units whatever the block size
  b.dev_sectors = g.size_bytes >> 9;

  if (!g.read_only) {
    // The discard parameter block also carries write-zeroes. 6.12 refuses the block with
    // discard_granularity 0, and with max_discard_sectors set needs exactly one segment.
    // max_discard_sectors 0 leaves discard off while write-zeroes stays on.
    out->types |= UBLK_PARAM_TYPE_DISCARD;
    ublk_param_discard& d = out->discard;
    d.discard_granularity = ss;
    d.max_discard_segments = 1;
    d.max_discard_sectors = g.allow_discards ? kMaxDiscardBytes >> 9 : 0;
    // Zeroes are encrypted like any write, through the request's own buffer: no larger
    // than one I/O.
    d.max_write_zeroes_sectors = g.max_io_bytes >> 9;
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

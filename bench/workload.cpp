#include "bench/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "engine/rbd_storage.h"
#include "engine/storage_sync.h"
#include "volume/existing_content.h"

namespace ublkcrypt {

uint64_t workload_region(const Workload& w, uint64_t target_bytes) {
  return w.size_bytes != 0 ? w.size_bytes : target_bytes - target_bytes % w.block_bytes;
}

Status validate_workload(const Workload& w, const std::string& target, uint64_t target_bytes,
                         uint32_t alignment) {
  auto bad = [&]<typename... A>(fmt::format_string<A...> cause, A&&... args) {
    const std::string why = fmt::format(cause, std::forward<A>(args)...);
    return Status(Errc::invalid_argument, fmt::format("bench {}: {}", target, why));
  };
  constexpr std::string_view kRw[] = {"read", "write", "rw", "randread", "randwrite", "randrw"};
  if (std::ranges::find(kRw, w.rw) == std::end(kRw))
    return bad("unknown --rw '{}' (read, write, rw, randread, randwrite, randrw)", w.rw);
  if (w.read_percent > 100) return bad("--rwmixread {} is over 100", w.read_percent);
  if (w.block_bytes == 0 || w.block_bytes % alignment != 0)
    return bad("block size {} is not a positive multiple of the target's {}-byte alignment",
               w.block_bytes, alignment);
  if (w.block_bytes > 16u << 20) return bad("block size {} is over 16 MiB", w.block_bytes);
  if (w.iodepth == 0 || w.iodepth > 1024) return bad("iodepth {} is outside 1..1024", w.iodepth);
  if (w.iodepth_batch > w.iodepth)
    return bad("iodepth_batch {} is over the iodepth {}", w.iodepth_batch, w.iodepth);
  if (w.jobs == 0 || w.jobs > 64) return bad("numjobs {} is outside 1..64", w.jobs);
  if (!(w.runtime_seconds >= 0)) return bad("runtime is negative");
  if (w.runtime_seconds == 0 && w.size_bytes == 0)
    return bad("duration of zero (give --runtime above 0, or --size for one pass)");
  if (w.size_bytes % w.block_bytes != 0)
    return bad("size {} is not a multiple of the block size {}", w.size_bytes, w.block_bytes);
  const uint64_t region = workload_region(w, target_bytes);
  if (w.size_bytes > target_bytes)
    return bad("too small for the workload: {} bytes, the workload covers {}", target_bytes,
               w.size_bytes);
  const uint64_t need = uint64_t{w.block_bytes} * (w.random() ? 1 : w.jobs);
  if (region < need)
    return bad("too small for the workload: a {}-byte region holds fewer than {} blocks of {} "
               "bytes", region, w.random() ? 1 : w.jobs, w.block_bytes);
  return Status::Ok();
}

OperationStream::OperationStream(const Workload& w, unsigned job, uint64_t region_bytes)
    : random_(w.random()),
      time_based_(w.runtime_seconds > 0),
      reads_percent_(w.reads_percent()),
      block_(w.block_bytes),
      // Each job its own stream, reproducible from the workload's seed.
      rng_(w.seed * 0x9E3779B97F4A7C15ull + job) {
  region_blocks_ = region_bytes / block_;
  if (random_) {
    pass_bytes_ = region_blocks_ / w.jobs * block_;
    if (pass_bytes_ == 0) pass_bytes_ = block_;
  } else {
    slice_blocks_ = region_blocks_ / w.jobs;
    slice_start_ = uint64_t{job} * slice_blocks_ * block_;
    pass_bytes_ = slice_blocks_ * block_;
  }
}

bool OperationStream::next(IoStep* step) {
  const uint64_t pass_blocks = pass_bytes_ / block_;
  if (!time_based_ && issued_ >= pass_blocks) return false;
  if (random_)
    step->offset = std::uniform_int_distribution<uint64_t>(0, region_blocks_ - 1)(rng_) * block_;
  else
    step->offset = slice_start_ + (issued_ % slice_blocks_) * block_;
  if (reads_percent_ == 100) step->write = false;
  else if (reads_percent_ == 0) step->write = true;
  else step->write = std::uniform_int_distribution<uint32_t>(0, 99)(rng_) >= reads_percent_;
  ++issued_;
  return true;
}

Status open_target_storage(const std::string& target, const FileStorageOptions& options,
                           std::unique_ptr<Storage>* out) {
  if (is_rbd_name(target)) return open_rbd_storage(target, {.read_only = options.read_only}, out);
  return open_file_storage(target, options, out);
}

Status open_workload_storage(const std::string& target, const Workload& w,
                             std::unique_ptr<Storage>* out) {
  return open_target_storage(target, {.read_only = !w.writes()}, out);
}

Status check_target(const std::string& path, const Workload& w, bool force,
                    uint32_t min_alignment) {
  std::unique_ptr<Storage> storage;
  if (Status s = open_workload_storage(path, w, &storage); !s.ok()) return s.in("bench");
  const StorageInfo& info = storage->info();
  const uint32_t alignment = std::max(info.logical_block_size, min_alignment);
  if (Status s = validate_workload(w, path, info.size_bytes, alignment); !s.ok()) return s;
  if (w.writes() && !force) {
    std::string what;
    // An image has no path for blkid: look for the one thing ublkcrypt puts there.
    if (is_rbd_name(path)) {
      uint8_t head[4096];
      std::unique_ptr<StorageSync> io;
      Status s = StorageSync::open(*storage, &io);
      if (s.ok()) s = io->read(0, sizeof(head), head);
      if (!s.ok()) return s.in("bench");
      if (std::memcmp(head, "LUKS\xba\xbe", 6) == 0) what = "a LUKS header";
    } else if (Status s = describe_existing_content(path, &what); !s.ok()) {
      return s.in("bench");
    }
    if (!what.empty())
      return Status(Errc::busy,
                    fmt::format("bench {}: a write benchmark would overwrite what it holds "
                                "({}); use --force to write anyway",
                                path, what));
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

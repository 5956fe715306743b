// Workload: what a storage benchmark does, in fio's terms (rw, bs, iodepth, numjobs,
// runtime, size), and the stream of operations one job issues. Semantics kept close to
// fio's, so the cross-check (tests/bench/fio_crosscheck.sh) compares like with like:
//   - region: the first `size_bytes` of the target (0 = all of it). Sequential jobs split
//     it into one slice each (fio's numjobs with offset_increment); random jobs roam all
//     of it, each from its own seed.
//   - runtime > 0: time based, looping over the region until the time is up; runtime 0:
//     one pass of the region (each job its share), then stop.
//   - iodepth_batch: I/Os queued before they are submitted, fio's iodepth_batch_submit
//     (default 1: each I/O goes to the kernel as soon as it is made). A batch sent in one
//     system call makes a convoy on a disk that completes in bursts (virtio-blk: one
//     interrupt for a whole round): io_uring plugs the batch, so the disk gets none of it
//     until the last is built, and idles that long every round.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "base/status.h"
#include "engine/storage.h"

namespace ublkcrypt {

struct Workload {
  std::string rw = "read";  // read, write, rw, randread, randwrite, randrw
  uint32_t read_percent = 50;  // --rwmixread, for rw and randrw only
  uint32_t block_bytes = 128 * 1024;
  unsigned iodepth = 16;     // I/Os in flight per job
  unsigned iodepth_batch = 1;  // I/Os per submission; 0 = iodepth (fio's iodepth_batch)
  unsigned jobs = 1;         // threads, each with its own ring
  double runtime_seconds = 5;
  uint64_t size_bytes = 0;   // region; 0 = the whole target
  uint64_t seed = 1;
  bool end_fsync = false;  // a flush once a job's I/O is done, timed with it (fio's end_fsync)

  bool random() const { return rw.starts_with("rand"); }
  // Percentage of reads: 100 for read/randread, 0 for write/randwrite, read_percent mixed.
  uint32_t reads_percent() const {
    if (rw == "read" || rw == "randread") return 100;
    if (rw == "write" || rw == "randwrite") return 0;
    return read_percent;
  }
  bool writes() const { return reads_percent() < 100; }
};

// Checks the workload against a target of `target_bytes` whose I/O must be aligned to
// `alignment` bytes. One-line reasons naming `target` and the cause.
Status validate_workload(const Workload& w, const std::string& target, uint64_t target_bytes,
                         uint32_t alignment);

// Opens a benchmark target as storage: rbd:POOL/IMAGE through librbd (the read-only flag
// of `options` applies), anything else as a file or block device with `options`.
Status open_target_storage(const std::string& target, const FileStorageOptions& options,
                           std::unique_ptr<Storage>* out);

// Opens `target` as the raw storage `w` runs on: read-only unless the workload writes, so a
// read benchmark works on a device we may not write. Opening is not I/O.
Status open_workload_storage(const std::string& target, const Workload& w,
                             std::unique_ptr<Storage>* out);

// The checks a target passes before any I/O: it opens, it is large enough for `w`, and a
// write benchmark does not destroy a filesystem or a LUKS header without `force` (the
// detector `format` uses, volume/existing_content.h). The alignment is the target's, at
// least `min_alignment` (the sector size when the engine runs on it).
Status check_target(const std::string& path, const Workload& w, bool force,
                    uint32_t min_alignment);

// The region the workload covers on a target of `target_bytes`.
uint64_t workload_region(const Workload& w, uint64_t target_bytes);

struct IoStep {
  bool write = false;
  uint64_t offset = 0;
};

// The operations of one job, in order. Deterministic for a given workload, job and region.
class OperationStream {
 public:
  OperationStream(const Workload& w, unsigned job, uint64_t region_bytes);

  // The next operation; false once a one-pass (runtime 0) job has covered its share.
  bool next(IoStep* step);
  // Bytes this job moves in one pass (its slice, or its share of the region when random).
  uint64_t pass_bytes() const { return pass_bytes_; }

 private:
  bool random_;
  bool time_based_;
  uint32_t reads_percent_;
  uint32_t block_;
  uint64_t slice_start_ = 0;   // sequential: this job's slice
  uint64_t slice_blocks_ = 0;
  uint64_t region_blocks_ = 0;  // random: the whole region
  uint64_t issued_ = 0;
  uint64_t pass_bytes_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace ublkcrypt

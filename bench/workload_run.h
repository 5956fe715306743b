// Running a Workload through IoPorts: `jobs` threads, each keeping `iodepth` I/Os in
// flight and resubmitting from each completion, as fio's io_uring engine does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bench/io_port.h"
#include "bench/latency_histogram.h"
#include "bench/workload.h"
#include "base/status.h"

namespace ublkcrypt {

struct WorkloadResult {
  uint64_t read_ops = 0;
  uint64_t write_ops = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  double seconds = 0;      // wall time from the first submission to the last completion
  double cpu_seconds = 0;  // process CPU time over the same interval
  // The busiest job thread's own CPU time: the serial part (a job's thread is its engine
  // queue), which cannot spread over cores the way io-wq or provider workers do.
  double serial_cpu_seconds = 0;
  LatencyHistogram read_latency;
  LatencyHistogram write_latency;

  uint64_t bytes() const { return read_bytes + write_bytes; }
  uint64_t ops() const { return read_ops + write_ops; }
  double mbs() const;
  double iops() const;
  double cpu_ns_per_byte() const;  // process CPU nanoseconds per byte moved
  LatencyHistogram latency() const;  // reads and writes together
};

// Opens `target` as the raw storage `w` runs on: read-only unless the workload writes.
Status open_workload_storage(const std::string& target, const Workload& w,
                             std::unique_ptr<Storage>* out);

// Runs `w` over the first `region_bytes` of the target the ports lead to, until the
// workload's runtime is up (or after one pass). The first failed I/O ends the run and is
// returned, naming the target.
Status run_workload(const PortFactory& ports, const Workload& w, uint64_t region_bytes,
                    WorkloadResult* out);

}  // namespace ublkcrypt

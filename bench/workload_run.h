// The benchmarks' I/O driver: a Workload run by `jobs` threads, each keeping `iodepth` I/Os
// in flight and resubmitting from each completion as fio's io_uring engine does, through
// an IoPort onto raw storage or onto the engine. The engine port is a RingQueue
// (engine/ring_queue.h): the queue and wait_and_process loop the ublk queue thread runs, so
// what runs through it measures the path the device ships. The job loop is the same for
// both, so an encrypted/raw ratio compares one loop against itself with only the datapath
// changed. `bench storage`, `bench contention` and `engine-bench` run on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "bench/cpu_clock.h"
#include "bench/latency_histogram.h"
#include "bench/progress.h"
#include "bench/workload.h"
#include "engine/engine.h"
#include "engine/storage.h"

namespace ublkcrypt {

// One job's door to what it measures, held by the job (a unique_ptr; a port holds a ring
// and cannot be copied). It belongs to the thread that opened it.
class IoPort {
 public:
  // Called on the job's thread for each completed I/O, with its slot.
  using Done = std::function<void(unsigned slot, Status status)>;
  virtual ~IoPort() = default;
  // Queues a read, write or flush in `slot` (0 .. depth-1, one I/O per slot at a time).
  virtual void submit(unsigned slot, BlockOp op, uint64_t offset, uint32_t length,
                      uint8_t* buffer) = 0;
  virtual void kick() = 0;  // sends what was queued
  // Declares, before the first submit, a buffer the job passes to submit() again and again:
  // a port on a ring registers it there, as the ublk queue thread its request buffers.
  virtual void add_buffer(uint8_t* /*buffer*/, size_t /*bytes*/) {}
  // Waits up to `timeout_ms` for completions and reports each to `done`.
  virtual void wait(int timeout_ms, const Done& done) = 0;
};

// Opens a port with room for `depth` I/Os of up to `max_bytes` each, on the calling thread.
// The engine's port sends an I/O larger than the engine takes in one request as several,
// in flight together, as the block layer splits one for the ublk device.
using PortFactory = std::function<Status(unsigned depth, uint32_t max_bytes, std::unique_ptr<IoPort>* out)>;
PortFactory storage_ports(Storage& storage);  // raw storage, which outlives the ports
PortFactory engine_ports(Engine& engine);     // encrypt + write, read + decrypt

// Bytes an engine has passed over host memory so far (a pass reads a byte and writes one):
// its provider's payload and extra copies, and the backing's bytes when a host copy moved
// them (buffered or mapped I/O; O_DIRECT is the device's DMA). The growth over a run, per
// user byte of it, is the run's memory passes per user byte.
uint64_t engine_memory_bytes(Engine& engine);

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
  double mbs() const { return mb_per_second(bytes(), seconds); }
  double iops() const { return seconds > 0 ? double(ops()) / seconds : 0; }
  // Process CPU nanoseconds per byte moved.
  double cpu_ns_per_byte() const { return bytes() ? cpu_seconds * 1e9 / double(bytes()) : 0; }
  LatencyHistogram latency() const;  // reads and writes together
};

// Runs `w` over the first `region_bytes` of the target the ports lead to, until the
// workload's runtime is up (or after one pass). The first failed I/O ends the run and is
// returned, naming the target.
Status run_workload(const PortFactory& ports, const Workload& w, uint64_t region_bytes,
                    WorkloadResult* out);

// ---- `bench storage`: a workload on a target, and the same on a second one right after
// it (an open ublkcrypt device over that backing), so the ratio comes from one run ----

struct StorageBenchmarkOptions {
  std::string target;
  std::string compare;  // "" = none
  Workload workload;
  bool force = false;
};

struct StorageBenchmarkReport {
  StorageBenchmarkOptions options;
  WorkloadResult target;
  WorkloadResult compare;  // empty when no --compare
  double compare_ratio() const {  // compare / target throughput
    return target.mbs() > 0 ? compare.mbs() / target.mbs() : 0;
  }
};

// Checks both targets (check_target) before any I/O, then runs.
Status run_storage_benchmark(const StorageBenchmarkOptions& o, StorageBenchmarkReport* out);

}  // namespace ublkcrypt

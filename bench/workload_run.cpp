#include "bench/workload_run.h"

#include <algorithm>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/cpu_clock.h"
#include "bench/page_buffer.h"

namespace ublkcrypt {

double WorkloadResult::mbs() const { return mb_per_second(bytes(), seconds); }
double WorkloadResult::iops() const { return seconds > 0 ? double(ops()) / seconds : 0; }
double WorkloadResult::cpu_ns_per_byte() const {
  return bytes() ? cpu_seconds * 1e9 / double(bytes()) : 0;
}
LatencyHistogram WorkloadResult::latency() const {
  LatencyHistogram all = read_latency;
  all.merge(write_latency);
  return all;
}

namespace {

// Writes into `buffer` the pattern of `offset`: a word no two 8-byte places of the target
// share, cheap enough not to dominate a pass. With `check`, compares instead: the first
// offset that differs, or -1.
int64_t pattern(uint8_t* buffer, uint64_t offset, uint32_t length, bool check) {
  auto* words = reinterpret_cast<uint64_t*>(buffer);
  for (uint32_t i = 0; i < length / 8; ++i) {
    const uint64_t expected = ((offset + uint64_t{i} * 8) * 0x9E3779B97F4A7C15ull) ^ 0x5DEECE66D;
    if (!check) words[i] = expected;
    else if (words[i] != expected) return int64_t(offset + uint64_t{i} * 8);
  }
  return -1;
}

// One job: its own port, buffers and operation stream.
class Job final : private PortCompletion {
 public:
  Job(const Workload& w, unsigned index, uint64_t region)
      : w_(w),
        index_(index),
        batch_(w.iodepth_batch == 0 ? w.iodepth : w.iodepth_batch),
        stream_(w, index, region) {}

  // Opens the port and fills the buffers: everything a job needs before its first I/O, so
  // none of it is inside the measured interval.
  Status prepare(const PortFactory& ports) {
    if (Status s = ports(w_.iodepth, &port_); !s.ok()) return s;
    slots_.resize(w_.iodepth);
    for (unsigned i = 0; i < w_.iodepth; ++i) {
      buffers_.emplace_back(w_.block_bytes, w_.seed * 1000003 + index_ * 4099 + i);
      if (buffers_.back().data() == nullptr) {
        port_.reset();  // on this thread, as it was opened
        return Status(Errc::no_memory, "bench: I/O buffers");
      }
    }
    return Status::Ok();
  }

  // Runs until `deadline` (or one pass); the port is closed on return, on this thread.
  Status run(BenchClock::time_point deadline) {
    const double cpu0 = thread_cpu_seconds();
    deadline_ = deadline;
    for (unsigned i = 0; i < w_.iodepth; ++i) start(i);
    send();
    while (in_flight_ > 0) {
      port_->wait(50, this);
      send();  // a partial batch waits no longer than the completions that made it
    }
    if (w_.end_fsync && status_.ok()) {
      slots_[0].op = BlockOp::flush;
      port_->submit(0, BlockOp::flush, 0, 0, nullptr);
      ++in_flight_;
      send();
      while (in_flight_ > 0) port_->wait(50, this);
    }
    port_.reset();
    result.serial_cpu_seconds = thread_cpu_seconds() - cpu0;
    return status_;
  }

  WorkloadResult result;

 private:
  struct Slot {
    BlockOp op = BlockOp::read;
    uint64_t offset = 0;
    BenchClock::time_point started;
  };

  bool start(unsigned slot) {
    if (!status_.ok()) return false;
    IoStep step;
    if (!stream_.next(&step)) return false;
    const BlockOp op = step.write ? BlockOp::write : BlockOp::read;
    if (w_.verify && step.write) pattern(buffers_[slot].data(), step.offset, w_.block_bytes, false);
    slots_[slot] = {op, step.offset, BenchClock::now()};
    port_->submit(slot, op, step.offset, w_.block_bytes, buffers_[slot].data());
    ++in_flight_;
    if (++unsent_ >= batch_) send();
    return true;
  }

  void send() {
    unsent_ = 0;
    port_->kick();
  }

  void io_done(unsigned slot, Status status) override {
    --in_flight_;
    const auto now = BenchClock::now();
    if (!status.ok()) {
      if (status_.ok()) status_ = std::move(status);
      return;
    }
    const Slot& s = slots_[slot];
    if (s.op == BlockOp::flush) return;
    const auto ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 now - s.started).count());
    if (w_.verify && s.op == BlockOp::read) {
      if (int64_t bad = pattern(buffers_[slot].data(), s.offset, w_.block_bytes, true); bad >= 0) {
        status_ = Status(Errc::corrupt, fmt::format("bench: read back at offset {}: data "
                                                    "differs from what was written", bad));
        return;
      }
    }
    if (s.op == BlockOp::write) {
      ++result.write_ops;
      result.write_bytes += w_.block_bytes;
      result.write_latency.record(ns);
    } else {
      ++result.read_ops;
      result.read_bytes += w_.block_bytes;
      result.read_latency.record(ns);
    }
    if (w_.runtime_seconds > 0 && now >= deadline_) return;
    start(slot);
  }

  const Workload& w_;
  unsigned index_;
  unsigned batch_;  // I/Os per kick (see Workload::iodepth_batch)
  OperationStream stream_;
  BenchClock::time_point deadline_;
  std::unique_ptr<IoPort> port_;
  std::vector<PageBuffer> buffers_;
  std::vector<Slot> slots_;
  unsigned in_flight_ = 0;
  unsigned unsent_ = 0;  // submitted to the port since its last kick
  Status status_;
};

}  // namespace

Status open_workload_storage(const std::string& target, const Workload& w,
                             std::unique_ptr<Storage>* out) {
  FileStorageOptions options;
  options.read_only = !w.writes();
  return open_file_storage(target, options, out);
}

Status run_workload(const PortFactory& ports, const Workload& w, uint64_t region_bytes,
                    WorkloadResult* out) {
  std::vector<std::unique_ptr<Job>> jobs;
  for (unsigned j = 0; j < w.jobs; ++j)
    jobs.push_back(std::make_unique<Job>(w, j, region_bytes));
  // Each job prepares on its own thread (a port belongs to the thread that opened it);
  // the clock starts once every job is ready, just before the first submission.
  std::latch ready(w.jobs);
  std::latch go(1);
  BenchClock::time_point deadline;
  std::vector<Status> statuses(w.jobs);
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < w.jobs; ++j)
    threads.emplace_back([&, j] {
      statuses[j] = jobs[j]->prepare(ports);
      ready.count_down();
      go.wait();
      if (statuses[j].ok()) statuses[j] = jobs[j]->run(deadline);
    });
  ready.wait();
  const Stopwatch clock;
  deadline = deadline_after(w.runtime_seconds);
  go.count_down();
  for (std::thread& t : threads) t.join();
  WorkloadResult total;
  total.seconds = clock.wall_seconds();
  total.cpu_seconds = clock.cpu_seconds();
  for (unsigned j = 0; j < w.jobs; ++j) {
    if (!statuses[j].ok()) return statuses[j];
    const WorkloadResult& r = jobs[j]->result;
    total.read_ops += r.read_ops;
    total.write_ops += r.write_ops;
    total.serial_cpu_seconds = std::max(total.serial_cpu_seconds, r.serial_cpu_seconds);
    total.read_bytes += r.read_bytes;
    total.write_bytes += r.write_bytes;
    total.read_latency.merge(r.read_latency);
    total.write_latency.merge(r.write_latency);
  }
  *out = std::move(total);
  return Status::Ok();
}

}  // namespace ublkcrypt

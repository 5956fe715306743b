#include "bench/workload_run.h"

#include <algorithm>
#include <latch>
#include <thread>
#include <vector>

#include "bench/cpu_clock.h"
#include "bench/page_buffer.h"
#include "engine/io_ring.h"
#include "engine/rbd_storage.h"
#include "engine/ring_queue.h"

namespace ublkcrypt {

LatencyHistogram WorkloadResult::latency() const {
  LatencyHistogram all = read_latency;
  all.merge(write_latency);
  return all;
}

uint64_t engine_memory_bytes(Engine& engine) {
  const ProviderCounters& c = engine.session().provider()->counters();
  return c.payload_bytes.load() + c.copy_bytes.load() +
         (engine.storage_info().direct_io ? 0 : engine.storage_bytes());
}

namespace {

class StoragePort final : public IoPort, private StorageCompletion {
 public:
  StoragePort(unsigned depth, uint32_t /*max_bytes*/) : ios_(depth) {
    for (StorageIo& io : ios_) io.completion = this;
  }

  // A ring of its own, set up as the engine's (engine/ring_queue.cpp), so storage alone
  // and the engine submit and wait the same way.
  Status open(Storage& storage) {
    const unsigned depth = unsigned(ios_.size());
    if (Status s = ring_.init(2 * depth + 8, 0, /*cooperative=*/true); !s.ok()) return s;
    return storage.open_queue(depth, &ring_, &queue_);
  }

  void submit(unsigned slot, BlockOp op, uint64_t offset, uint32_t length,
              uint8_t* buffer) override {
    const StorageOp as = op == BlockOp::write   ? StorageOp::write
                         : op == BlockOp::flush ? StorageOp::flush
                                                : StorageOp::read;
    StorageIo& io = ios_[slot];
    std::tie(io.op, io.offset, io.length, io.buffer) = std::tie(as, offset, length, buffer);
    queue_->submit(&io);
  }

  void add_buffer(uint8_t* buffer, size_t bytes) override { ring_.add_fixed_region(buffer, bytes, 1); }

  // Sends now, as fio does with iodepth_batch_submit: the job decides how many I/Os a
  // kick carries (Workload::iodepth_batch).
  void kick() override {
    queue_->kick();
    (void)ring_.submit(0);
  }

  // I/O done at once (a tmpfs copy) is reaped without waiting; otherwise wait on the ring.
  void wait(int timeout_ms, const Done& done) override {
    done_ = &done;
    reaped_ = 0;
    queue_->reap();
    if (reaped_ == 0) (void)ring_.submit(1, timeout_ms);
    ring_.dispatch();
    queue_->reap();
  }

 private:
  void storage_done(StorageIo* io, Status status, uint32_t bytes) override {
    ++reaped_;
    if (status.ok() && bytes != io->length)
      status = Status(Errc::io_error, "bench: short transfer (past the end of the target?)");
    (*done_)(unsigned(io - ios_.data()), std::move(status));
  }

  IoRing ring_;
  std::vector<StorageIo> ios_;
  std::unique_ptr<StorageQueue> queue_;  // after ring_: it goes before the ring it uses
  const Done* done_ = nullptr;
  unsigned reaped_ = 0;
};

class EnginePort final : public IoPort, private BlockCompletion {
 public:
  EnginePort(unsigned depth, uint32_t max_bytes) : depth_(depth), max_bytes_(max_bytes), slots_(depth) {}

  Status open(Engine& engine) {
    piece_bytes_ = engine.config().max_io_bytes;
    pieces_ = std::max(1u, (max_bytes_ + piece_bytes_ - 1) / piece_bytes_);
    requests_.resize(size_t(depth_) * pieces_);
    for (BlockRequest& r : requests_) r.completion = this;
    return RingQueue::open(engine, unsigned(requests_.size()), &queue_);
  }

  // A slot's I/O as requests of at most the engine's max_io_bytes (a flush: one).
  void submit(unsigned slot, BlockOp op, uint64_t offset, uint32_t length,
              uint8_t* buffer) override {
    Slot& s = slots_[slot];
    s.status = Status::Ok();
    s.outstanding = 0;
    uint32_t done = 0;
    do {
      const uint32_t piece = op == BlockOp::flush ? 0 : std::min(piece_bytes_, length - done);
      BlockRequest& r = requests_[size_t(slot) * pieces_ + s.outstanding++];
      r.op = op;
      r.offset = offset + done;
      r.length = piece;
      r.buffer = buffer == nullptr ? nullptr : buffer + done;
      pending_.push_back(&r);
      done += piece;
    } while (done < length);
  }

  void add_buffer(uint8_t* buffer, size_t bytes) override {
    queue_->add_fixed_region(buffer, bytes, 1);
  }

  // One crypto batch for everything queued; its storage I/O goes with the next enter.
  void kick() override {
    if (pending_.empty()) return;
    queue_->submit(pending_);
    pending_.clear();
  }

  void wait(int timeout_ms, const Done& done) override {
    done_ = &done;
    queue_->wait_and_process(timeout_ms);
  }

 private:
  // The slot's I/O is done when its last piece is, with the first piece's error if any.
  void block_done(BlockRequest* r, Status status) override {
    const unsigned slot = unsigned(size_t(r - requests_.data()) / pieces_);
    Slot& s = slots_[slot];
    if (!status.ok() && s.status.ok()) s.status = std::move(status);
    if (--s.outstanding == 0) (*done_)(slot, std::move(s.status));
  }

  struct Slot {
    unsigned outstanding = 0;
    Status status;
  };
  unsigned depth_;
  uint32_t max_bytes_;
  uint32_t piece_bytes_ = 0;
  unsigned pieces_ = 1;
  std::vector<Slot> slots_;
  std::vector<BlockRequest> requests_;
  std::vector<BlockRequest*> pending_;
  std::unique_ptr<RingQueue> queue_;
  const IoPort::Done* done_ = nullptr;
};

template <typename P, typename Target>
PortFactory ports_on(Target& target) {
  return [&target](unsigned depth, uint32_t max_bytes, std::unique_ptr<IoPort>* out) {
    auto port = std::make_unique<P>(depth, max_bytes);
    if (Status s = port->open(target); !s.ok()) return s;
    *out = std::move(port);
    return Status::Ok();
  };
}

// One job: its own port, buffers and operation stream.
class Job {
 public:
  Job(const Workload& w, unsigned index, uint64_t region)
      : w_(w), batch_(w.iodepth_batch == 0 ? w.iodepth : w.iodepth_batch),
        stream_(w, index, region), slots_(w.iodepth) {
    for (unsigned i = 0; i < w.iodepth; ++i)
      buffers_.emplace_back(w.block_bytes, w.seed * 1000003 + index * 4099 + i);
  }

  // Opens the port: with the buffers, everything a job needs before its first I/O, so none
  // of it is inside the measured interval.
  Status prepare(const PortFactory& ports) {
    for (const PageBuffer& b : buffers_)
      if (b.data() == nullptr) return Status(Errc::no_memory, "bench: I/O buffers");
    if (Status s = ports(w_.iodepth, w_.block_bytes, &port_); !s.ok()) return s;
    for (const PageBuffer& b : buffers_) port_->add_buffer(b.data(), w_.block_bytes);
    return Status::Ok();
  }

  // Runs until `deadline` (or one pass); the port is closed on return, on this thread.
  Status run(BenchClock::time_point deadline) {
    const double cpu0 = thread_cpu_seconds();
    deadline_ = deadline;
    for (unsigned i = 0; i < w_.iodepth; ++i) start(i);
    send();
    while (in_flight_ > 0) {
      port_->wait(50, done_);
      send();  // a partial batch waits no longer than the completions that made it
    }
    if (w_.end_fsync && status_.ok()) {
      slots_[0].op = BlockOp::flush;
      port_->submit(0, BlockOp::flush, 0, 0, nullptr);
      ++in_flight_;
      send();
      while (in_flight_ > 0) port_->wait(50, done_);
    }
    port_.reset();
    result.serial_cpu_seconds = thread_cpu_seconds() - cpu0;
    return status_;
  }

  WorkloadResult result;

 private:
  struct Slot {
    BlockOp op = BlockOp::read;
    BenchClock::time_point started;
  };

  void start(unsigned slot) {
    IoStep step;
    if (!status_.ok() || !stream_.next(&step)) return;
    const BlockOp op = step.write ? BlockOp::write : BlockOp::read;
    slots_[slot] = {op, BenchClock::now()};
    port_->submit(slot, op, step.offset, w_.block_bytes, buffers_[slot].data());
    ++in_flight_;
    if (++unsent_ >= batch_) send();
  }

  void send() {
    unsent_ = 0;
    port_->kick();
  }

  void io_done(unsigned slot, Status status) {
    --in_flight_;
    const auto now = BenchClock::now();
    const Slot& s = slots_[slot];
    if (!status.ok()) {
      if (status_.ok()) status_ = std::move(status);
      return;
    }
    if (s.op == BlockOp::flush) return;
    const bool write = s.op == BlockOp::write;
    ++(write ? result.write_ops : result.read_ops);
    (write ? result.write_bytes : result.read_bytes) += w_.block_bytes;
    (write ? result.write_latency : result.read_latency)
        .record(uint64_t(std::chrono::nanoseconds(now - s.started).count()));
    if (w_.runtime_seconds > 0 && now >= deadline_) return;
    start(slot);
  }

  const Workload& w_;
  const IoPort::Done done_ = [this](unsigned slot, Status status) { io_done(slot, status); };
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

PortFactory storage_ports(Storage& storage) { return ports_on<StoragePort>(storage); }
PortFactory engine_ports(Engine& engine) { return ports_on<EnginePort>(engine); }

Status run_workload(const PortFactory& ports, const Workload& w, uint64_t region_bytes,
                    WorkloadResult* out) {
  std::vector<std::unique_ptr<Job>> jobs;
  for (unsigned j = 0; j < w.jobs; ++j) jobs.push_back(std::make_unique<Job>(w, j, region_bytes));
  // Each job prepares on its own thread (a port belongs to the thread that opened it);
  // the clock starts once every job is ready, just before the first submission.
  std::latch ready(w.jobs), go(1);
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

Status run_storage_benchmark(const StorageBenchmarkOptions& o, StorageBenchmarkReport* out) {
  for (const std::string& path : {o.target, o.compare})
    if (!path.empty())
      if (Status s = check_target(path, o.workload, o.force, 512); !s.ok()) return s;
  out->options = o;
  const std::pair<std::string, WorkloadResult*> runs[] = {{o.target, &out->target},
                                                          {o.compare, &out->compare}};
  for (const auto& [path, result] : runs) {
    if (path.empty()) continue;
    std::unique_ptr<Storage> storage;
    if (Status s = open_workload_storage(path, o.workload, &storage); !s.ok()) return s.in("bench");
    show_phase("bench " + path + " " + o.workload.rw, o.workload.runtime_seconds);
    const uint64_t region = workload_region(o.workload, storage->info().size_bytes);
    if (Status s = run_workload(storage_ports(*storage), o.workload, region, result); !s.ok())
      return s;
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

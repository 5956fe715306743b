#include "bench/io_port.h"

#include <vector>

#include "engine/io_ring.h"
#include "engine/ring_queue.h"

namespace ublkcrypt {

namespace {

class StoragePort final : public IoPort, private StorageCompletion {
 public:
  explicit StoragePort(unsigned depth) : ios_(depth) {
    for (StorageIo& io : ios_) io.completion = this;
  }
  ~StoragePort() override { queue_.reset(); }  // the queue goes before the ring it uses

  // A ring of its own, set up as the engine's (engine/ring_queue.cpp), so storage alone
  // and the engine submit and wait the same way.
  Status open(Storage& storage) {
    if (Status s = ring_.init(2 * unsigned(ios_.size()) + 8, 0, /*cooperative=*/true); !s.ok())
      return s;
    return storage.open_queue(unsigned(ios_.size()), &ring_, &queue_);
  }

  void submit(unsigned slot, BlockOp op, uint64_t offset, uint32_t length,
              uint8_t* buffer) override {
    StorageIo& io = ios_[slot];
    io.op = op == BlockOp::write   ? StorageOp::write
            : op == BlockOp::flush ? StorageOp::flush
                                   : StorageOp::read;
    io.offset = offset;
    io.length = length;
    io.buffer = buffer;
    queue_->submit(&io);
  }

  // Sends now, as fio does with iodepth_batch_submit: the job decides how many I/Os a
  // kick carries (Workload::iodepth_batch).
  void kick() override {
    queue_->kick();
    (void)ring_.submit(0);
  }

  // I/O done at once (a tmpfs copy) is reaped without waiting; otherwise wait on the ring.
  void wait(int timeout_ms, PortCompletion* sink) override {
    sink_ = sink;
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
    sink_->io_done(unsigned(io - ios_.data()), std::move(status));
  }

  IoRing ring_;
  std::vector<StorageIo> ios_;
  std::unique_ptr<StorageQueue> queue_;
  PortCompletion* sink_ = nullptr;
  unsigned reaped_ = 0;
};

// The engine on a RingQueue (engine/ring_queue.h): the queue and the wait_and_process loop
// the ublk queue thread runs, so what runs through it measures the path the device ships.
class EnginePort final : public IoPort, private BlockCompletion {
 public:
  explicit EnginePort(unsigned depth) : requests_(depth) {
    for (BlockRequest& r : requests_) r.completion = this;
  }
  Status open(Engine& engine) { return RingQueue::open(engine, unsigned(requests_.size()), &queue_); }

  void submit(unsigned slot, BlockOp op, uint64_t offset, uint32_t length,
              uint8_t* buffer) override {
    BlockRequest& r = requests_[slot];
    r.op = op;
    r.offset = offset;
    r.length = length;
    r.buffer = buffer;
    pending_.push_back(&r);
  }

  // One crypto batch for everything queued; its storage I/O goes with the next enter.
  void kick() override {
    if (pending_.empty()) return;
    queue_->submit(pending_);
    pending_.clear();
  }

  void wait(int timeout_ms, PortCompletion* sink) override {
    sink_ = sink;
    queue_->wait_and_process(timeout_ms);
  }

 private:
  void block_done(BlockRequest* r, Status status) override {
    sink_->io_done(unsigned(r - requests_.data()), std::move(status));
  }

  std::vector<BlockRequest> requests_;
  std::vector<BlockRequest*> pending_;
  std::unique_ptr<RingQueue> queue_;
  PortCompletion* sink_ = nullptr;
};

// Ports of type P on `target`, which must outlive them.
template <typename P, typename Target>
PortFactory ports_on(Target& target) {
  return [&target](unsigned depth, std::unique_ptr<IoPort>* out) {
    auto port = std::make_unique<P>(depth);
    if (Status s = port->open(target); !s.ok()) return s;
    *out = std::move(port);
    return Status::Ok();
  };
}

}  // namespace

PortFactory storage_ports(Storage& storage) { return ports_on<StoragePort>(storage); }
PortFactory engine_ports(Engine& engine) { return ports_on<EnginePort>(engine); }

}  // namespace ublkcrypt

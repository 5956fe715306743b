#include "bench/io_port.h"

#include <vector>

#include "engine/io_ring.h"
#include "engine/ring_queue.h"

namespace ublkcrypt {

namespace {

class StoragePort final : public IoPort, private StorageCompletion {
 public:
  ~StoragePort() override { queue_.reset(); }  // the queue goes before the ring it uses

  // A ring of its own, set up as the engine's (engine/ring_queue.cpp), so storage alone
  // and the engine submit and wait the same way.
  Status open(Storage& storage, unsigned depth) {
    if (Status s = ring_.init(2 * depth + 8, 0, /*cooperative=*/true); !s.ok()) return s;
    ios_.resize(depth);
    for (StorageIo& io : ios_) io.completion = this;
    return storage.open_queue(depth, &ring_, &queue_);
  }

  void submit(unsigned slot, bool write, uint64_t offset, uint32_t length,
              uint8_t* buffer) override {
    StorageIo& io = ios_[slot];
    io.op = write ? StorageOp::write : StorageOp::read;
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

class EnginePort final : public IoPort, private BlockCompletion {
 public:
  Status open(Engine& engine, unsigned depth) {
    requests_.resize(depth);
    for (BlockRequest& r : requests_) r.completion = this;
    return RingQueue::open(engine, depth, &queue_);
  }

  void submit(unsigned slot, bool write, uint64_t offset, uint32_t length,
              uint8_t* buffer) override {
    BlockRequest& r = requests_[slot];
    r.op = write ? BlockOp::write : BlockOp::read;
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

}  // namespace

PortFactory storage_ports(Storage& storage) {
  return [&storage](unsigned depth, std::unique_ptr<IoPort>* out) {
    auto port = std::make_unique<StoragePort>();
    if (Status s = port->open(storage, depth); !s.ok()) return s;
    *out = std::move(port);
    return Status::Ok();
  };
}

PortFactory engine_ports(Engine& engine) {
  return [&engine](unsigned depth, std::unique_ptr<IoPort>* out) {
    auto port = std::make_unique<EnginePort>();
    if (Status s = port->open(engine, depth); !s.ok()) return s;
    *out = std::move(port);
    return Status::Ok();
  };
}

}  // namespace ublkcrypt

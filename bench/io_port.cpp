#include "bench/io_port.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

namespace ublkcrypt {

namespace {

// Sleeps on `fd` until it is readable or `timeout_ms` passes; true if it was readable.
bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

class StoragePort final : public IoPort, private StorageCompletion {
 public:
  ~StoragePort() override {
    queue_.reset();  // the ring goes before the eventfd it signals
    if (event_fd_ >= 0) ::close(event_fd_);
  }

  Status open(Storage& storage, unsigned depth) {
    event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) return errno_status("bench: eventfd", errno);
    ios_.resize(depth);
    for (StorageIo& io : ios_) io.completion = this;
    return storage.open_queue(depth, event_fd_, &queue_);
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

  void kick() override { queue_->kick(); }

  void wait(int timeout_ms, PortCompletion* sink) override {
    if (wait_readable(event_fd_, timeout_ms)) {
      eventfd_t ignored;
      (void)eventfd_read(event_fd_, &ignored);
    }
    sink_ = sink;
    queue_->reap();
  }

 private:
  void storage_done(StorageIo* io, Status status, uint32_t bytes) override {
    if (status.ok() && bytes != io->length)
      status = Status(Errc::io_error, "bench: short transfer (past the end of the target?)");
    sink_->io_done(unsigned(io - ios_.data()), std::move(status));
  }

  int event_fd_ = -1;
  std::vector<StorageIo> ios_;
  std::unique_ptr<StorageQueue> queue_;
  PortCompletion* sink_ = nullptr;
};

class EnginePort final : public IoPort, private BlockCompletion {
 public:
  Status open(Engine& engine, unsigned depth) {
    requests_.resize(depth);
    for (BlockRequest& r : requests_) r.completion = this;
    return engine.open_queue(depth, &queue_);
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

  // One crypto batch and one storage system call for everything queued.
  void kick() override {
    if (pending_.empty()) return;
    queue_->submit(pending_);
    pending_.clear();
  }

  void wait(int timeout_ms, PortCompletion* sink) override {
    sink_ = sink;
    if (wait_readable(queue_->event_fd(), timeout_ms)) queue_->process();
  }

 private:
  void block_done(BlockRequest* r, Status status) override {
    sink_->io_done(unsigned(r - requests_.data()), std::move(status));
  }

  std::vector<BlockRequest> requests_;
  std::vector<BlockRequest*> pending_;
  std::unique_ptr<EngineQueue> queue_;
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

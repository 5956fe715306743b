#include "blockdev/engine_target.h"

#include <cerrno>
#include <vector>

namespace ublkcrypt {
namespace {

int errno_of(const Status& s) {
  switch (s.code()) {
    case Errc::ok: return 0;
    case Errc::invalid_argument: return EINVAL;
    case Errc::unsupported: return EOPNOTSUPP;
    case Errc::permission: return EPERM;
    case Errc::no_memory: return ENOMEM;
    case Errc::not_found:
    case Errc::device_gone: return ENODEV;
    case Errc::busy: return EBUSY;
    case Errc::timeout: return ETIMEDOUT;
    case Errc::corrupt:
    case Errc::io_error: return EIO;
  }
  return EIO;
}

class EngineTarget final : public QueueTarget, private BlockCompletion {
 public:
  EngineTarget(std::unique_ptr<EngineQueue> queue, unsigned depth, QueueIoDone* done,
               bool read_only)
      : queue_(std::move(queue)), requests_(depth + 1), done_(done), read_only_(read_only) {}

  void queue_io(unsigned tag, const BlockRequest& io) override {
    BlockRequest& r = requests_[tag];
    r.op = io.op;
    r.fua = io.fua;
    r.offset = io.offset;
    r.length = io.length;
    r.buffer = io.buffer;
    r.completion = this;
    queue_->submit(&r);
  }

  bool help() override { return queue_->help(); }
  void process() override { queue_->process(); }
  unsigned in_flight() const override { return queue_->in_flight(); }

  Status drain() override {
    if (read_only_) return Status::Ok();
    // One extra request beyond the tags: a final flush of everything this queue wrote.
    BlockRequest& r = requests_.back();
    r.op = BlockOp::flush;
    r.fua = false;
    r.offset = 0;
    r.length = 0;
    r.buffer = nullptr;
    r.completion = this;
    drain_done_ = false;
    queue_->submit(&r);
    while (!drain_done_) queue_->wait_and_process();
    return drain_status_;
  }

 private:
  void block_done(BlockRequest* request, Status status) override {
    const auto tag = static_cast<unsigned>(request - requests_.data());
    if (tag == requests_.size() - 1) {
      drain_status_ = status;
      drain_done_ = true;
      return;
    }
    int result = 0;
    if (!status.ok()) {
      result = -errno_of(status);
    } else if (request->op == BlockOp::read || request->op == BlockOp::write) {
      result = static_cast<int>(request->length);
    }
    done_->io_done(tag, result);
  }

  std::unique_ptr<EngineQueue> queue_;
  std::vector<BlockRequest> requests_;  // by tag; the last one is drain()'s flush
  QueueIoDone* done_;
  bool read_only_;
  bool drain_done_ = false;
  Status drain_status_;
};

}  // namespace

QueueTargetFactory engine_target_factory(Engine* engine) {
  return [engine](unsigned /*queue_id*/, unsigned depth, IoRing* ring, QueueIoDone* done,
                  std::unique_ptr<QueueTarget>* out) -> Status {
    std::unique_ptr<EngineQueue> queue;
    // The extra slot is drain()'s flush. Storage I/O shares the queue's ring: one
    // io_uring_enter sends it with the ublk commits, no eventfd or poll per completion.
    Status s = engine->open_queue(depth + 1, ring, &queue);
    if (!s.ok()) return s;
    *out = std::make_unique<EngineTarget>(std::move(queue), depth, done,
                                          engine->config().read_only);
    return Status::Ok();
  };
}

}  // namespace ublkcrypt

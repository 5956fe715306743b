#include "engine/ring_queue.h"

namespace ublkcrypt {

Status RingQueue::open(Engine& engine, unsigned depth, std::unique_ptr<RingQueue>* out) {
  std::unique_ptr<RingQueue> q(new RingQueue);
  // Sized and flagged as the ublk queue thread's ring (blockdev/queue_thread.cpp): room
  // for a pass of storage I/O and the eventfd read, completions posted when we wait.
  if (Status s = q->ring_.init(2 * depth + 8, 0, /*cooperative=*/true); !s.ok()) return s;
  if (Status s = engine.open_queue(depth, &q->ring_, &q->queue_); !s.ok()) return s;
  *out = std::move(q);
  return Status::Ok();
}

RingQueue::~RingQueue() { queue_.reset(); }

}  // namespace ublkcrypt

// QueueTarget: what a queue thread hands requests to, in the spirit of ublksrv's target
// ops (queue_io / tgt_io_done). The queue loop knows nothing of what a target does; a
// target knows nothing of io_uring command plumbing. One target per queue thread; every
// call comes from that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "base/status.h"
#include "engine/engine.h"
#include "engine/io_ring.h"

namespace ublkcrypt {

// The queue side: a target reports each finished request here, on the queue thread.
class QueueIoDone {
 public:
  // `result`: bytes transferred for reads/writes, 0 for other operations, or -errno.
  virtual void io_done(unsigned tag, int result) = 0;

 protected:
  ~QueueIoDone() = default;
};

class QueueTarget {
 public:
  virtual ~QueueTarget() = default;

  // Starts request `tag`, which the queue decoded from its ublk descriptor into `io`'s op,
  // fua, offset and length (in bytes). `io.buffer` (max io size, 4096-aligned, owned by
  // the queue) holds a write's data (copy mode: the kernel copied it in) and receives a
  // read's data. The target ends the request with QueueIoDone::io_done(tag, ...), later,
  // in process(). The target hears its own wakeups on the queue's ring.
  virtual void queue_io(unsigned tag, const BlockRequest& io) = 0;

  // Runs some of the target's crypto on the queue thread instead of sleeping; false at once
  // if there is none (EngineQueue::help).
  virtual bool help() = 0;
  // Runs ready completions. Never blocks. The queue calls it after every pass over the
  // ring's completions.
  virtual void process() = 0;
  virtual unsigned in_flight() const = 0;
  // The queue is stopping and nothing is in flight: make accepted writes durable.
  virtual Status drain() = 0;
};

// Builds a queue's target on the queue's own thread (engine queues are thread-bound).
// `ring` is the queue's io_uring, which the target may share for its own I/O (see
// engine/io_ring.h); it outlives the target.
using QueueTargetFactory = std::function<Status(unsigned queue_id, unsigned depth,
                                                IoRing* ring, QueueIoDone* done,
                                                std::unique_ptr<QueueTarget>* out)>;

}  // namespace ublkcrypt

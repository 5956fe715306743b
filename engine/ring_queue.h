// RingQueue: an EngineQueue on an io_uring of its own, for the callers that have no ring
// to share (tests, benchmarks, tools). It is the queue the ublk queue thread runs
// (blockdev/queue_thread.h), on a ring set up the same way, driven by the same
// wait_and_process() loop: whatever runs through it measures the path the device ships.
// All calls come from the thread that opened it.
#pragma once

#include <memory>
#include <span>

#include "base/status.h"
#include "engine/engine.h"
#include "engine/io_ring.h"

namespace ublkcrypt {

class RingQueue {
 public:
  // A queue for `depth` requests in flight on a new ring.
  static Status open(Engine& engine, unsigned depth, std::unique_ptr<RingQueue>* out);
  ~RingQueue();  // waits for requests in flight, then closes the queue before its ring
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;

  void submit(BlockRequest* request) { queue_->submit(request); }
  void submit(std::span<BlockRequest* const> requests) { queue_->submit(requests); }
  void process() { queue_->process(); }
  void wait_and_process(int timeout_ms = -1) { queue_->wait_and_process(timeout_ms); }
  // Runs until nothing is in flight.
  void drain() {
    while (queue_->in_flight() > 0) queue_->wait_and_process();
  }
  unsigned in_flight() const { return queue_->in_flight(); }
  // As IoRing::add_fixed_region: the caller's request buffers, before the first submit.
  void add_fixed_region(uint8_t* base, size_t stride, unsigned count) {
    ring_.add_fixed_region(base, stride, count);
  }

 private:
  RingQueue() = default;
  IoRing ring_;
  std::unique_ptr<EngineQueue> queue_;
};

}  // namespace ublkcrypt

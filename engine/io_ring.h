// IoRing: one thread's io_uring, shared by everything that thread drives — a ublk queue's
// commands and the engine's storage I/O — so that one io_uring_enter sends both, and one
// wait covers every completion. Without it each engine queue had a ring of its own, a
// system call per storage submit, an eventfd signalled per completion and a poll on the
// other ring to hear it (tests/vm/bench-datapath.sh measured the difference).
//
// Every SQE a user puts on the ring carries an IoRing::Completion* as user_data; dispatch()
// runs its ring_done() on the ring's thread. All calls come from the thread that created
// the ring (it may be set up IORING_SETUP_SINGLE_ISSUER).
#pragma once

#include <liburing.h>

#include "base/status.h"

namespace ublkcrypt {

class IoRing {
 public:
  class Completion {
   public:
    virtual void ring_done(const io_uring_cqe& cqe) = 0;

   protected:
    ~Completion() = default;
  };

  IoRing() = default;
  ~IoRing();
  IoRing(const IoRing&) = delete;
  IoRing& operator=(const IoRing&) = delete;

  // `entries` SQEs; `flags` as io_uring_queue_init's. With `cooperative`, also asks for
  // COOP_TASKRUN, SINGLE_ISSUER and DEFER_TASKRUN (completions posted when this thread
  // waits, not by interrupting it), falling back to `flags` alone on kernels without them.
  Status init(unsigned entries, unsigned flags, bool cooperative);

  io_uring* raw() { return &ring_; }
  // A free SQE, user_data set to `completion`; submits what is queued when the ring is full.
  io_uring_sqe* get_sqe(Completion* completion);
  // Sends what is queued; waits for `wait` completions (0: none), for at most `timeout_ms`
  // (-1: no limit). Returns as io_uring_submit_and_wait (-ETIME when the time ran out;
  // -EINTR and -EBUSY are the caller's to retry).
  int submit(unsigned wait, int timeout_ms = -1);
  // Runs ring_done for every completion ready now; returns how many ran. A ring_done may
  // queue SQEs (sent at the next submit).
  unsigned dispatch();

  // Exits the ring now (cancels what is still with the kernel); idempotent.
  void close();

 private:
  io_uring ring_{};
  bool ready_ = false;
};

}  // namespace ublkcrypt

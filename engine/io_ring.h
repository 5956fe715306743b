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

#include <cstddef>
#include <cstdint>
#include <vector>

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

  // Declares `count` buffers of `stride` bytes from `base` as ones this ring's reads and
  // writes use again and again (a ublk queue's request buffers, the engine's bounce
  // buffers). Each is registered with the kernel on its first use (fixed_buffer), so a
  // read or write into it skips pinning its pages per request; a registration covers only
  // as much of the buffer as I/O has used, so memory is still given as it is used.
  // Regions are declared before the first fixed_buffer call; a later one is not
  // registered.
  void add_fixed_region(uint8_t* base, size_t stride, unsigned count);
  // The registered-buffer index to pass to a READ_FIXED or WRITE_FIXED of [p, p + length),
  // or -1 when no declared buffer holds it all or the kernel refused the registration (then
  // a plain read or write serves).
  int fixed_buffer(const uint8_t* p, size_t length);

  // Exits the ring now (cancels what is still with the kernel); idempotent.
  void close();

 private:
  struct FixedRegion {
    uint8_t* base;
    size_t stride;
    unsigned count;
    unsigned first_index;  // of its first buffer in the ring's table
  };
  // Registers `buffer` of `region` (again) so that it covers its first `end` bytes.
  bool register_buffer(const FixedRegion& region, unsigned buffer, size_t end);

  io_uring ring_{};
  bool ready_ = false;
  std::vector<FixedRegion> fixed_regions_;
  unsigned fixed_slots_ = 0;  // the table's size, once made
  bool fixed_table_made_ = false;
  bool fixed_refused_ = false;  // the kernel refused: plain reads and writes from then on
  std::vector<size_t> fixed_registered_;  // per buffer: bytes registered from its start
};

}  // namespace ublkcrypt

#include "engine/io_ring.h"

#include <cerrno>

namespace ublkcrypt {

IoRing::~IoRing() { close(); }

void IoRing::close() {
  if (ready_) io_uring_queue_exit(&ring_);
  ready_ = false;
}

Status IoRing::init(unsigned entries, unsigned flags, bool cooperative) {
  int r = -EINVAL;
  if (cooperative) {
    // Kernels before 6.1 refuse DEFER_TASKRUN with EINVAL; the plain ring still works.
    r = io_uring_queue_init(entries, &ring_,
                            flags | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                                IORING_SETUP_DEFER_TASKRUN);
  }
  if (r == -EINVAL) r = io_uring_queue_init(entries, &ring_, flags);
  if (r < 0) return errno_status("io_uring_queue_init", -r);
  ready_ = true;
  return Status::Ok();
}

io_uring_sqe* IoRing::get_sqe(Completion* completion) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {  // full: send what is queued to make room
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  io_uring_sqe_set_data(sqe, completion);
  return sqe;
}

int IoRing::submit(unsigned wait, int timeout_ms) {
  if (wait == 0) return io_uring_submit_and_get_events(&ring_);
  if (timeout_ms < 0) return io_uring_submit_and_wait(&ring_, wait);
  // The kernels we run on have IORING_FEAT_EXT_ARG: the timeout travels with the enter
  // call, and no timeout SQE (whose CQE dispatch() could not route) is queued.
  __kernel_timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000LL};
  io_uring_cqe* cqe = nullptr;
  return io_uring_submit_and_wait_timeout(&ring_, &cqe, wait, &ts, nullptr);
}

unsigned IoRing::dispatch() {
  // Consumed one at a time: a ring_done may submit (get_sqe on a full ring), and the CQE
  // must not be overwritten under it.
  unsigned ran = 0;
  for (;;) {
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(&ring_, &cqe) != 0 || cqe == nullptr) break;
    const io_uring_cqe copy = *cqe;
    io_uring_cqe_seen(&ring_, cqe);
    static_cast<Completion*>(io_uring_cqe_get_data(&copy))->ring_done(copy);
    ++ran;
  }
  return ran;
}

}  // namespace ublkcrypt

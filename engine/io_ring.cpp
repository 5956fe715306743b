#include "engine/io_ring.h"

#include <cerrno>
#include <chrono>

namespace ublkcrypt {
namespace {

// A spin-wait hint: the sibling hardware thread (or, under TCG, the host) gets the core.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

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
                                IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
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

int IoRing::submit(unsigned wait) {
  return wait == 0 ? io_uring_submit_and_get_events(&ring_)
                   : io_uring_submit_and_wait(&ring_, wait);
}

bool IoRing::spin_for_work(unsigned us) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  for (unsigned i = 1;; ++i) {
    if (io_uring_cq_ready(&ring_) != 0 ||
        (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0)
      return true;
    cpu_relax();
    // The clock (vDSO) every 16 looks: cheap beside the pause, fine-grained enough.
    if (i % 16 == 0 && std::chrono::steady_clock::now() >= deadline) return false;
  }
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

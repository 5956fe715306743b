#include "engine/io_ring.h"

#include <algorithm>
#include <bit>
#include <cerrno>

namespace ublkcrypt {

IoRing::~IoRing() { close(); }

void IoRing::close() {
  if (ready_) io_uring_queue_exit(&ring_);  // also drops the registered buffers' pins
  ready_ = false;
}

void IoRing::add_fixed_region(uint8_t* base, size_t stride, unsigned count) {
  if (fixed_table_made_) return;
  fixed_regions_.push_back({base, stride, count, fixed_slots_});
  fixed_slots_ += count;
}

int IoRing::fixed_buffer(const uint8_t* p, size_t length) {
  if (fixed_refused_) return -1;
  for (const FixedRegion& region : fixed_regions_) {
    if (p < region.base || p >= region.base + region.stride * region.count) continue;
    const auto buffer = static_cast<unsigned>(size_t(p - region.base) / region.stride);
    const size_t end = size_t(p - region.base) - size_t(buffer) * region.stride + length;
    if (end > region.stride) return -1;
    const unsigned index = region.first_index + buffer;
    const bool covered = index < fixed_registered_.size() && fixed_registered_[index] >= end;
    if (!covered && !register_buffer(region, buffer, end)) return -1;
    return int(index);
  }
  return -1;
}

bool IoRing::register_buffer(const FixedRegion& region, unsigned buffer, size_t end) {
  if (!fixed_table_made_) {
    // One table for every declared buffer, empty until each is first used.
    fixed_table_made_ = true;
    if (io_uring_register_buffers_sparse(&ring_, fixed_slots_) < 0) {
      fixed_refused_ = true;
      return false;
    }
    fixed_registered_.assign(fixed_slots_, 0);
  }
  // Registering pins, and so gives memory to, every page it covers: only as far as the
  // largest I/O so far reaches (rounded up to a power of two), as touching it would. A
  // workload of 4 KiB requests keeps 4 KiB of each 512 KiB buffer.
  const size_t bytes = std::min(region.stride, std::max<size_t>(4096, std::bit_ceil(end)));
  const unsigned index = region.first_index + buffer;
  iovec iov{region.base + size_t(buffer) * region.stride, bytes};
  const __u64 tag = 0;
  // An I/O in flight on the buffer's previous registration keeps that one alive.
  if (io_uring_register_buffers_update_tag(&ring_, index, &iov, &tag, 1) != 1) {
    // Out of lockable memory, say: this buffer (and every other) goes unregistered.
    fixed_refused_ = true;
    return false;
  }
  fixed_registered_[index] = bytes;
  return true;
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

// RingEventRead: a read of an eventfd that stays armed on a thread's IoRing, so that
// another thread's signal (a crypto provider's completion, librbd's callback) wakes the
// ring's owner with no poll of its own and no thread per wakeup. The eventfd is blocking,
// so the read waits in the kernel's poll, never in an io-wq worker; its completion also
// empties the counter, so the owner makes no eventfd_read call. The owner reaps what the
// signal announced after dispatching the ring.
//
// Heap-held: if the read cannot be cancelled its buffer must outlive its user (close()).
#pragma once

#include <cerrno>
#include <memory>

#include "engine/io_ring.h"

namespace ublkcrypt {

struct RingEventRead final : IoRing::Completion {
  RingEventRead(IoRing* r, int f) : ring(r), fd(f) {}
  void arm() {
    io_uring_prep_read(ring->get_sqe(this), fd, &value, sizeof(value), 0);
    armed = true;
  }
  void ring_done(const io_uring_cqe& cqe) override {
    armed = false;
    if (!closing && cqe.res != -ECANCELED) arm();
  }

  // Takes the read off the ring before its buffer and descriptor go. If the kernel does
  // not let go of it, the object is leaked rather than freed under the kernel's write.
  static void close(std::unique_ptr<RingEventRead> read) {
    struct Ignored final : IoRing::Completion {
      void ring_done(const io_uring_cqe&) override {}
    };
    static Ignored cancel_done;
    read->closing = true;
    if (read->armed) io_uring_prep_cancel(read->ring->get_sqe(&cancel_done), read.get(), 0);
    for (int tries = 0; read->armed && tries < 100; ++tries) {
      const int r = read->ring->submit(1);
      if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) break;
      read->ring->dispatch();
    }
    if (read->armed) (void)read.release();  // the kernel may still write to it
  }

  IoRing* ring;
  int fd;
  uint64_t value = 0;
  bool armed = false;
  bool closing = false;
};

}  // namespace ublkcrypt

// EngineQueue: the per-thread request pipeline.
//
//   read:          storage read -> decrypt in place -> complete
//   write:         encrypt in place -> storage write (FUA as RWF_DSYNC) -> complete
//   write_zeroes:  per chunk: zeros encrypted in a scratch buffer -> storage write
//                  (zeros on disk would decrypt to garbage)
//   discard:       punch a hole / BLKDISCARD -> complete
//   flush:         wait for the writes accepted before it -> fdatasync -> complete
//
// Storage completions arrive on this thread (reap); crypto completions arrive on provider
// threads and come over through the CompletionInbox. Both signal the same eventfd, so one
// fd wakes the queue. On a shared ring (the ublk queue thread's) storage I/O rides the
// owner's ring instead, and only the inbox uses the eventfd, read through that ring. A
// provider that completes a run inside Session::submit (cipher_null in place) calls back on
// this thread: those runs advance right after the submit, with no eventfd write and no
// wakeup. Work started while handling completions is batched: one Session::submit and one
// io_uring_submit (none on a shared ring: its owner submits) per process().
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <vector>

#include "engine/completion_inbox.h"
#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/flush_tracker.h"
#include "engine/request_state.h"

namespace ublkcrypt {

namespace {

using Internal = BlockRequest::Internal;

// write_zeroes encrypts zeros in buffers of this size; a few per queue, shared in turn.
constexpr uint32_t kScratchBytes = 128 * 1024;
constexpr unsigned kScratchBuffers = 4;

bool is_write(BlockOp op) {
  return op == BlockOp::write || op == BlockOp::write_zeroes || op == BlockOp::discard;
}

}  // namespace

// The queue whose dispatch() is inside Session::submit on this thread, if any: a crypto
// completion arriving while it is set came inline, on the queue's own thread.
// (Untyped: Impl is private to EngineQueue.)
thread_local const void* tls_dispatching = nullptr;

namespace {

// On a shared ring: a read of the queue's eventfd stays armed there, and its completion is
// the queue's wakeup (the ring's owner calls process() after dispatching it). The eventfd
// is blocking, so the read waits in the kernel's poll, never in a worker; it also empties
// the counter, so process() makes no eventfd_read call. Heap-held: if the read cannot be
// cancelled its buffer must outlive the queue.
struct EventRead final : IoRing::Completion {
  EventRead(IoRing* r, int f) : ring(r), fd(f) {}
  void arm() {
    io_uring_prep_read(ring->get_sqe(this), fd, &value, sizeof(value), 0);
    armed = true;
  }
  void ring_done(const io_uring_cqe& cqe) override {
    armed = false;
    if (!closing && cqe.res != -ECANCELED) arm();
  }
  IoRing* ring;
  int fd;
  uint64_t value = 0;
  bool armed = false;
  bool closing = false;
};

struct IgnoredCompletion final : IoRing::Completion {
  void ring_done(const io_uring_cqe&) override {}
};

}  // namespace

struct EngineQueue::Impl final : CryptoCompletion, StorageCompletion {
  Impl(Engine::Impl* owner, int fd)
      : engine(owner), session(owner->session.get()), event_fd(fd), inbox(fd) {}

  Engine::Impl* engine;
  Session* session;
  std::unique_ptr<StorageQueue> storage;
  int event_fd;  // owned; the inbox signals it, and storage completions unless on a ring
  IoRing* ring = nullptr;                 // the thread's shared ring, if any
  std::unique_ptr<EventRead> event_read;  // on the shared ring
  CompletionInbox inbox;
  FlushTracker flushes;
  std::vector<CryptoRequest*> crypto_batch;  // started at the next dispatch()
  bool storage_queued = false;
  bool in_process = false;
  unsigned in_flight = 0;
  unsigned completed = 0;  // steps finished, to tell whether a round of process() moved
  // Crypto runs the provider completed inside our own Session::submit, oldest first.
  Internal* inline_done = nullptr;
  Internal** inline_done_tail = &inline_done;

  std::vector<uint8_t*> free_scratch;
  std::vector<uint8_t*> all_scratch;
  Internal* scratch_waiting = nullptr;  // FIFO of write_zeroes waiting for a buffer
  Internal** scratch_waiting_tail = &scratch_waiting;

  ~Impl() {
    for (uint8_t* buffer : all_scratch) std::free(buffer);
    if (event_fd >= 0) ::close(event_fd);
  }

  const VolumeGeometry& volume() const { return engine->geometry; }
  uint64_t backing_offset(uint64_t offset) const { return engine->config.data_offset + offset; }

  void start(BlockRequest* request);
  void dispatch();
  void advance_inline_done();
  void process();

  void start_crypto(Internal* in, Direction direction, uint8_t* buffer, uint64_t offset,
                    uint32_t length);
  void start_storage(Internal* in, StorageOp op, uint8_t* buffer, uint64_t offset,
                     uint32_t length, bool fua);
  void next_zero_chunk(Internal* in);
  void start_flush(Internal* in) { start_storage(in, StorageOp::flush, nullptr, 0, 0, false); }
  void crypto_finished(Internal* in);
  void finish(Internal* in, Status status);

  void crypto_done(CryptoRequest* request, Status status) override;
  void storage_done(StorageIo* io, Status status, uint32_t bytes) override;
};

// ---- Starting requests ---------------------------------------------------------------------

void EngineQueue::Impl::start(BlockRequest* request) {
  Internal* in = new (request->internal) Internal;
  in->request = request;
  in->crypto.owner = in;
  in->crypto.completion = this;
  in->io.owner = in;
  in->io.completion = this;
  ++in_flight;

  if (Status s = validate_request(volume(), *request); !s.ok()) {
    in->stage = Internal::Stage::rejected;
    in->status = std::move(s);
    inbox.push(in);  // completes inside the next process(), never inside submit()
    return;
  }
  if (is_write(request->op)) flushes.write_accepted(in);
  switch (request->op) {
    case BlockOp::read:
      start_storage(in, StorageOp::read, request->buffer, backing_offset(request->offset),
                    request->length, false);
      break;
    case BlockOp::write:
      start_crypto(in, Direction::encrypt, request->buffer, request->offset, request->length);
      break;
    case BlockOp::discard:
      start_storage(in, StorageOp::discard, nullptr, backing_offset(request->offset),
                    request->length, false);
      break;
    case BlockOp::write_zeroes:
      if (free_scratch.empty()) {
        in->stage = Internal::Stage::waiting_scratch;
        *scratch_waiting_tail = in;
        scratch_waiting_tail = &in->next;
        break;
      }
      in->scratch = free_scratch.back();
      free_scratch.pop_back();
      next_zero_chunk(in);
      break;
    case BlockOp::flush:
      if (volume().read_only) {  // nothing was written; nothing to make durable
        in->stage = Internal::Stage::rejected;
        inbox.push(in);
      } else if (flushes.flush_accepted(in)) {
        start_flush(in);
      }
      break;
  }
}

void EngineQueue::Impl::start_crypto(Internal* in, Direction direction, uint8_t* buffer,
                                     uint64_t offset, uint32_t length) {
  const uint32_t sector_size = volume().sector_size;
  in->stage = Internal::Stage::crypting;
  in->crypto.run = SectorRun{direction, buffer, buffer, offset / sector_size,
                             length / sector_size};
  crypto_batch.push_back(&in->crypto);
}

void EngineQueue::Impl::start_storage(Internal* in, StorageOp op, uint8_t* buffer,
                                      uint64_t offset, uint32_t length, bool fua) {
  in->stage = Internal::Stage::storage;
  in->io.op = op;
  in->io.fua = fua;
  in->io.offset = offset;
  in->io.length = length;
  in->io.buffer = buffer;
  storage->submit(&in->io);
  storage_queued = true;
}

// write_zeroes, one chunk: zeros, encrypted for their sectors, then written.
void EngineQueue::Impl::next_zero_chunk(Internal* in) {
  const BlockRequest& request = *in->request;
  const uint32_t chunk = std::min(kScratchBytes, request.length - in->zeroed);
  std::memset(in->scratch, 0, chunk);
  start_crypto(in, Direction::encrypt, in->scratch, request.offset + in->zeroed, chunk);
}

// Sends what the last steps started: one crypto batch, one storage system call.
void EngineQueue::Impl::dispatch() {
  if (!crypto_batch.empty()) {
    // A provider completing inline only queues to inline_done, so the batch cannot grow
    // while it is being submitted. Saved and restored: queues may nest on one thread.
    const void* outer = tls_dispatching;
    tls_dispatching = this;
    session->submit(crypto_batch);
    tls_dispatching = outer;
    crypto_batch.clear();
    // Their next step (storage I/O) joins this dispatch's system call. Crypto never
    // follows crypto, so the batch stays empty.
    advance_inline_done();
  }
  if (storage_queued) {
    storage_queued = false;
    storage->kick();
  }
  // Runs left over would complete a request: outside process() that must wait for the
  // next process(), which the eventfd then announces.
  if (inline_done != nullptr) eventfd_write(event_fd, 1);
}

// Inside process() every inline completion advances here. Inside submit() only the ones
// whose next step is storage I/O (a write's, successfully encrypted): completions never
// run inside submit().
void EngineQueue::Impl::advance_inline_done() {
  Internal* in = inline_done;
  inline_done = nullptr;
  inline_done_tail = &inline_done;
  while (in != nullptr) {
    Internal* next = in->next;
    const BlockOp op = in->request->op;
    if (in_process ||
        (in->status.ok() && (op == BlockOp::write || op == BlockOp::write_zeroes))) {
      crypto_finished(in);
      ++completed;
    } else {
      in->next = nullptr;
      *inline_done_tail = in;
      inline_done_tail = &in->next;
    }
    in = next;
  }
}

// ---- Advancing requests --------------------------------------------------------------------

void EngineQueue::Impl::process() {
  // Drain the eventfd before looking at the sources, so a signal racing with this pass
  // stays pending for the next one. (On a shared ring its read already did.)
  if (ring == nullptr) {
    eventfd_t ignored;
    (void)eventfd_read(event_fd, &ignored);
  }
  // While completions keep arriving (tmpfs I/O completes inside the submit call; the
  // provider finishes runs while we work), go round again rather than through poll():
  // a sleep and a wakeup cost more than a look at two queues. Bounded, so a busy queue
  // still returns to its caller's loop.
  int round = 0;
  for (; round < 8; ++round) {
    in_process = true;
    const unsigned before = completed;
    storage->reap();
    advance_inline_done();  // left over from a submit() (they would have completed there)
    for (Internal* in = inbox.take_all(); in != nullptr;) {
      Internal* next = in->next;
      if (in->stage == Internal::Stage::rejected) finish(in, std::move(in->status));
      else crypto_finished(in);
      in = next;
      ++completed;
    }
    const bool sent = !crypto_batch.empty() || storage_queued;
    dispatch();  // still in_process: the runs it completes inline advance inside it
    in_process = false;
    if (!sent && completed == before) break;
  }
  // Still moving at the bound: on a shared ring nothing else would call us back for work
  // already reaped into the storage queue, so wake ourselves.
  if (round == 8 && ring != nullptr) eventfd_write(event_fd, 1);
}

void EngineQueue::Impl::crypto_done(CryptoRequest* request, Status status) {
  Internal* in = static_cast<Internal::Crypto*>(request)->owner;
  in->status = std::move(status);
  if (tls_dispatching == this) {  // inline, on this thread: no eventfd, no wakeup
    in->next = nullptr;
    *inline_done_tail = in;
    inline_done_tail = &in->next;
    return;
  }
  inbox.push(in);
}

void EngineQueue::Impl::crypto_finished(Internal* in) {
  if (!in->status.ok()) {
    finish(in, std::move(in->status));
    return;
  }
  const BlockRequest& request = *in->request;
  switch (request.op) {
    case BlockOp::read:
      finish(in, Status::Ok());
      break;
    case BlockOp::write:
      start_storage(in, StorageOp::write, request.buffer, backing_offset(request.offset),
                    request.length, request.fua);
      break;
    case BlockOp::write_zeroes:
      start_storage(in, StorageOp::write, in->scratch,
                    backing_offset(request.offset + in->zeroed), in->crypto.run.sector_count *
                    volume().sector_size, request.fua);
      break;
    default:
      finish(in, Status(Errc::invalid_argument, "engine: crypto step for a dataless request"));
  }
}

void EngineQueue::Impl::storage_done(StorageIo* io, Status status, uint32_t bytes) {
  Internal* in = static_cast<Internal::Io*>(io)->owner;
  ++completed;
  const BlockRequest& request = *in->request;
  if (!status.ok()) {
    finish(in, std::move(status));
    return;
  }
  switch (request.op) {
    case BlockOp::read:
      if (bytes < io->length) {
        finish(in, Status(Errc::io_error,
                          fmt::format("read {} at offset {}: short read ({} of {} bytes; "
                                      "backing truncated?)",
                                      volume().name, io->offset, bytes, io->length)));
        return;
      }
      start_crypto(in, Direction::decrypt, request.buffer, request.offset, request.length);
      break;
    case BlockOp::write_zeroes:
      in->zeroed += io->length;
      if (in->zeroed < request.length) next_zero_chunk(in);
      else finish(in, Status::Ok());
      break;
    default:
      finish(in, Status::Ok());
  }
}

void EngineQueue::Impl::finish(Internal* in, Status status) {
  BlockRequest* request = in->request;
  if (in->scratch != nullptr) {  // hand the buffer to the next write_zeroes in line
    uint8_t* scratch = in->scratch;
    in->scratch = nullptr;
    if (Internal* waiter = scratch_waiting) {
      scratch_waiting = waiter->next;
      if (scratch_waiting == nullptr) scratch_waiting_tail = &scratch_waiting;
      waiter->scratch = scratch;
      next_zero_chunk(waiter);
    } else {
      free_scratch.push_back(scratch);
    }
  }
  // Rejected requests were never counted as writes.
  if (is_write(request->op) && in->stage != Internal::Stage::rejected)
    flushes.write_finished(in, [this](Internal* flush) { start_flush(flush); });
  in->~Internal();
  --in_flight;
  // Last: the caller may reuse the request (and its internal state) from the callback.
  request->completion->block_done(request, std::move(status));
}

// ---- EngineQueue -----------------------------------------------------------------------------

Status Engine::open_queue(unsigned depth, std::unique_ptr<EngineQueue>* out) {
  return open_queue(depth, nullptr, out);
}

Status Engine::open_queue(unsigned depth, IoRing* ring, std::unique_ptr<EngineQueue>* out) {
  if (depth == 0)
    return Status(Errc::invalid_argument,
                  fmt::format("queue on {}: depth must be at least 1", impl_->geometry.name));
  std::unique_ptr<EngineQueue> queue(new EngineQueue);
  // Blocking on a shared ring: the ring's read of it must wait rather than fail.
  const int event_fd = ::eventfd(0, (ring != nullptr ? 0 : EFD_NONBLOCK) | EFD_CLOEXEC);
  if (event_fd < 0) return errno_status("eventfd", errno);
  auto impl = std::make_unique<EngineQueue::Impl>(impl_.get(), event_fd);
  impl->ring = ring;
  Status s = ring != nullptr
                 ? impl_->storage->open_queue_on_ring(depth, impl->event_fd, ring, &impl->storage)
                 : impl_->storage->open_queue(depth, impl->event_fd, &impl->storage);
  if (!s.ok()) return s;
  impl->crypto_batch.reserve(depth);
  const unsigned scratch_count = std::min(depth, kScratchBuffers);
  for (unsigned i = 0; i < scratch_count; ++i) {
    auto* buffer = static_cast<uint8_t*>(std::aligned_alloc(4096, kScratchBytes));
    if (buffer == nullptr)
      return Status(Errc::no_memory, fmt::format("queue on {}: write_zeroes buffers",
                                                 impl_->geometry.name));
    impl->all_scratch.push_back(buffer);
    impl->free_scratch.push_back(buffer);
  }
  if (ring != nullptr) {
    impl->event_read = std::make_unique<EventRead>(ring, impl->event_fd);
    impl->event_read->arm();
  }
  queue->impl_ = std::move(impl);
  *out = std::move(queue);
  return Status::Ok();
}

EngineQueue::~EngineQueue() {
  while (impl_->in_flight > 0) wait_and_process();
  EventRead* read = impl_->event_read.get();
  if (read == nullptr) return;
  // The eventfd read must leave the ring before its buffer and descriptor go.
  read->closing = true;
  static IgnoredCompletion cancel_done;
  if (read->armed) io_uring_prep_cancel(impl_->ring->get_sqe(&cancel_done), read, 0);
  for (int tries = 0; read->armed && tries < 100; ++tries) {
    const int r = impl_->ring->submit(1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) break;
    impl_->ring->dispatch();
  }
  if (read->armed) (void)impl_->event_read.release();  // the kernel may still write to it
}

void EngineQueue::submit(BlockRequest* request) {
  impl_->start(request);
  if (!impl_->in_process) impl_->dispatch();
}

void EngineQueue::submit(std::span<BlockRequest* const> requests) {
  for (BlockRequest* request : requests) impl_->start(request);
  if (!impl_->in_process) impl_->dispatch();
}

int EngineQueue::event_fd() const { return impl_->event_fd; }

void EngineQueue::process() { impl_->process(); }

void EngineQueue::wait_and_process() {
  if (impl_->ring == nullptr) {
    pollfd fd{impl_->event_fd, POLLIN, 0};
    while (::poll(&fd, 1, -1) < 0 && errno == EINTR) {
    }
    impl_->process();
    return;
  }
  // Work may be ready with nothing on the ring to announce it (a synchronous storage step):
  // wait only when a pass moved nothing.
  const unsigned before = impl_->completed;
  impl_->process();
  if (impl_->completed != before) return;
  int r;
  do r = impl_->ring->submit(1);
  while (r == -EINTR);
  impl_->ring->dispatch();
  impl_->process();
}

unsigned EngineQueue::in_flight() const { return impl_->in_flight; }

}  // namespace ublkcrypt

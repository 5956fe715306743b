// EngineQueue: the per-thread request pipeline.
//
//   read:          storage read into a bounce buffer -> decrypt into the caller's buffer
//   write:         encrypt the caller's buffer into a bounce buffer -> storage write from
//                  it (FUA as RWF_DSYNC) -> complete
//   write_zeroes:  per chunk: zeros encrypted into a bounce buffer -> storage write
//                  (zeros on disk would decrypt to garbage)
//   discard:       punch a hole / BLKDISCARD -> complete
//   flush:         wait for the writes accepted before it -> fdatasync -> complete; once
//                  a write or flush of the backing failed, every later one fails (sticky)
//
// With cipher_null, reads and writes need no bounce buffer: the identity run in place is
// the same whether it runs once, twice or fails part-way.
//
// Storage I/O rides the thread's ring, and its completions come through the ring's
// dispatch(); crypto completions arrive on provider threads and come over through the
// CompletionInbox, which signals an eventfd whose read stays armed on the ring. A provider
// that completes a run inside Session::submit (cipher_null in place) calls back on this
// thread: those runs advance right after the submit, with no eventfd write and no wakeup.
// Work started while handling completions is batched: one Session::submit per process(),
// and the ring's owner sends the storage I/O with its next submit.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <vector>

#include "engine/bounce_buffers.h"
#include "engine/completion_inbox.h"
#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/flush_tracker.h"
#include "engine/request_state.h"
#include "engine/ring_event_read.h"

namespace ublkcrypt {

namespace {

using Internal = BlockRequest::Internal;

bool is_write(BlockOp op) {
  return op == BlockOp::write || op == BlockOp::write_zeroes || op == BlockOp::discard;
}

}  // namespace

// The queue whose dispatch() is inside Session::submit on this thread, if any: a crypto
// completion arriving while it is set came inline, on the queue's own thread.
// (Untyped: Impl is private to EngineQueue.)
thread_local const void* tls_dispatching = nullptr;

struct EngineQueue::Impl final : CryptoCompletion, StorageCompletion {
  Impl(Engine::Impl* owner, int fd, IoRing* r)
      : engine(owner),
        session(owner->session.get()),
        bounce_reads_and_writes(owner->session->spec().mode != CipherMode::null),
        event_fd(fd),
        ring(r),
        inbox(fd) {}

  Engine::Impl* engine;
  Session* session;
  const bool bounce_reads_and_writes;  // false only for the identity cipher
  std::unique_ptr<StorageQueue> storage;
  int event_fd;  // owned; the inbox signals it, its read is armed on the ring
  IoRing* ring;
  std::unique_ptr<RingEventRead> event_read;
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

  BounceBuffers bounce;
  const uint8_t* zeros = nullptr;  // write_zeroes' source: max_io_bytes of zeros, read-only
  Internal* bounce_waiting = nullptr;  // FIFO of requests waiting for a bounce buffer
  Internal** bounce_waiting_tail = &bounce_waiting;

  ~Impl() {
    if (event_fd >= 0) ::close(event_fd);
  }

  const VolumeGeometry& volume() const { return engine->geometry; }
  uint64_t backing_offset(uint64_t offset) const { return engine->config.data_offset + offset; }

  void start(BlockRequest* request);
  bool needs_bounce(BlockOp op) const {
    return op == BlockOp::write_zeroes ||
           (bounce_reads_and_writes && (op == BlockOp::read || op == BlockOp::write));
  }
  void start_data(Internal* in);
  void send_crypto();
  void dispatch();
  void advance_inline_done();
  void process();

  void start_crypto(Internal* in, Direction direction, const uint8_t* src, uint8_t* dst,
                    uint64_t offset, uint32_t length);
  // Where a read's ciphertext lands and a write's ciphertext is written from.
  uint8_t* ciphertext_buffer(Internal* in) const {
    return in->bounce != nullptr ? in->bounce : in->request->buffer;
  }
  void start_storage(Internal* in, StorageOp op, uint8_t* buffer, uint64_t offset,
                     uint32_t length, bool fua);
  void next_zero_chunk(Internal* in);
  void start_flush(Internal* in) { start_storage(in, StorageOp::flush, nullptr, 0, 0, false); }
  void crypto_finished(Internal* in);
  void finish(Internal* in, Status status);
  // A write's or flush's result: a failure is remembered for the engine's life, and a
  // flush that succeeds after one fails with it (engine_impl.h).
  Status sticky_flush_status(StorageOp op, Status status);

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
    case BlockOp::write:
    case BlockOp::write_zeroes:
      if (needs_bounce(request->op) && (in->bounce = bounce.take()) == nullptr) {
        in->stage = Internal::Stage::waiting_bounce;
        *bounce_waiting_tail = in;
        bounce_waiting_tail = &in->next;
        break;
      }
      start_data(in);
      break;
    case BlockOp::discard:
      start_storage(in, StorageOp::discard, nullptr, backing_offset(request->offset),
                    request->length, false);
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

// A read, write or write_zeroes with its bounce buffer (if it needs one): its first step.
void EngineQueue::Impl::start_data(Internal* in) {
  const BlockRequest& request = *in->request;
  switch (request.op) {
    case BlockOp::read:
      start_storage(in, StorageOp::read, ciphertext_buffer(in), backing_offset(request.offset),
                    request.length, false);
      break;
    case BlockOp::write:
      start_crypto(in, Direction::encrypt, request.buffer, ciphertext_buffer(in), request.offset,
                   request.length);
      break;
    default:
      next_zero_chunk(in);
  }
}

void EngineQueue::Impl::start_crypto(Internal* in, Direction direction, const uint8_t* src,
                                     uint8_t* dst, uint64_t offset, uint32_t length) {
  const uint32_t sector_size = volume().sector_size;
  in->stage = Internal::Stage::crypting;
  in->crypto.run = SectorRun{direction, src, dst, offset / sector_size, length / sector_size};
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

// write_zeroes, one chunk of up to max_io_bytes: zeros, encrypted for their sectors into
// the bounce buffer, then written.
void EngineQueue::Impl::next_zero_chunk(Internal* in) {
  const BlockRequest& request = *in->request;
  const uint32_t chunk = std::min(volume().max_io_bytes, request.length - in->zeroed);
  start_crypto(in, Direction::encrypt, zeros, in->bounce, request.offset + in->zeroed, chunk);
}

// Sends what the last steps started: one crypto batch, one storage system call.
void EngineQueue::Impl::send_crypto() {
  if (crypto_batch.empty()) return;
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

void EngineQueue::Impl::dispatch() {
  send_crypto();
  if (storage_queued) {
    storage_queued = false;
    storage->kick();
  }
  // Runs left over would complete a request: outside process() that must wait for the
  // next process(), which the eventfd's read on the ring then announces.
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
  // The eventfd's read on the ring emptied its counter before this pass, so a signal
  // racing with it stays pending for the next one.
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
    // The crypto the completions started goes to the provider before this thread turns to
    // the inbox's storage steps (a tmpfs write is a copy on this thread): its workers
    // would otherwise wait for a whole pass of copies.
    const bool sent_crypto = !crypto_batch.empty();
    send_crypto();
    for (Internal* in = inbox.take_all(); in != nullptr;) {
      Internal* next = in->next;
      if (in->stage == Internal::Stage::rejected) finish(in, std::move(in->status));
      else crypto_finished(in);
      in = next;
      ++completed;
    }
    const bool sent = sent_crypto || !crypto_batch.empty() || storage_queued;
    dispatch();  // still in_process: the runs it completes inline advance inside it
    in_process = false;
    if (!sent && completed == before) break;
  }
  // Still moving at the bound: nothing else would call us back for work already reaped
  // into the storage queue, so wake ourselves.
  if (round == 8) eventfd_write(event_fd, 1);
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
      start_storage(in, StorageOp::write, ciphertext_buffer(in), backing_offset(request.offset),
                    request.length, request.fua);
      break;
    case BlockOp::write_zeroes:
      start_storage(in, StorageOp::write, in->bounce,
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
  if (io->op == StorageOp::read || io->op == StorageOp::write)
    engine->storage_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (io->op == StorageOp::flush || io->op == StorageOp::write)
    status = sticky_flush_status(io->op, std::move(status));
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
      start_crypto(in, Direction::decrypt, ciphertext_buffer(in), request.buffer, request.offset,
                   request.length);
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

Status EngineQueue::Impl::sticky_flush_status(StorageOp op, Status status) {
  if (status.ok() && (op != StorageOp::flush || !engine->flush_failed.load())) return status;
  std::lock_guard lock(engine->flush_error_mutex);
  if (!status.ok()) {
    if (!engine->flush_failed.exchange(true)) engine->flush_error = status;
    return status;
  }
  return Status(engine->flush_error.code(),
                fmt::format("flush {}: the backing failed earlier ({}); writes may be lost, "
                            "and every flush fails until the volume is closed",
                            volume().name, engine->flush_error.message()));
}

void EngineQueue::Impl::finish(Internal* in, Status status) {
  BlockRequest* request = in->request;
  if (in->bounce != nullptr) {  // hand the buffer to the next request in line
    uint8_t* buffer = in->bounce;
    in->bounce = nullptr;
    if (Internal* waiter = bounce_waiting) {
      bounce_waiting = waiter->next;
      if (bounce_waiting == nullptr) bounce_waiting_tail = &bounce_waiting;
      waiter->bounce = buffer;
      start_data(waiter);
    } else {
      bounce.give_back(buffer);
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

Status Engine::open_queue(unsigned depth, IoRing* ring, std::unique_ptr<EngineQueue>* out) {
  const std::string& name = impl_->geometry.name;
  if (depth == 0)
    return Status(Errc::invalid_argument, fmt::format("queue on {}: depth must be at least 1", name));
  std::unique_ptr<EngineQueue> queue(new EngineQueue);
  // Blocking: the ring's read of it must wait rather than fail.
  const int event_fd = ::eventfd(0, EFD_CLOEXEC);
  if (event_fd < 0) return errno_status("eventfd", errno);
  auto impl = std::make_unique<EngineQueue::Impl>(impl_.get(), event_fd, ring);
  if (Status s = impl_->storage->open_queue(depth, ring, &impl->storage); !s.ok()) return s;
  impl->crypto_batch.reserve(depth);
  const uint32_t max_io = impl_->geometry.max_io_bytes;
  // One more buffer than bounced requests, for write_zeroes' source of zeros.
  if (Status s = impl->bounce.init(depth + 1, max_io); !s.ok()) return s.in("queue on " + name);
  impl->bounce.add_to(ring);
  uint8_t* zeros = impl->bounce.take();  // fresh anonymous memory: already zeros
  impl->zeros = zeros;
  impl->event_read = std::make_unique<RingEventRead>(ring, impl->event_fd);
  impl->event_read->arm();
  queue->impl_ = std::move(impl);
  *out = std::move(queue);
  return Status::Ok();
}

EngineQueue::~EngineQueue() {
  while (impl_->in_flight > 0) wait_and_process();
  // The eventfd read must leave the ring before its buffer and descriptor go.
  RingEventRead::close(std::move(impl_->event_read));
}

void EngineQueue::submit(BlockRequest* request) {
  impl_->start(request);
  if (!impl_->in_process) impl_->dispatch();
}

void EngineQueue::submit(std::span<BlockRequest* const> requests) {
  for (BlockRequest* request : requests) impl_->start(request);
  if (!impl_->in_process) impl_->dispatch();
}

void EngineQueue::process() { impl_->process(); }

bool EngineQueue::help() {
  // Our own runs it completes come back as inline ones (no eventfd write, no wakeup) and
  // advance in the process() after it; other queues' go to their inboxes as usual.
  const void* outer = tls_dispatching;
  tls_dispatching = impl_.get();
  const bool ran = impl_->session->help();
  tls_dispatching = outer;
  if (ran) impl_->process();
  return ran;
}

void EngineQueue::wait_and_process(int timeout_ms) {
  // Work may be ready with nothing on the ring to announce it (a synchronous storage step):
  // wait only when a pass moved nothing, and nothing could be helped with. What the pass
  // queued on the ring goes out before the thread turns to crypto.
  const unsigned before = impl_->completed;
  impl_->process();
  if (impl_->completed != before) return;
  if (io_uring_cq_ready(impl_->ring->raw()) == 0) {
    if (io_uring_sq_ready(impl_->ring->raw()) > 0) (void)impl_->ring->submit(0);
    if (help()) return;
  }
  int r;
  do r = impl_->ring->submit(1, timeout_ms);
  while (r == -EINTR);
  impl_->ring->dispatch();
  impl_->process();
}

unsigned EngineQueue::in_flight() const { return impl_->in_flight; }

}  // namespace ublkcrypt

#include "blockdev/queue_thread.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>

namespace ublkcrypt {
namespace {

size_t page_round(size_t n) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

}  // namespace

Status QueueThread::start(const QueueConfig& config, const QueueTargetFactory& factory,
                          std::unique_ptr<QueueThread>* out) {
  std::unique_ptr<QueueThread> q(new QueueThread(config));
  std::promise<Status> ready;
  std::future<Status> ready_future = ready.get_future();
  QueueThread* self = q.get();
  q->thread_ = std::thread([self, &factory, &ready] {
    Status s = self->setup(factory);
    bool ok = s.ok();
    ready.set_value(std::move(s));
    if (ok) self->run();
    // The target goes on this thread; the ring stays open until the thread has exited
    // (release_ring).
    self->target_.reset();
  });
  Status s = ready_future.get();
  if (!s.ok()) {
    (void)q->join();
    return s.in("ublk queue " + std::to_string(config.queue_id));
  }
  *out = std::move(q);
  return Status::Ok();
}

QueueThread::~QueueThread() {
  if (thread_.joinable()) abandon();
  (void)join();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void QueueThread::abandon() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
  }
}

Status QueueThread::join() {
  if (thread_.joinable()) thread_.join();
  release_ring();
  return result_;
}

Status QueueThread::setup(const QueueTargetFactory& factory) {
  const unsigned depth = config_.depth;
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return errno_status("eventfd", errno);

  // The descriptor area of each queue starts at a fixed stride sized for the deepest
  // possible queue; the mapping itself must be exactly this queue's depth, page-rounded.
  const size_t stride = page_round(kUblkMaxQueueDepth * sizeof(ublksrv_io_desc));
  descs_bytes_ = page_round(depth * sizeof(ublksrv_io_desc));
  const off_t offset = UBLKSRV_CMD_BUF_OFFSET + static_cast<off_t>(config_.queue_id) * stride;
  void* p = mmap(nullptr, descs_bytes_, PROT_READ, MAP_SHARED | MAP_POPULATE, config_.char_fd,
                 offset);
  if (p == MAP_FAILED) {
    descs_bytes_ = 0;
    return errno_status("mmap io descriptors", errno);
  }
  descs_ = static_cast<const ublksrv_io_desc*>(p);

  // Copy mode: the kernel copies write data into, and read data out of, these buffers.
  buffers_bytes_ = static_cast<size_t>(depth) * config_.max_io_bytes;
  p = mmap(nullptr, buffers_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    buffers_bytes_ = 0;
    return errno_status("allocate io buffers", errno);
  }
  // They hold plaintext: never in a core dump. Not mlock'ed here: the server locks all its
  // memory as it is touched (base/key_process.h), which covers them without pinning the
  // tags a shallow workload never uses.
  (void)::madvise(p, buffers_bytes_, MADV_DONTDUMP);
  buffers_ = static_cast<uint8_t*>(p);
  tags_.assign(depth, TagState::with_kernel);

  // Room for one command per tag, the target's storage I/O for as many, and the polls (a
  // full ring submits early, so this is room for one pass, not a limit). URING_CMD needs
  // 128-byte SQEs; storage SQEs use the first half.
  if (Status s = ring_.init(2 * depth + 8, IORING_SETUP_SQE128, /*cooperative=*/true); !s.ok())
    return s;
  ring_.add_fixed_region(buffers_, config_.max_io_bytes, depth);
  commands_.resize(depth);
  for (unsigned tag = 0; tag < depth; ++tag) {
    commands_[tag].queue = this;
    commands_[tag].tag = tag;
  }
  stop_poll_.fired = &abandoned_;

  Status s = factory(config_.queue_id, depth, &ring_, this, &target_);
  if (!s.ok()) return s;

  for (unsigned tag = 0; tag < depth; ++tag) queue_command(tag, UBLK_IO_FETCH_REQ, -1);
  arm_poll(stop_fd_, &stop_poll_);
  const int r = ring_.submit(0);
  if (r < 0) return errno_status("submit FETCH_REQ", -r);
  return Status::Ok();
}

void QueueThread::queue_command(unsigned tag, uint32_t op, int32_t result) {
  io_uring_sqe* sqe = ring_.get_sqe(&commands_[tag]);
  const uint64_t user_data = sqe->user_data;
  std::memset(sqe, 0, 2 * sizeof(io_uring_sqe));
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = config_.char_fd;
  sqe->cmd_op = op;
  sqe->user_data = user_data;
  auto* cmd = reinterpret_cast<ublksrv_io_cmd*>(&sqe->cmd);
  cmd->q_id = config_.queue_id;
  cmd->tag = static_cast<uint16_t>(tag);
  cmd->result = result;
  cmd->addr = reinterpret_cast<uint64_t>(buffers_ + static_cast<size_t>(tag) * config_.max_io_bytes);
  tags_[tag] = TagState::with_kernel;
}

void QueueThread::arm_poll(int fd, PollDone* poll) {
  io_uring_sqe* sqe = ring_.get_sqe(poll);
  io_uring_prep_poll_add(sqe, fd, POLLIN);
  io_uring_sqe_set_data(sqe, poll);
}

void QueueThread::io_done(unsigned tag, int result) {
  if (result < 0) counters_.errors.fetch_add(1, std::memory_order_relaxed);
  // COMMIT_AND_FETCH_REQ hands the result back and, in the same command, waits for the
  // tag's next request.
  queue_command(tag, UBLK_IO_COMMIT_AND_FETCH_REQ, result);
}

void QueueThread::handle_command(unsigned tag, int res) {
  if (res != UBLK_IO_RES_OK) {
    // UBLK_IO_RES_ABORT: the device is stopping (STOP_DEV, or the kernel gave up on us);
    // this tag gets no more requests. Anything else is a protocol error: same outcome.
    if (res != UBLK_IO_RES_ABORT)
      std::fprintf(stderr, "ublkcrypt: ublk queue %u tag %u: command failed: %s\n",
                   config_.queue_id, tag, std::strerror(-res));
    tags_[tag] = TagState::aborted;
    ++aborted_;
    return;
  }
  if (target_ == nullptr || abandoned_) {
    // A request arriving while the target is torn down or the queue is abandoned (a
    // hand-over to the next server): left unanswered; closing the ring cancels the command
    // and the kernel fails the request, or requeues it for the next server (REISSUE).
    tags_[tag] = TagState::aborted;
    ++aborted_;
    return;
  }
  tags_[tag] = TagState::in_target;
  // The one decode of the ublk descriptor: the counters and the target both use `io`.
  const ublksrv_io_desc& iod = descs_[tag];
  BlockRequest io;
  io.offset = iod.start_sector << 9;  // ublk counts 512-byte sectors whatever the block size
  io.length = iod.nr_sectors << 9;
  io.buffer = buffers_ + static_cast<size_t>(tag) * config_.max_io_bytes;
  switch (iod.op_flags & 0xff) {
    case UBLK_IO_OP_READ:
      io.op = BlockOp::read;
      counters_.reads.fetch_add(1, std::memory_order_relaxed);
      counters_.read_bytes.fetch_add(io.length, std::memory_order_relaxed);
      break;
    case UBLK_IO_OP_WRITE:
      io.op = BlockOp::write;
      io.fua = (iod.op_flags >> 8) & (UBLK_IO_F_FUA >> 8);
      counters_.writes.fetch_add(1, std::memory_order_relaxed);
      counters_.write_bytes.fetch_add(io.length, std::memory_order_relaxed);
      break;
    case UBLK_IO_OP_FLUSH:
      io.op = BlockOp::flush;
      io.offset = 0;
      io.length = 0;
      counters_.flushes.fetch_add(1, std::memory_order_relaxed);
      break;
    case UBLK_IO_OP_DISCARD:
      io.op = BlockOp::discard;
      counters_.discards.fetch_add(1, std::memory_order_relaxed);
      break;
    case UBLK_IO_OP_WRITE_ZEROES:
      io.op = BlockOp::write_zeroes;
      counters_.write_zeroes.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      io_done(tag, -EOPNOTSUPP);
      return;
  }
  target_->queue_io(tag, io);
}

bool QueueThread::finished() const {
  if (target_->in_flight() != 0) return false;
  for (TagState t : tags_)
    if (t == TagState::in_target) return false;
  return abandoned_ || aborted_ == tags_.size();
}

void QueueThread::run() {
  while (!finished()) {
    // Before sleeping on the ring, crypto waiting for a provider thread runs here: on a
    // machine with few cores this thread is the core the provider lacks. What the last
    // pass queued (commits, storage I/O) goes out first.
    bool helped = false;
    if (io_uring_cq_ready(ring_.raw()) == 0) {
      if (io_uring_sq_ready(ring_.raw()) > 0) (void)ring_.submit(0);
      helped = target_->help();
    }
    int r = ring_.submit(helped ? 0 : 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      result_ = errno_status("ublk queue io_uring_enter", -r);
      break;
    }
    // New requests start (their storage I/O queues on the ring), storage completions wait
    // in the target for process().
    ring_.dispatch();
    // Also after new requests: a target may finish some work inline and signal late.
    target_->process();
  }
  // Hand the last commits to the kernel before leaving (they may be its final answers).
  ring_.submit(0);
  if (result_.ok() && !abandoned_) result_ = target_->drain();
}

void QueueThread::release_ring() {
  // Only once the thread has exited. Its exit is what ends the commands still with the
  // kernel: the kernel cancels a thread's URING_CMDs as the thread exits, and once the
  // thread is marked exiting, a request the driver is handing it is requeued instead (the
  // path of a server that is killed). With the ring closed while the thread still ran,
  // the 6.12 driver's cancel work ran alongside the live thread, and under load a hand-over
  // left one request started that it never requeued: the disk never quiesced and the next
  // server's recovery waited forever (tests/vm/scenarios/ublk_handover.sh).
  ring_.close();
  if (descs_ != nullptr) munmap(const_cast<ublksrv_io_desc*>(descs_), descs_bytes_);
  descs_ = nullptr;
  if (buffers_ != nullptr) munmap(buffers_, buffers_bytes_);
  buffers_ = nullptr;
}

}  // namespace ublkcrypt

#include "backends/kernel/kernel_session.h"

#include <liburing.h>
#include <linux/if_alg.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/kernel/alg_socket.h"
#include "backends/kernel/card_watch.h"
#include "backends/kernel/fd_graveyard.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

namespace ublkcrypt {
namespace {

using Clock = std::chrono::steady_clock;

// user_data of the eventfd read that wakes the dispatcher; slot tags are index*2 (+1 send).
constexpr uint64_t kWakeTag = ~uint64_t{0};
// user_data of the cancellations sent when the card is gone (their results are not used).
constexpr uint64_t kCancelTag = ~uint64_t{0} - 1;

struct Pending {
  CryptoRequest* request;
  ProviderCallback* callback;
};

// A request being worked on: its sectors go out one per operation socket.
struct Job {
  CryptoRequest* request = nullptr;
  ProviderCallback* callback = nullptr;
  uint32_t next = 0;  // next sector to start
  uint32_t done = 0;  // sectors finished
};

constexpr size_t kControlBytes =
    CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(af_alg_iv) + kMaxIvBytes);

struct Slot {
  enum class State { idle, busy, abandoned };
  int fd = -1;
  State state = State::idle;
  Job* job = nullptr;
  uint32_t sector = 0;  // index within the job's run
  Clock::time_point started;
  msghdr msg{};
  iovec iov{};
  alignas(cmsghdr) uint8_t control[kControlBytes] = {};
};

class KernelSession final : public ProviderSession {
 public:
  KernelSession(const KernelSessionConfig& config, int transform, SectorIv iv,
                std::unique_ptr<SectorWhitening> whitening, ProviderCounters* counters)
      : config_(config),
        transform_(transform),
        iv_(std::move(iv)),
        whitening_(std::move(whitening)),
        counters_(counters) {}
  ~KernelSession() override;

  Status start();
  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override;

 private:
  void dispatch();
  void take(const Pending& p);
  void fill_slots();
  void reap();
  void check_deadline();
  void cancel_queued();
  void finish_sector(Slot& slot);
  void fail(Status cause);
  void complete(Job* job, const Status& status);
  void arm_wake();
  Status failure() {
    std::lock_guard lock(mutex_);
    return failure_;
  }
  // The card went away (its driver left /proc/crypto) or stopped answering: its transform
  // must never be freed.
  void keep_card_sockets() {
    std::vector<int> fds{transform_};
    for (const Slot& slot : slots_) fds.push_back(slot.fd);
    if (Status s = keep_open_after_exit(fds); !s.ok())
      fmt::print(stderr, "ublkcrypt: {}: {}: the dead card's sockets close with this process\n",
                 config_.who, s.message());
  }
  bool card_dead() {
    if (!config_.card || !failed_.load(std::memory_order_acquire)) return false;
    Errc code = failure().code();
    return code == Errc::device_gone || code == Errc::timeout;
  }

  const KernelSessionConfig config_;
  const uint32_t sector_size_ = config_.spec.sector_size;
  int transform_;
  SectorIv iv_;
  std::unique_ptr<SectorWhitening> whitening_;
  ProviderCounters* counters_;

  int wake_fd_ = -1;
  uint64_t wake_buffer_ = 0;
  io_uring ring_{};
  bool ring_ready_ = false;
  // One sector per slot, mmap'ed (see ~KernelSession): the transform's output, and with
  // whitening_ its input too (sendmsg copies the input out before the read lands).
  uint8_t* bounce_ = nullptr;
  size_t bounce_bytes_ = 0;
  std::vector<Slot> slots_;
  std::thread dispatcher_;

  std::mutex mutex_;
  std::vector<Pending> incoming_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  bool dispatcher_exited_ = false;  // guarded by mutex_
  size_t abandoned_ = 0;            // guarded by mutex_: sockets left with a stuck read
  std::condition_variable exited_cv_;
  Status failure_;                 // guarded by mutex_, set before failed_
  std::atomic<bool> failed_{false};
  std::atomic<bool> card_gone_{false};  // set by the card watch (another thread)
  std::unique_ptr<CardWatchHandle> watch_;

  // Dispatcher thread only.
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<Job*> free_jobs_;
  std::vector<Job*> active_;  // oldest first: its sectors are started first
  std::vector<uint64_t> iv_numbers_;
  std::vector<uint8_t> iv_blocks_;
  std::vector<Slot*> starting_;
};

Status KernelSession::start() {
  slots_ = std::vector<Slot>(config_.op_sockets);
  for (Slot& slot : slots_)
    if (Status s = accept_alg_operation(transform_, &slot.fd); !s.ok()) return s;

  bounce_bytes_ = size_t{sector_size_} * slots_.size();
  void* bounce = mmap(nullptr, bounce_bytes_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (bounce == MAP_FAILED) return errno_status("AF_ALG output buffers", errno);
  bounce_ = static_cast<uint8_t*>(bounce);

  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return errno_status("eventfd", errno);

  // Two SQEs per operation plus the wake-up read; the CQ is twice that by default.
  unsigned entries = 2 * config_.op_sockets + 2;
  if (int err = io_uring_queue_init(entries, &ring_, 0); err < 0)
    return errno_status("io_uring_queue_init", -err);
  ring_ready_ = true;

  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    slot.msg.msg_iov = &slot.iov;
    slot.msg.msg_iovlen = 1;
    slot.msg.msg_control = slot.control;
    // ecb has no IV: AF_ALG refuses an IV of another length than the transform's.
    const size_t iv_bytes = iv_.iv_bytes();
    slot.msg.msg_controllen = iv_bytes == 0
                                  ? CMSG_SPACE(sizeof(uint32_t))
                                  : CMSG_SPACE(sizeof(uint32_t)) +
                                        CMSG_SPACE(sizeof(af_alg_iv) + iv_bytes);
    cmsghdr* op = CMSG_FIRSTHDR(&slot.msg);
    op->cmsg_level = SOL_ALG;
    op->cmsg_type = ALG_SET_OP;
    op->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    if (iv_bytes == 0) continue;
    cmsghdr* iv = CMSG_NXTHDR(&slot.msg, op);
    iv->cmsg_level = SOL_ALG;
    iv->cmsg_type = ALG_SET_IV;
    iv->cmsg_len = CMSG_LEN(sizeof(af_alg_iv) + iv_bytes);
    reinterpret_cast<af_alg_iv*>(CMSG_DATA(iv))->ivlen = static_cast<uint32_t>(iv_bytes);
  }
  dispatcher_ = std::thread([this] { dispatch(); });
  if (config_.card && !config_.watch_driver.empty()) {
    watch_ = watch_card(config_.proc_crypto, config_.watch_driver, config_.watch_interval, [this] {
      card_gone_.store(true, std::memory_order_release);
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));
    });
  }
  return Status::Ok();
}

KernelSession::~KernelSession() {
  watch_.reset();  // first: its callback writes to wake_fd_
  if (dispatcher_.joinable()) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
    exited_cv_.wait(lock, [&] { return dispatcher_exited_; });
    if (abandoned_ > 0) {
      keep_card_sockets();  // the card is dead (fd_graveyard.h)
      // Reads on a dead card block their io-wq workers uninterruptibly (seen on 6.12 with
      // virtio-crypto), and a thread with such workers never finishes exiting: joining it
      // would hang the caller. Let it go, and leave the ring, sockets and pages it may
      // still reference to the kernel: this process has lost them for good.
      dispatcher_.detach();
      return;
    }
    lock.unlock();
    dispatcher_.join();
  }
  // Order matters for a dead card: the ring goes first (the kernel keeps its unfinished
  // requests, and their references to the sockets, to itself), then the sockets. The bounce
  // pages are unmapped, not freed to the heap: pages a stuck read still pins stay the
  // kernel's, and no later allocation of ours can be handed them.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (bounce_ != nullptr) munmap(bounce_, bounce_bytes_);
  if (wake_fd_ >= 0) close(wake_fd_);
  // Freeing the transform of a removed card stalls the kernel (fd_graveyard.h): a helper
  // keeps copies of its sockets open, past this process's exit; ours can go.
  if (card_dead()) keep_card_sockets();
  for (Slot& slot : slots_)
    if (slot.fd >= 0) close(slot.fd);
  if (transform_ >= 0) close(transform_);
}

void KernelSession::submit(std::span<CryptoRequest* const> requests,
                           ProviderCallback* callback) {
  if (failed_.load(std::memory_order_acquire)) {
    Status cause = failure();
    for (CryptoRequest* r : requests) {
      counters_->errors.fetch_add(1, std::memory_order_relaxed);
      callback->provider_done(r, cause);
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    for (CryptoRequest* r : requests) incoming_.push_back({r, callback});
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void KernelSession::arm_wake() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_read(sqe, wake_fd_, &wake_buffer_, sizeof(wake_buffer_), 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

void KernelSession::dispatch() {
  arm_wake();
  std::vector<Pending> taken;
  while (true) {
    bool stop;
    {
      std::lock_guard lock(mutex_);
      taken.swap(incoming_);
      stop = stopping_;
    }
    // Before taking new work: a gone card must not be sent another operation.
    if (card_gone_.load(std::memory_order_acquire) && !failed_.load(std::memory_order_relaxed)) {
      cancel_queued();
      fail(Status(Errc::device_gone,
                  fmt::format("{}: driver {} left /proc/crypto (card removed)", config_.who,
                              config_.watch_driver)));
    }
    for (const Pending& p : taken) take(p);
    taken.clear();
    if (stop && active_.empty()) break;
    fill_slots();
    reap();
    check_deadline();
  }
  size_t abandoned = 0;
  for (const Slot& slot : slots_) abandoned += slot.state == Slot::State::abandoned;
  std::lock_guard lock(mutex_);
  abandoned_ = abandoned;
  dispatcher_exited_ = true;  // the last touch of *this from this thread
  exited_cv_.notify_all();
}

void KernelSession::take(const Pending& p) {
  if (failed_.load(std::memory_order_acquire)) {
    counters_->errors.fetch_add(1, std::memory_order_relaxed);
    p.callback->provider_done(p.request, failure());
    return;
  }
  Job* job;
  if (free_jobs_.empty()) {
    jobs_.push_back(std::make_unique<Job>());
    job = jobs_.back().get();
  } else {
    job = free_jobs_.back();
    free_jobs_.pop_back();
  }
  *job = Job{p.request, p.callback, 0, 0};
  if (p.request->run.sector_count == 0) {
    complete(job, Status::Ok());
    return;
  }
  active_.push_back(job);
}

void KernelSession::fill_slots() {
  starting_.clear();
  iv_numbers_.clear();
  size_t next_job = 0;
  for (Slot& slot : slots_) {
    if (slot.state != Slot::State::idle) continue;
    while (next_job < active_.size() &&
           active_[next_job]->next == active_[next_job]->request->run.sector_count)
      ++next_job;
    if (next_job == active_.size()) break;
    Job* job = active_[next_job];
    slot.job = job;
    slot.sector = job->next++;
    starting_.push_back(&slot);
    iv_numbers_.push_back(config_.spec.iv_of(job->request->run.first_sector + slot.sector));
  }
  if (starting_.empty()) return;

  const size_t iv_bytes = iv_.iv_bytes();
  iv_blocks_.resize(iv_numbers_.size() * iv_bytes);
  if (Status s = iv_.compute(iv_numbers_, iv_blocks_); !s.ok()) {
    // Nothing of this batch was sent: the slots go back idle and the session fails over
    // like a card that stopped answering.
    for (Slot* slot : starting_) slot->job = nullptr;
    fail(s.in(config_.who));
    return;
  }
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < starting_.size(); ++i) {
    Slot& slot = *starting_[i];
    const SectorRun& run = slot.job->request->run;
    const size_t index = static_cast<size_t>(&slot - slots_.data());
    cmsghdr* op = CMSG_FIRSTHDR(&slot.msg);
    const uint32_t direction =
        run.direction == Direction::encrypt ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT;
    std::memcpy(CMSG_DATA(op), &direction, sizeof(direction));
    const uint8_t* input = run.src + size_t{slot.sector} * sector_size_;
    if (whitening_) {
      uint8_t* staged = bounce_ + index * sector_size_;
      std::memcpy(staged, input, sector_size_);
      whitening_->before(run.direction, iv_numbers_[i], {staged, sector_size_},
                         {&iv_blocks_[i * iv_bytes], iv_bytes});
      input = staged;
    }
    if (iv_bytes != 0) {
      cmsghdr* iv = CMSG_NXTHDR(&slot.msg, op);
      std::memcpy(reinterpret_cast<af_alg_iv*>(CMSG_DATA(iv))->iv, &iv_blocks_[i * iv_bytes],
                  iv_bytes);
    }
    slot.iov.iov_base = const_cast<uint8_t*>(input);
    slot.iov.iov_len = sector_size_;

    // The send's success is implied by the read's; only its failure needs a CQE.
    io_uring_sqe* send = io_uring_get_sqe(&ring_);
    io_uring_prep_sendmsg(send, slot.fd, &slot.msg, 0);
    send->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(send, index * 2 + 1);
    io_uring_sqe* read = io_uring_get_sqe(&ring_);
    io_uring_prep_read(read, slot.fd, bounce_ + index * sector_size_, sector_size_, 0);
    // Issued from an io-wq worker, never inline: on a pulled virtio-crypto card the read
    // itself can block uninterruptibly inside skcipher_recvmsg (seen in the VM: the
    // dispatcher stuck in D state running the linked read as task work). A stuck worker
    // costs a kernel thread; a stuck dispatcher would cost the volume.
    read->flags |= IOSQE_ASYNC;
    io_uring_sqe_set_data64(read, index * 2);
    slot.state = Slot::State::busy;
    slot.started = now;
  }
}

void KernelSession::reap() {
  // Wait for one completion, a wake-up, or the oldest operation's deadline; submitting the
  // round's SQEs in the same system call.
  __kernel_timespec ts{};
  __kernel_timespec* timeout = nullptr;
  Clock::time_point oldest = Clock::time_point::max();
  for (const Slot& slot : slots_)
    if (slot.state == Slot::State::busy) oldest = std::min(oldest, slot.started);
  if (oldest != Clock::time_point::max()) {
    auto left = oldest + config_.deadline - Clock::now();
    auto ns = std::max<int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(left).count(), 1000000);
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    timeout = &ts;
  }
  io_uring_cqe* cqe = nullptr;
  int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout, nullptr);
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    fail(errno_status(fmt::format("{}: io_uring_enter", config_.who), -rc));
    return;
  }

  unsigned head;
  unsigned seen = 0;
  std::vector<std::pair<uint64_t, int>> results;  // copied out: callbacks may submit more
  io_uring_for_each_cqe(&ring_, head, cqe) {
    results.emplace_back(cqe->user_data, cqe->res);
    ++seen;
  }
  io_uring_cq_advance(&ring_, seen);

  for (auto [tag, res] : results) {
    if (tag == kWakeTag) {
      arm_wake();
      continue;
    }
    if (tag == kCancelTag) continue;
    Slot& slot = slots_[tag / 2];
    if (slot.state != Slot::State::busy) continue;  // a late answer on an abandoned socket
    const bool send = tag % 2 == 1;
    if (send || res < 0) {
      // A failed send also cancels its linked read (-ECANCELED), which lands here after
      // fail() has abandoned the slot.
      fail(Status(Errc::io_error, fmt::format("{}: {} of sector {}: {}", config_.who,
                                              send ? "sendmsg" : "read",
                                              slot.job->request->run.first_sector + slot.sector,
                                              std::strerror(-res))));
      continue;
    }
    if (static_cast<uint32_t>(res) != sector_size_) {
      fail(Status(Errc::io_error, fmt::format("{}: read returned {} of {} bytes", config_.who,
                                              res, sector_size_)));
      continue;
    }
    finish_sector(slot);
  }
}

void KernelSession::finish_sector(Slot& slot) {
  Job* job = slot.job;
  const size_t index = static_cast<size_t>(&slot - slots_.data());
  const SectorRun& run = job->request->run;
  uint8_t* output = bounce_ + index * sector_size_;
  if (whitening_)
    whitening_->after(run.direction, config_.spec.iv_of(run.first_sector + slot.sector),
                      {output, sector_size_});
  std::memcpy(run.dst + size_t{slot.sector} * sector_size_, output, sector_size_);
  slot.state = Slot::State::idle;
  slot.job = nullptr;
  if (++job->done == job->request->run.sector_count) {
    std::erase(active_, job);
    complete(job, Status::Ok());
  }
}

// The card is gone. An AF_ALG read starts its crypto request when it runs, and a read
// still queued in io-wq would start one on the removed card (an oops on 6.12, see
// card_watch.h): cancel every operation on our sockets; those already running cannot be
// cancelled and stay stuck (their slots are abandoned).
void KernelSession::cancel_queued() {
  for (const Slot& slot : slots_) {
    if (slot.state != Slot::State::busy) continue;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) return;
    }
    io_uring_prep_cancel_fd(sqe, slot.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, kCancelTag);
  }
  io_uring_submit(&ring_);
}

void KernelSession::check_deadline() {
  if (failed_.load(std::memory_order_relaxed)) return;
  const Clock::time_point now = Clock::now();
  size_t late = 0, busy = 0;
  for (const Slot& slot : slots_) {
    if (slot.state != Slot::State::busy) continue;
    ++busy;
    if (now - slot.started >= config_.deadline) ++late;
  }
  if (late == 0) return;
  fail(Status(Errc::timeout,
              fmt::format("{}: no answer within {} ms ({} of {} operations in flight late; "
                          "card gone or hung)",
                          config_.who, config_.deadline.count(), late, busy)));
}

void KernelSession::fail(Status cause) {
  if (!failed_.load(std::memory_order_relaxed)) {
    {
      std::lock_guard lock(mutex_);
      failure_ = cause;
    }
    failed_.store(true, std::memory_order_release);
  }
  for (Slot& slot : slots_) {
    if (slot.state != Slot::State::busy) continue;
    slot.state = Slot::State::abandoned;
    slot.job = nullptr;
  }
  std::vector<Job*> failed_jobs;
  failed_jobs.swap(active_);
  for (Job* job : failed_jobs) complete(job, cause);
}

void KernelSession::complete(Job* job, const Status& status) {
  CryptoRequest* request = job->request;
  ProviderCallback* callback = job->callback;
  free_jobs_.push_back(job);
  if (status.ok()) {
    const uint64_t bytes = uint64_t{request->run.sector_count} * sector_size_;
    counters_->requests.fetch_add(1, std::memory_order_relaxed);
    counters_->payload_bytes.fetch_add(bytes, std::memory_order_relaxed);
    // Two host copies per sector: sendmsg copies the input into the socket's pages, and
    // the output is copied from the bounce page to the consumer's buffer. Whitening stages
    // the input in the bounce page first: a third.
    counters_->copy_bytes.fetch_add((whitening_ ? 3 : 2) * bytes, std::memory_order_relaxed);
    if (config_.card) {
      counters_->bytes_to_device.fetch_add(bytes, std::memory_order_relaxed);
      counters_->bytes_from_device.fetch_add(bytes, std::memory_order_relaxed);
    }
  } else {
    counters_->errors.fetch_add(1, std::memory_order_relaxed);
  }
  callback->provider_done(request, status);
}

}  // namespace

Status open_kernel_session(const KernelSessionConfig& config, int transform, SectorIv iv,
                           std::unique_ptr<SectorWhitening> whitening,
                           ProviderCounters* counters, std::unique_ptr<ProviderSession>* out) {
  auto session = std::make_unique<KernelSession>(config, transform, std::move(iv),
                                                 std::move(whitening), counters);
  if (Status s = session->start(); !s.ok()) return s;
  *out = std::move(session);
  return Status::Ok();
}

}  // namespace ublkcrypt

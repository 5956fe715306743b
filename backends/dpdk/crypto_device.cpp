#include "backends/dpdk/crypto_device.h"

#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/dpdk/device_session.h"
#include "backends/dpdk/eal.h"

namespace ublkcrypt {
namespace {

using Clock = std::chrono::steady_clock;

// Operations per enqueue and per dequeue call.
constexpr uint16_t kBurst = 32;
// The largest sector: every mbuf holds one.
constexpr uint32_t kMaxSectorBytes = 4096;
// How long the poller spins on empty polls before it sleeps between polls: longer than a
// card takes to turn a full queue around, so the poller sleeps only on a slow or stuck
// device (a count of polls would end sooner the faster the polls are).
constexpr std::chrono::milliseconds kSpinTime{2};
constexpr std::chrono::microseconds kSlowPollSleep{50};

// One request on the device. Jobs live in their queue pair's lists and move between them
// (std::list::splice), so a request in steady state allocates nothing.
struct Job {
  std::shared_ptr<DeviceSession> session;  // keeps the keys while operations are out
  CryptoRequest* request = nullptr;
  ProviderCallback* callback = nullptr;
  unsigned queue_pair = 0;
  std::list<Job>::iterator self;     // in its queue pair's lists, under its lock
  uint32_t issued = 0;               // sectors enqueued; under the queue pair's lock
  uint32_t returned = 0;             // operations back from the device; poller only
  uint32_t done = 0;                 // sectors copied to dst; poller only
  bool failed = false;               // completed with an error (dst is no longer ours), its
                                     // operations still out dropped as they come back; poller only
};

// One job's sectors in a burst.
struct Share {
  Job* job;
  uint16_t first;   // index in the burst
  uint16_t count;
  uint16_t iv_run;  // the first sector of the shares whose IVs are computed with this one's
};

// What an operation's private area holds after its IV.
struct OperationTag {
  Job* job;
  uint32_t sector;  // index in the job's run
};
constexpr uint16_t kIvRoom = 16;

struct QueuePair {
  std::mutex mutex;
  std::deque<Job*> backlog;  // jobs with sectors not yet enqueued, oldest first
  std::list<Job> active;     // jobs not completed
  std::list<Job> retired;    // completed, with operations still on the device
  std::list<Job> free;       // ready for the next request
  uint64_t in_flight = 0;    // operations enqueued and not yet dequeued
  // The driver refused operations while others were in flight: the backlog waits until
  // some come back, rather than preparing bursts (IVs, copies) the driver throws back.
  bool waiting_for_room = false;
  Clock::time_point last_progress = Clock::now();
  // Scratch for one burst, under the lock.
  std::vector<uint64_t> iv_numbers = std::vector<uint64_t>(kBurst);
  std::vector<uint8_t> ivs = std::vector<uint8_t>(size_t{kBurst} * kIvRoom);
};

// An operation's symmetric part. DPDK declares it as a zero-length array member (sym[0]),
// past which GCC's bounds check does not see.
rte_crypto_sym_op* symmetric_part(rte_crypto_op* op) {
  return reinterpret_cast<rte_crypto_sym_op*>(reinterpret_cast<uint8_t*>(op) +
                                              offsetof(rte_crypto_op, sym));
}

std::atomic<unsigned> next_submitter{0};

// True on a device's poller thread. A request submitted from a completion there joins the
// backlog, and the poll that ran the completion enqueues it with the others it completed:
// one burst, one doorbell for several requests.
thread_local bool on_poller_thread = false;

// The queue pair of the calling thread: each submitting thread gets the next one.
unsigned queue_pair_of_this_thread(unsigned queue_pairs) {
  thread_local const unsigned submitter = next_submitter.fetch_add(1);
  return submitter % queue_pairs;
}

}  // namespace

struct CryptoDevice::State {
  CryptoDevice* device = nullptr;
  CryptoDeviceOptions options;
  uint8_t id = 0;
  rte_mempool* operations = nullptr;
  rte_mempool* mbufs = nullptr;
  rte_mempool* sessions = nullptr;
  std::vector<std::unique_ptr<QueuePair>> queue_pairs;

  // Jobs submitted and not completed: the poller sleeps when there are none.
  std::atomic<uint64_t> open_jobs{0};
  std::atomic<bool> sleeping{false};
  std::mutex idle_mutex;
  std::condition_variable idle_cv;

  std::atomic<bool> failed{false};
  std::mutex failure_mutex;
  Status failure;  // under failure_mutex, set before `failed`

  std::thread poller;

  Status configure(unsigned count);
  void submit(const std::shared_ptr<DeviceSession>& session,
              std::span<CryptoRequest* const> requests, ProviderCallback* callback);
  bool enqueue_backlog(QueuePair& qp, unsigned index);
  uint16_t gather_burst(QueuePair& qp, Share* shares, unsigned* jobs) const;
  void prepare_burst(QueuePair& qp, unsigned index, Share* shares, unsigned jobs,
                     rte_crypto_op** ops, rte_mbuf** buffers);
  void poll_forever();
  bool poll(unsigned index, Clock::time_point now, bool* hung);
  void take_back(rte_crypto_op* op, Job** completed, unsigned* completed_count);
  void complete(QueuePair& qp, Job* const* jobs, unsigned count);
  void fail_job(Job* job, Status status);
  void release_if_done(Job* job);
  void fail_device(Status cause);
  Status failure_status() {
    std::lock_guard lock(failure_mutex);
    return failure;
  }
  void wake_poller() {
    if (!sleeping.load()) return;
    std::lock_guard lock(idle_mutex);
    idle_cv.notify_one();
  }
};

namespace {

void complete_at_once(ProviderCounters& counters, CryptoRequest* request,
                      ProviderCallback* callback, const Status& status) {
  if (status.ok())
    counters.requests.fetch_add(1, std::memory_order_relaxed);
  else
    counters.errors.fetch_add(1, std::memory_order_relaxed);
  callback->provider_done(request, status);
}

}  // namespace

Status CryptoDevice::State::configure(unsigned count) {
  const std::string& who = device->who();
  int socket = rte_cryptodev_socket_id(id);
  if (socket < 0) socket = SOCKET_ID_ANY;
  rte_cryptodev_config config{};
  config.socket_id = socket;
  config.nb_queue_pairs = static_cast<uint16_t>(count);
  config.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY;
  if (int rc = rte_cryptodev_configure(id, &config); rc < 0)
    return Status(Errc::io_error, fmt::format("{}: configure: {}", who, rte_strerror(-rc)));

  const std::string suffix = std::to_string(id);
  sessions = rte_cryptodev_sym_session_pool_create(("ubc_sess_" + suffix).c_str(), 1024,
                                                   rte_cryptodev_sym_get_private_session_size(id),
                                                   0, 0, socket);
  operations =
      rte_crypto_op_pool_create(("ubc_ops_" + suffix).c_str(), RTE_CRYPTO_OP_TYPE_SYMMETRIC,
                                options.mbufs, 0, kIvRoom + sizeof(OperationTag), socket);
  mbufs = rte_pktmbuf_pool_create(("ubc_mbuf_" + suffix).c_str(), options.mbufs, 0, 0,
                                  RTE_PKTMBUF_HEADROOM + kMaxSectorBytes, socket);
  if (sessions == nullptr || operations == nullptr || mbufs == nullptr)
    return Status(Errc::no_memory, fmt::format("{}: memory pools: {} (EAL's -m too small?)", who,
                                               rte_strerror(rte_errno)));

  rte_cryptodev_qp_conf qp_config{};
  qp_config.nb_descriptors = options.descriptors;
  qp_config.mp_session = sessions;
  for (unsigned qp = 0; qp < count; ++qp) {
    if (int rc = rte_cryptodev_queue_pair_setup(id, static_cast<uint16_t>(qp), &qp_config, socket);
        rc < 0)
      return Status(Errc::io_error,
                    fmt::format("{}: queue pair {}: {}", who, qp, rte_strerror(-rc)));
    queue_pairs.push_back(std::make_unique<QueuePair>());
  }
  if (int rc = rte_cryptodev_start(id); rc < 0)
    return Status(Errc::io_error, fmt::format("{}: start: {}", who, rte_strerror(-rc)));
  poller = std::thread([this] { poll_forever(); });
  return Status::Ok();
}

void CryptoDevice::State::submit(const std::shared_ptr<DeviceSession>& session,
                                 std::span<CryptoRequest* const> requests,
                                 ProviderCallback* callback) {
  const unsigned index = queue_pair_of_this_thread(static_cast<unsigned>(queue_pairs.size()));
  QueuePair& qp = *queue_pairs[index];
  std::vector<CryptoRequest*> refused;
  {
    std::lock_guard lock(qp.mutex);
    for (CryptoRequest* request : requests) {
      // Checked under the lock: fail_device() sets `failed` before it collects the jobs.
      if (request->run.sector_count == 0 || failed.load()) {
        refused.push_back(request);
        continue;
      }
      if (qp.free.empty()) qp.free.emplace_back();
      const auto self = qp.free.begin();
      qp.active.splice(qp.active.end(), qp.free, self);
      Job* job = &*self;
      *job = Job{session, request, callback, index, self};
      qp.backlog.push_back(job);
      open_jobs.fetch_add(1);
    }
    // A refusal here is the poller's to fail: operations it dequeued may still be on their
    // way into dst.
    if (!on_poller_thread) enqueue_backlog(qp, index);
  }
  wake_poller();
  for (CryptoRequest* request : refused)
    complete_at_once(session->counters(), request, callback,
                     request->run.sector_count == 0 ? Status::Ok() : failure_status());
}

// Enqueues the backlog's sectors in bursts, each burst gathering sectors of as many jobs as
// fit, until the queue pair is full or a pool is empty. Under qp.mutex. True if the driver
// refused the backlog's head while nothing of the queue pair was in flight: no completion
// will make room for it, so retrying it waits forever.
bool CryptoDevice::State::enqueue_backlog(QueuePair& qp, unsigned index) {
  rte_crypto_op* ops[kBurst];
  rte_mbuf* buffers[kBurst];
  Share shares[kBurst];
  while (!qp.backlog.empty() && !qp.waiting_for_room) {
    unsigned jobs = 0;
    const uint16_t n = gather_burst(qp, shares, &jobs);
    if (n == 0) return false;  // full: in_flight is above zero
    if (rte_crypto_op_bulk_alloc(operations, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops, n) != n)
      return false;
    if (rte_pktmbuf_alloc_bulk(mbufs, buffers, n) != 0) {
      for (uint16_t i = 0; i < n; ++i) rte_crypto_op_free(ops[i]);
      return false;
    }
    prepare_burst(qp, index, shares, jobs, ops, buffers);
    const uint16_t accepted = rte_cryptodev_enqueue_burst(id, static_cast<uint16_t>(index), ops, n);
    for (uint16_t i = accepted; i < n; ++i) {
      rte_pktmbuf_free(buffers[i]);
      rte_crypto_op_free(ops[i]);
    }
    if (qp.in_flight == 0) qp.last_progress = Clock::now();
    qp.in_flight += accepted;
    // The driver takes a prefix of the burst: each job keeps the part of its share in it.
    for (unsigned j = 0; j < jobs; ++j) {
      const Share& share = shares[j];
      if (accepted > share.first)
        share.job->issued += std::min<uint16_t>(share.count, accepted - share.first);
    }
    while (!qp.backlog.empty() &&
           qp.backlog.front()->issued == qp.backlog.front()->request->run.sector_count)
      qp.backlog.pop_front();
    if (accepted < n) {
      if (qp.in_flight == 0) return true;
      qp.waiting_for_room = true;
    }
  }
  return false;
}

// The next burst's shares, from the backlog's head: no more sectors than kBurst nor than
// the descriptors the queue pair was set up with (an operation the driver throws back has
// been prepared for nothing). Under qp.mutex.
uint16_t CryptoDevice::State::gather_burst(QueuePair& qp, Share* shares, unsigned* jobs) const {
  const uint64_t room = qp.in_flight < options.descriptors ? options.descriptors - qp.in_flight : 0;
  const uint64_t most = std::min<uint64_t>(kBurst, room);
  uint16_t n = 0;
  for (auto it = qp.backlog.begin(); it != qp.backlog.end() && n < most; ++it) {
    Job* job = *it;
    const auto count = static_cast<uint16_t>(
        std::min<uint64_t>(job->request->run.sector_count - job->issued, most - n));
    shares[(*jobs)++] = Share{job, n, count, n};
    n = static_cast<uint16_t>(n + count);
  }
  return n;
}

// Fills a burst's operations: each sector's input copied into its mbuf, its IV, its tag.
// The IVs take one computation per run of shares under one session (usually the whole
// burst), each run's packed from its first sector's slot. Under qp.mutex.
void CryptoDevice::State::prepare_burst(QueuePair& qp, unsigned index, Share* shares,
                                        unsigned jobs, rte_crypto_op** ops, rte_mbuf** buffers) {
  for (unsigned j = 0; j < jobs; ++j) {
    const Share& share = shares[j];
    const DeviceSession& session = *share.job->session;
    for (uint16_t i = 0; i < share.count; ++i)
      qp.iv_numbers[share.first + i] =
          session.spec().iv_of(share.job->request->run.first_sector + share.job->issued + i);
  }
  for (unsigned j = 0; j < jobs;) {
    DeviceSession& session = *shares[j].job->session;
    const uint16_t run_first = shares[j].first;
    uint16_t run_count = 0;
    for (; j < jobs && shares[j].job->session.get() == &session; ++j) {
      shares[j].iv_run = run_first;
      run_count = static_cast<uint16_t>(run_count + shares[j].count);
    }
    session.compute_ivs(index, std::span(qp.iv_numbers).subspan(run_first, run_count),
                        std::span(qp.ivs).subspan(size_t{run_first} * kIvRoom,
                                                  size_t{run_count} * session.cipher().iv_bytes));
  }
  const uint16_t iv_offset = operation_iv_offset();
  for (unsigned j = 0; j < jobs; ++j) {
    const Share& share = shares[j];
    Job* job = share.job;
    const SectorRun& run = job->request->run;
    DeviceSession& session = *job->session;
    const uint32_t sector_size = session.spec().sector_size;
    const uint16_t iv_bytes = session.cipher().iv_bytes;
    const uint8_t* ivs = &qp.ivs[size_t{share.iv_run} * kIvRoom +
                                 static_cast<size_t>(share.first - share.iv_run) * iv_bytes];
    void* device_session = session.device_session(run.direction);
    for (uint16_t i = 0; i < share.count; ++i) {
      const uint32_t sector = job->issued + i;
      rte_crypto_op* op = ops[share.first + i];
      rte_mbuf* buffer = buffers[share.first + i];
      auto* data = reinterpret_cast<uint8_t*>(
          rte_pktmbuf_append(buffer, static_cast<uint16_t>(sector_size)));
      std::memcpy(data, run.src + size_t{sector} * sector_size, sector_size);
      rte_crypto_sym_op* sym = symmetric_part(op);
      sym->m_src = buffer;
      sym->m_dst = nullptr;
      sym->cipher.data.offset = 0;
      sym->cipher.data.length = sector_size;
      rte_crypto_op_attach_sym_session(op, device_session);
      if (iv_bytes != 0)
        std::memcpy(rte_crypto_op_ctod_offset(op, uint8_t*, iv_offset), ivs + size_t{i} * iv_bytes,
                    iv_bytes);
      *rte_crypto_op_ctod_offset(op, OperationTag*, iv_offset + kIvRoom) = OperationTag{job, sector};
    }
  }
}

void CryptoDevice::State::poll_forever() {
  on_poller_thread = true;
  Clock::time_point last_progress = Clock::now();
  while (true) {
    if (open_jobs.load() == 0) {
      std::unique_lock lock(idle_mutex);
      sleeping.store(true);
      // Operations of failed requests may still be out; they are taken back on the next
      // wake-up.
      idle_cv.wait(lock, [&] { return open_jobs.load() != 0; });
      sleeping.store(false);
      last_progress = Clock::now();
    }
    const Clock::time_point now = Clock::now();
    bool progress = false;
    bool hung = false;
    for (unsigned i = 0; i < queue_pairs.size(); ++i) progress |= poll(i, now, &hung);
    if (hung && !failed.load())
      fail_device(
          Status(Errc::timeout, fmt::format("{}: no answer within {} ms (device gone or hung)",
                                            device->who(), options.deadline.count())));
    if (progress) {
      last_progress = now;
    } else if (now - last_progress < kSpinTime) {
      rte_pause();
    } else {
      std::this_thread::sleep_for(kSlowPollSleep);
    }
  }
}

// Takes back what the device finished on one queue pair, then refills it from the backlog.
// True if anything came back or a request failed.
bool CryptoDevice::State::poll(unsigned index, Clock::time_point now, bool* hung) {
  QueuePair& qp = *queue_pairs[index];
  rte_crypto_op* ops[kBurst];
  uint16_t n;
  {
    std::lock_guard lock(qp.mutex);
    if (qp.in_flight == 0) {
      qp.last_progress = now;
      if (qp.backlog.empty()) return false;
      n = 0;
    } else {
      n = rte_cryptodev_dequeue_burst(id, static_cast<uint16_t>(index), ops, kBurst);
      qp.in_flight -= n;
      if (n > 0) {
        qp.last_progress = now;
        qp.waiting_for_room = false;
      }
      else if (now - qp.last_progress > options.deadline)
        *hung = true;
    }
  }
  rte_mbuf* buffers[kBurst];
  Job* completed[kBurst];
  unsigned completed_count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    buffers[i] = symmetric_part(ops[i])->m_src;
    take_back(ops[i], completed, &completed_count);
  }
  complete(qp, completed, completed_count);
  // Back to the pools in one go: each put is a ring operation (threads outside EAL's lcores
  // have no mempool cache).
  rte_pktmbuf_free_bulk(buffers, n);
  rte_mempool_put_bulk(operations, reinterpret_cast<void**>(ops), n);
  Job* refused = nullptr;
  std::string refusal;
  {
    std::lock_guard lock(qp.mutex);
    if (enqueue_backlog(qp, index)) {
      refused = qp.backlog.front();
      refusal = fmt::format(
          "{}: sector {}: the driver refused the operation with nothing in flight",
          device->who(), refused->request->run.first_sector + refused->issued);
    }
  }
  // Everything this queue pair dequeued is taken back: the refused job's sectors are all in
  // dst or still unsent, and failing it now writes nothing after its completion.
  if (refused != nullptr) {
    fail_job(refused, Status(Errc::io_error, refusal));
    release_if_done(refused);
  }
  return n > 0 || refused != nullptr;
}

// Copies an operation's result into its request's dst. A request whose last sector this
// is goes into `completed`, for complete() once the poll has taken back all it dequeued.
void CryptoDevice::State::take_back(rte_crypto_op* op, Job** completed,
                                    unsigned* completed_count) {
  const OperationTag tag =
      *rte_crypto_op_ctod_offset(op, OperationTag*, operation_iv_offset() + kIvRoom);
  Job* job = tag.job;
  if (!job->failed) {
    const SectorRun& run = job->request->run;
    const uint32_t sector_size = job->session->spec().sector_size;
    if (op->status != RTE_CRYPTO_OP_STATUS_SUCCESS) {
      fail_job(job, Status(Errc::io_error,
                         fmt::format("{}: sector {}: the device failed the operation (status {})",
                                     device->who(), run.first_sector + tag.sector,
                                     static_cast<int>(op->status))));
    } else {
      std::memcpy(run.dst + size_t{tag.sector} * sector_size,
                  rte_pktmbuf_mtod(symmetric_part(op)->m_src, const uint8_t*), sector_size);
      if (++job->done == run.sector_count) completed[(*completed_count)++] = job;
    }
  }
  ++job->returned;
  release_if_done(job);
}

// Completes the requests whose every sector came back in one poll: one lock for all of
// them, the provider's counters added once, then the callbacks. The device has none of
// their operations, so their jobs are free at once.
void CryptoDevice::State::complete(QueuePair& qp, Job* const* jobs, unsigned count) {
  if (count == 0) return;
  CryptoRequest* requests[kBurst];
  ProviderCallback* callbacks[kBurst];
  std::shared_ptr<DeviceSession> held[kBurst];  // the last one may go: outside the lock
  {
    std::lock_guard lock(qp.mutex);
    for (unsigned i = 0; i < count; ++i) {
      Job* job = jobs[i];
      requests[i] = job->request;
      callbacks[i] = job->callback;
      held[i] = std::move(job->session);
      qp.free.splice(qp.free.end(), qp.active, job->self);
    }
  }
  // Two host copies per sector (into the mbuf, out of it), and the payload crosses to the
  // device and back. Requests of one provider share its counters.
  for (unsigned i = 0; i < count;) {
    ProviderCounters& counters = held[i]->counters();
    uint64_t bytes = 0;
    unsigned same = 0;
    for (; i < count && &held[i]->counters() == &counters; ++i, ++same)
      bytes += uint64_t{requests[i]->run.sector_count} * held[i]->spec().sector_size;
    counters.payload_bytes.fetch_add(bytes, std::memory_order_relaxed);
    counters.copy_bytes.fetch_add(2 * bytes, std::memory_order_relaxed);
    counters.bytes_to_device.fetch_add(bytes, std::memory_order_relaxed);
    counters.bytes_from_device.fetch_add(bytes, std::memory_order_relaxed);
    counters.requests.fetch_add(same, std::memory_order_relaxed);
  }
  for (unsigned i = 0; i < count; ++i) callbacks[i]->provider_done(requests[i], Status::Ok());
  open_jobs.fetch_sub(count);
}

// Fails a job's request; its operations still out are dropped as they come back.
void CryptoDevice::State::fail_job(Job* job, Status status) {
  job->failed = true;
  {
    QueuePair& qp = *queue_pairs[job->queue_pair];
    std::lock_guard lock(qp.mutex);
    qp.retired.splice(qp.retired.end(), qp.active, job->self);
    if (job->issued < job->request->run.sector_count)  // sectors unsent
      qp.backlog.erase(std::find(qp.backlog.begin(), qp.backlog.end(), job));
  }
  complete_at_once(job->session->counters(), job->request, job->callback, status);
  open_jobs.fetch_sub(1);
}

// Frees a failed job once the device gave back every operation it was sent (a job that
// succeeded has none out, and complete() frees it at once).
void CryptoDevice::State::release_if_done(Job* job) {
  if (!job->failed) return;
  QueuePair& qp = *queue_pairs[job->queue_pair];
  std::shared_ptr<DeviceSession> session;  // the last one may go: outside the lock
  std::lock_guard lock(qp.mutex);
  if (job->returned != job->issued) return;
  session = std::move(job->session);
  qp.free.splice(qp.free.end(), qp.retired, job->self);
}

void CryptoDevice::State::fail_device(Status cause) {
  {
    std::lock_guard lock(failure_mutex);
    failure = cause;
  }
  failed.store(true);
  std::vector<Job*> jobs;
  for (auto& qp : queue_pairs) {
    std::lock_guard lock(qp->mutex);
    for (Job& job : qp->active) jobs.push_back(&job);
  }
  for (Job* job : jobs) {
    fail_job(job, cause);
    release_if_done(job);
  }
}

// ---- CryptoDevice ----------------------------------------------------------------------

CryptoDevice::CryptoDevice(std::string who, uint8_t id, std::unique_ptr<State> state)
    : who_(std::move(who)), id_(id), state_(std::move(state)) {
  state_->device = this;
}

Status CryptoDevice::get(std::string_view name, const CryptoDeviceOptions& options,
                         CryptoDevice** out) {
  // Devices live as long as the process: EAL cannot be stopped and started again, and a
  // hung device's operations must find their memory.
  static std::mutex mutex;
  static auto* devices = new std::map<uint8_t, CryptoDevice*>;
  struct Unusable {
    std::unique_ptr<CryptoDevice> device;
    Status reason;
  };
  static auto* unusable = new std::map<uint8_t, Unusable>;
  uint8_t id = 0;
  if (Status s = find_crypto_device(name, &id); !s.ok()) return s;
  std::lock_guard lock(mutex);
  if (auto it = devices->find(id); it != devices->end()) {
    *out = it->second;
    return Status::Ok();
  }
  if (auto it = unusable->find(id); it != unusable->end()) return it->second.reason;
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(id, &info);
  const unsigned queue_pairs =
      std::max(1u, std::min<unsigned>(info.max_nb_queue_pairs, options.max_queue_pairs));
  auto state = std::make_unique<State>();
  state->options = options;
  state->id = id;
  auto* device =
      new CryptoDevice(fmt::format("dpdk:{}", rte_cryptodev_name_get(id)), id, std::move(state));
  if (Status s = device->state_->configure(queue_pairs); !s.ok()) {
    // A half-configured device cannot be configured again (its pools' names are taken, it
    // may be started): it stays unusable, with this reason. Its object lives on as working
    // devices' do: the device may hold its pools.
    (*unusable)[id] = Unusable{std::unique_ptr<CryptoDevice>(device), s};
    return s;
  }
  (*devices)[id] = device;
  *out = device;
  return Status::Ok();
}

unsigned CryptoDevice::queue_pairs() const {
  return static_cast<unsigned>(state_->queue_pairs.size());
}

rte_mempool* CryptoDevice::session_pool() const { return state_->sessions; }

void CryptoDevice::submit(const std::shared_ptr<DeviceSession>& session,
                          std::span<CryptoRequest* const> requests, ProviderCallback* callback) {
  state_->submit(session, requests, callback);
}

}  // namespace ublkcrypt

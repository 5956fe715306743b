#include "backends/software/worker_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ublkcrypt {

namespace {

// The pool and worker index of the calling thread, when it is a worker.
thread_local const WorkerPool* current_pool = nullptr;
thread_local unsigned current_worker = 0;

// Workers run this much nicer than the thread that made them. They are the datapath's
// parallel stage; the threads feeding them (an engine or ublk queue thread, one per queue)
// are serial, and must not wait behind a worker for a core.
constexpr int kWorkerNiceIncrement = 5;

void lower_this_thread_priority() {
  const id_t self = static_cast<id_t>(::gettid());
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, self);
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, self, std::min(19, nice + kWorkerNiceIncrement));
}

}  // namespace

void WorkerPool::TaskRing::push(std::span<const SectorTask> tasks) {
  if (count_ + tasks.size() > ring_.size()) {
    // A power of two, so positions wrap with a mask: a division per task showed in profiles.
    size_t capacity = std::max<size_t>(64, ring_.size());
    while (capacity < count_ + tasks.size()) capacity *= 2;
    std::vector<SectorTask> bigger(capacity);
    for (size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  const size_t mask = ring_.size() - 1;
  for (const SectorTask& task : tasks) ring_[(head_ + count_++) & mask] = task;
}

void WorkerPool::TaskRing::take(size_t n, std::vector<SectorTask>* out) {
  const size_t mask = ring_.size() - 1;
  for (size_t i = 0; i < n; ++i) out->push_back(ring_[(head_ + i) & mask]);
  head_ = (head_ + n) & mask;
  count_ -= n;
}

WorkerPool::WorkerPool(unsigned threads, unsigned helper_slots)
    : helper_slots_(std::min(helper_slots, 64u)) {
  threads = std::max(1u, threads);
  own_.resize(threads);
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this, i] { work(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::post(std::span<const SectorTask> tasks) {
  if (tasks.empty()) return;
  unsigned wake = 0;
  {
    std::lock_guard lock(mutex_);
    (current_pool == this ? own_[current_worker] : shared_).push(tasks);
    queued_ += tasks.size();
    wake = std::min<size_t>(sleeping_, tasks.size());
  }
  if (wake == 0) return;
  if (wake >= workers()) {
    wake_.notify_all();
  } else {
    for (unsigned i = 0; i < wake; ++i) wake_.notify_one();
  }
}

bool WorkerPool::take_slice(unsigned lane, std::vector<SectorTask>* out) {
  out->clear();
  size_t n = 0;
  const bool worker = lane < workers();
  if (shared_.size() > 0) {
    // Leave a fair share for the others: a slice of the queue, not all of it.
    n = std::clamp<size_t>(shared_.size() / parallelism(), 1, kMaxSlice);
    shared_.take(n, out);
  } else if (worker && own_[lane].size() > 0) {
    // A fair share here too: the slices of a large run, posted by this worker, must leave
    // some for the worker that post() woke to steal: the poster gets back to the lock
    // first (under TCG, always), and would run every slice alone at queue depth 1.
    n = std::clamp<size_t>(own_[lane].size() / parallelism(), 1, kMaxSlice);
    own_[lane].take(n, out);
  } else {
    auto victim = std::max_element(own_.begin(), own_.end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();
    });
    if (victim->size() == 0) return false;
    n = std::clamp<size_t>(victim->size() / 2, 1, kMaxSlice);
    victim->take(n, out);
  }
  queued_ -= n;
  return true;
}

void WorkerPool::work(unsigned worker) {
  lower_this_thread_priority();
  current_pool = this;
  current_worker = worker;
  std::vector<SectorTask> taken;
  taken.reserve(kMaxSlice);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (!take_slice(worker, &taken)) {
        if (stopping_) return;
        ++sleeping_;
        wake_.wait(lock);
        --sleeping_;
      }
    }
    run(taken, worker);
  }
}

void WorkerPool::run(std::vector<SectorTask>& tasks, unsigned lane) {
  for (size_t begin = 0; begin < tasks.size();) {
    size_t end = begin + 1;
    while (end < tasks.size() && tasks[end].work == tasks[begin].work) ++end;
    tasks[begin].work->run(std::span(tasks).subspan(begin, end - begin), lane);
    begin = end;
  }
}

bool WorkerPool::help() {
  // A relaxed look first: an idle queue thread asks often, and mostly finds nothing.
  if (queued_.load(std::memory_order_relaxed) == 0) return false;
  uint64_t busy = helpers_busy_.load(std::memory_order_relaxed);
  unsigned slot = 0;
  do {
    while (slot < helper_slots_ && (busy >> slot) & 1) ++slot;
    if (slot == helper_slots_) return false;
  } while (!helpers_busy_.compare_exchange_weak(busy, busy | (uint64_t{1} << slot),
                                                std::memory_order_acquire));
  const unsigned lane = workers() + slot;
  // Per thread: helpers come and go, and a slice is at most kMaxSlice tasks.
  thread_local std::vector<SectorTask> taken;
  bool ran = false;
  {
    std::lock_guard lock(mutex_);
    ran = take_slice(lane, &taken);
  }
  if (ran) run(taken, lane);
  helpers_busy_.fetch_and(~(uint64_t{1} << slot), std::memory_order_release);
  return ran;
}

}  // namespace ublkcrypt

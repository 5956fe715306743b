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

// Whether `next` starts a new slice after one of `length` tasks and `sectors` sectors whose
// last task belongs to the cut run `split` (see kSliceSectors). The pieces of a cut run sit
// side by side (posted together), and each goes to its own lane.
bool starts_slice(size_t length, uint64_t sectors, const void* split, const SectorTask& next) {
  return length == WorkerPool::kMaxSlice || sectors >= WorkerPool::kSliceSectors ||
         (next.split != nullptr && next.split == split);
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

size_t WorkerPool::TaskRing::take_slice(std::vector<SectorTask>* out) {
  const size_t mask = ring_.size() - 1;
  size_t n = 0;
  uint64_t sectors = 0;
  for (; n < count_; ++n) {
    const SectorTask& task = ring_[(head_ + n) & mask];
    if (n > 0 && starts_slice(n, sectors, out->back().split, task)) break;
    out->push_back(task);
    sectors += task.count;
  }
  head_ = (head_ + n) & mask;
  count_ -= n;
  return n;
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
    const bool own = current_pool == this;
    TaskRing& ring = own ? own_[current_worker] : shared_;
    ring.push(tasks);
    queued_.fetch_add(tasks.size(), std::memory_order_relaxed);
    // A worker takes from the shared queue first, then from its own.
    const bool poster_runs_next = own && shared_.size() == 0 && ring.size() == tasks.size();
    wake = sleepers_to_wake(tasks, poster_runs_next);
  }
  if (wake == 0) return;
  if (wake >= workers()) {
    wake_.notify_all();
  } else {
    for (unsigned i = 0; i < wake; ++i) wake_.notify_one();
  }
}

unsigned WorkerPool::sleepers_to_wake(std::span<const SectorTask> tasks,
                                      bool poster_runs_next) const {
  if (sleeping_ == 0) return 0;
  // The slices `tasks` make, counted as TaskRing::take_slice cuts them.
  unsigned slices = 0;
  uint64_t sectors = 0;
  size_t length = 0;
  const void* split = nullptr;
  for (const SectorTask& task : tasks) {
    if (length == 0 || starts_slice(length, sectors, split, task)) {
      ++slices;
      sectors = 0;
      length = 0;
    }
    sectors += task.count;
    ++length;
    split = task.split;
  }
  // A worker whose next slice this is runs it on the core whose cache holds the buffers (a
  // callback resubmitting what it just finished): a sleeper woken for it would only move it
  // to another core.
  if (poster_runs_next) slices -= 1;
  return std::min(sleeping_, slices);
}

bool WorkerPool::take_slice(unsigned lane, std::vector<SectorTask>* out) {
  out->clear();
  const bool worker = lane < workers();
  size_t n = 0;
  if (shared_.size() > 0) {
    n = shared_.take_slice(out);
  } else if (worker && own_[lane].size() > 0) {
    n = own_[lane].take_slice(out);
  } else {
    auto victim = std::max_element(own_.begin(), own_.end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();
    });
    if (victim->size() == 0) return false;
    n = victim->take_slice(out);
  }
  queued_.fetch_sub(n, std::memory_order_relaxed);
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

void WorkerPool::run(std::span<const SectorTask> tasks, unsigned lane) {
  for (size_t begin = 0; begin < tasks.size();) {
    size_t end = begin + 1;
    while (end < tasks.size() && tasks[end].work == tasks[begin].work) ++end;
    tasks[begin].work->run(tasks.subspan(begin, end - begin), lane);
    begin = end;
  }
}

int WorkerPool::claim_helper_slot() {
  uint64_t busy = helpers_busy_.load(std::memory_order_relaxed);
  unsigned slot = 0;
  do {
    while (slot < helper_slots_ && (busy >> slot) & 1) ++slot;
    if (slot == helper_slots_) return -1;
  } while (!helpers_busy_.compare_exchange_weak(busy, busy | (uint64_t{1} << slot),
                                                std::memory_order_acquire));
  return static_cast<int>(slot);
}

void WorkerPool::release_helper_slot(int slot) {
  helpers_busy_.fetch_and(~(uint64_t{1} << slot), std::memory_order_release);
}

bool WorkerPool::help() {
  // A relaxed look first: an idle queue thread asks often, and mostly finds nothing.
  if (queued_.load(std::memory_order_relaxed) == 0) return false;
  const int slot = claim_helper_slot();
  if (slot < 0) return false;
  // Per thread: helpers come and go, and a slice is at most kMaxSlice tasks.
  thread_local std::vector<SectorTask> taken;
  bool ran = false;
  {
    std::lock_guard lock(mutex_);
    ran = take_slice(workers() + slot, &taken);
  }
  if (ran) run(taken, workers() + slot);
  release_helper_slot(slot);
  return ran;
}

bool WorkerPool::run_here(std::span<const SectorTask> tasks) {
  const int slot = claim_helper_slot();
  if (slot < 0) return false;
  run(tasks, workers() + slot);
  release_helper_slot(slot);
  return true;
}

}  // namespace ublkcrypt

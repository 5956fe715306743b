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
// are serial, and with as many workers as cores a queue thread got only 2/3 of a core on
// two cores: `engine-bench` encrypted 128 KiB writes at 0.69-0.76x of min(plain, provider),
// and at 0.87-1.03x with workers at +5 (same runs, alternating). Alone (the provider
// benchmark) the workers still get every core.
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

WorkerPool::WorkerPool(unsigned threads) {
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
  if (wake >= size()) {
    wake_.notify_all();
  } else {
    for (unsigned i = 0; i < wake; ++i) wake_.notify_one();
  }
}

bool WorkerPool::take_slice(unsigned worker, std::vector<SectorTask>* out) {
  out->clear();
  size_t n = 0;
  if (shared_.size() > 0) {
    // Leave a fair share for the others: a slice of the queue, not all of it.
    n = std::clamp<size_t>(shared_.size() / size(), 1, kMaxSlice);
    shared_.take(n, out);
  } else if (own_[worker].size() > 0) {
    // A fair share here too: the slices of a large run, posted by this worker, must leave
    // some for the worker that post() woke to steal (under TCG the poster always got back
    // to the lock first and ran every slice alone: 64 KiB-1 MiB at QD1 lost 25-40%).
    n = std::clamp<size_t>(own_[worker].size() / size(), 1, kMaxSlice);
    own_[worker].take(n, out);
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
    for (size_t begin = 0; begin < taken.size();) {
      size_t end = begin + 1;
      while (end < taken.size() && taken[end].work == taken[begin].work) ++end;
      taken[begin].work->run(std::span(taken).subspan(begin, end - begin), worker);
      begin = end;
    }
  }
}

}  // namespace ublkcrypt

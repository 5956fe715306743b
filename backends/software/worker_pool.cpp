#include "backends/software/worker_pool.h"

#include <algorithm>

namespace ublkcrypt {

WorkerPool::WorkerPool(unsigned threads) {
  threads = std::max(1u, threads);
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
    if (queued_ + tasks.size() > ring_.size()) {
      std::vector<SectorTask> bigger(std::max<size_t>(64, 2 * (queued_ + tasks.size())));
      for (size_t i = 0; i < queued_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
      ring_ = std::move(bigger);
      head_ = 0;
    }
    for (const SectorTask& task : tasks) ring_[(head_ + queued_++) % ring_.size()] = task;
    wake = std::min<size_t>(sleeping_, tasks.size());
  }
  if (wake == 0) return;
  if (wake >= size()) {
    wake_.notify_all();
  } else {
    for (unsigned i = 0; i < wake; ++i) wake_.notify_one();
  }
}

void WorkerPool::work(unsigned worker) {
  std::vector<SectorTask> taken;
  taken.reserve(kMaxSlice);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (queued_ == 0) {
        if (stopping_) return;
        ++sleeping_;
        wake_.wait(lock);
        --sleeping_;
      }
      // Leave a fair share for the others: take a slice of the queue, not all of it.
      size_t n = std::clamp<size_t>(queued_ / size(), 1, kMaxSlice);
      taken.clear();
      for (size_t i = 0; i < n; ++i) taken.push_back(ring_[(head_ + i) % ring_.size()]);
      head_ = (head_ + n) % ring_.size();
      queued_ -= n;
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

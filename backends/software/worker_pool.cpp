#include "backends/software/worker_pool.h"

#include <algorithm>

namespace ublkcrypt {

// At most this many tasks per lock: enough to amortise the lock over 4 KiB tasks, few
// enough that a deep queue still spreads over every worker.
constexpr size_t kMaxTake = 16;

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
    queue_.insert(queue_.end(), tasks.begin(), tasks.end());
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
  taken.reserve(kMaxTake);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (queue_.empty()) {
        if (stopping_) return;
        ++sleeping_;
        wake_.wait(lock);
        --sleeping_;
      }
      // Leave a fair share for the others: take a slice of the queue, not all of it.
      size_t n = std::clamp<size_t>(queue_.size() / size(), 1, kMaxTake);
      taken.assign(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
    }
    for (const SectorTask& task : taken) task.work->run(task, worker);
  }
}

}  // namespace ublkcrypt

// WorkerPool: the software provider's threads, sharing one queue of sector tasks, and the
// threads that wait for them.
//
// A thread that submits work and would otherwise sleep until it completes (an engine or
// ublk queue thread, a benchmark) runs queued tasks itself through help(): it is one more
// of the pool's lanes while it waits. A queue thread feeding the workers has its own work
// first (storage I/O, completions); when it has none, the cipher gets its core at once
// instead of after a sleep, a wakeup and a worker's turn on the scheduler, so no core idles
// while the queue thread waits for workers the scheduler has not run yet.
//
// Lanes take a slice of tasks per lock: consecutive tasks up to kSliceSectors sectors, so
// the lock is not paid per 4 KiB sector and CBC encryption gets a full kernel call's worth
// of independent sectors at once; the pieces a large run was cut into go to different
// lanes. A share of the queue per lane (queued tasks / lanes) would hand the CBC kernel a
// few sectors per call whenever the queue is shallow, and take the lock every few sectors.
// A worker sleeps only when every queue is empty, and submitters wake only as many
// sleepers as there are slices for them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "backends/provider.h"

namespace ublkcrypt {

class SectorWork;

// A slice of one request's run for one worker: sectors [skip, skip+count).
struct SectorTask {
  SectorWork* work = nullptr;
  CryptoRequest* request = nullptr;
  ProviderCallback* callback = nullptr;
  void* split = nullptr;  // shared by the slices of a request cut across workers
  uint32_t skip = 0;
  uint32_t count = 0;
};

// What tasks run on; `worker` indexes per-lane state (keyed contexts): workers first, then
// the helper slots (see WorkerPool::lanes()). A worker hands
// over consecutive tasks of the same SectorWork together, so per-request bookkeeping
// (counters, references) is paid once per slice rather than once per 4 KiB task.
class SectorWork {
 public:
  virtual void run(std::span<const SectorTask> tasks, unsigned worker) = 0;

 protected:
  ~SectorWork() = default;
};

class WorkerPool {
 public:
  // `threads` workers (at least 1) and `helper_slots` threads that may help() at once.
  WorkerPool(unsigned threads, unsigned helper_slots);
  // Runs every queued task, then joins the workers.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // A slice ends once it holds this many sectors: a whole CBC kernel call (vaes_kernels.h's
  // kMaxSectors) and 64 KiB of 4 KiB sectors per lock; ...
  static constexpr uint64_t kSliceSectors = 16;
  // ... or this many tasks, whatever their size.
  static constexpr size_t kMaxSlice = 16;

  unsigned workers() const { return static_cast<unsigned>(threads_.size()); }
  // Index space of the per-lane state a SectorWork keeps: workers, then helper slots.
  unsigned lanes() const { return workers() + helper_slots_; }
  // How many threads run tasks at once when a submitter helps: what a run is cut for.
  unsigned parallelism() const { return workers() + 1; }

  // Queues the tasks. Safe from any thread. Tasks from outside the pool start in order,
  // before any worker's own. Tasks a worker posts (work that completing work made, such as
  // a callback resubmitting) go to that worker's own queue: their buffers are warm in its
  // cache, and moving them to the other core cost a quarter of two-worker throughput. An
  // idle worker steals half of the longest such queue, so no core idles while work waits.
  void post(std::span<const SectorTask> tasks);

  // Runs one slice of queued tasks on the calling thread, in a free helper slot. False
  // (at once) when nothing waits for a worker or every helper slot is taken. Safe from any
  // thread but a worker's.
  bool help();

  // Runs `tasks` on the calling thread at once, in a free helper slot: for a submitter that
  // gains more from skipping the handoff (a wakeup there and back) than from another core.
  // False, with nothing run, when every helper slot is taken. Not from a worker.
  bool run_here(std::span<const SectorTask> tasks);

 private:
  // FIFO of tasks in a ring of 2^k slots grown by doubling, never shrunk: a deque allocated
  // and freed a block every few tasks, which showed in profiles of 4 KiB work.
  class TaskRing {
   public:
    size_t size() const { return count_; }
    void push(std::span<const SectorTask> tasks);
    // Moves the slice at the front (see kSliceSectors) into `out`; its length.
    size_t take_slice(std::vector<SectorTask>* out);

   private:
    std::vector<SectorTask> ring_;
    size_t head_ = 0;  // index of the oldest task
    size_t count_ = 0;
  };

  void work(unsigned worker);
  // Moves the next slice for `lane` into `out`; false when every queue is empty. A helper
  // lane has no queue of its own: it takes from the shared queue or steals.
  bool take_slice(unsigned lane, std::vector<SectorTask>* out);
  // Sleepers to wake for `tasks`, just queued: one per slice they make, but none for a slice
  // the posting worker takes next itself. Called with mutex_ held.
  unsigned sleepers_to_wake(std::span<const SectorTask> tasks, bool poster_runs_next) const;
  // Runs `tasks` on `lane`, consecutive tasks of one SectorWork together.
  static void run(std::span<const SectorTask> tasks, unsigned lane);
  // A helper slot for the calling thread (its lane: workers() + slot), or -1 if all are taken.
  int claim_helper_slot();
  void release_helper_slot(int slot);

  std::mutex mutex_;
  std::condition_variable wake_;
  TaskRing shared_;               // posted from outside the pool
  std::vector<TaskRing> own_;     // posted by worker i, run by it unless stolen
  // Tasks in all the rings: changed under mutex_, read without it by help().
  std::atomic<size_t> queued_{0};
  unsigned sleeping_ = 0;  // workers waiting on wake_
  bool stopping_ = false;
  unsigned helper_slots_;
  std::atomic<uint64_t> helpers_busy_{0};  // bit i: helper slot i is taken
  std::vector<std::thread> threads_;
};

}  // namespace ublkcrypt

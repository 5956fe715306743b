// How the worker pool cuts its queue into slices (worker_pool.h), and that the software
// provider's runs, cut across any number of lanes, have every sector transformed exactly
// once.
#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <numeric>

#include "backends/software/software_provider.h"
#include "backends/software/worker_pool.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

// Records each slice it is handed; a task of count 0 holds its lane until released.
struct RecordingWork final : SectorWork {
  std::promise<void> entered;
  std::shared_future<void> release;
  std::mutex mutex;
  std::vector<std::vector<SectorTask>> slices;
  void run(std::span<const SectorTask> tasks, unsigned) override {
    if (tasks.size() == 1 && tasks[0].count == 0) {
      entered.set_value();
      release.wait();
      return;
    }
    std::lock_guard lock(mutex);
    slices.emplace_back(tasks.begin(), tasks.end());
  }
};

}  // namespace

TEST_CASE("a slice is the queue's next tasks up to 16 sectors, one piece of a cut run each") {
  RecordingWork work;
  std::promise<void> release;
  work.release = release.get_future().share();
  // Lets the held worker go however the test ends, before the pool joins it.
  struct Release {
    std::promise<void>& promise;
    ~Release() { promise.set_value(); }
  };
  WorkerPool pool(1, 1);
  Release releaser{release};
  // The worker is held, so this thread, helping, takes every slice in queue order.
  SectorTask blocker{&work, nullptr, nullptr, nullptr, 0, 0};
  pool.post(std::span(&blocker, 1));
  work.entered.get_future().wait();

  int split_a = 0, split_b = 0;  // two cut runs' shared state; only the address matters
  std::vector<SectorTask> posted;
  auto task = [&](uint32_t count, void* split = nullptr) {
    posted.push_back(SectorTask{&work, nullptr, nullptr, split, 0, count});
  };
  for (int i = 0; i < 21; ++i) task(1);  // 4 KiB requests: 16, then 5 and what follows
  task(3);
  task(7);
  task(9, &split_a);  // a run cut in three: each piece to its own slice
  task(9, &split_a);
  task(8, &split_a);
  task(40);           // joins the last piece's slice, which is under 16 sectors
  task(2, &split_b);
  task(2, &split_b);
  task(5);
  for (int i = 0; i < 18; ++i) task(1);
  pool.post(posted);
  while (pool.help()) {
  }

  std::vector<SectorTask> ran;
  for (const auto& slice : work.slices) {
    CAPTURE(ran.size());
    REQUIRE(!slice.empty());
    CHECK(slice.size() <= WorkerPool::kMaxSlice);
    uint64_t sectors = 0;
    for (size_t i = 0; i < slice.size(); ++i) {
      // No task joins a slice that already holds 16 sectors ...
      CHECK(sectors < WorkerPool::kSliceSectors);
      sectors += slice[i].count;
      // ... nor a piece of the cut run the previous task belongs to.
      if (i > 0 && slice[i].split != nullptr) CHECK(slice[i].split != slice[i - 1].split);
    }
    ran.insert(ran.end(), slice.begin(), slice.end());
  }
  // Every task once, in the order posted.
  REQUIRE(ran.size() == posted.size());
  for (size_t i = 0; i < ran.size(); ++i) {
    CAPTURE(i);
    CHECK(ran[i].count == posted[i].count);
    CHECK(ran[i].split == posted[i].split);
  }
  // And no slice is cut shorter than the rules ask: 16 single sectors; 5 more + 3 + 7 + the
  // first piece (past 16 with it); the second piece alone; the third + 40; a piece of the
  // other run alone; its second piece + 5 + 9 single sectors; the 9 left.
  std::vector<size_t> lengths;
  for (const auto& slice : work.slices) lengths.push_back(slice.size());
  const std::vector<size_t> expected = {16, 8, 1, 2, 1, 11, 9};
  CHECK(lengths == expected);
}

TEST_CASE("in place, every sector of a run is transformed exactly once, for any lanes") {
  // In place, a sector run twice or never differs from the reference; sizes around the cut
  // threshold and odd counts give pieces of unequal length.
  CipherSpec spec = spec_of("aes-xts-plain64", 512, 512);
  auto key = pattern(64, 7, 3);
  auto reference = make_software_provider(1);
  for (unsigned workers : {1u, 2u, 3u, 5u}) {
    auto provider = make_software_provider(workers);
    auto session = open(*provider, spec, key);
    for (uint32_t sectors : {1u, 7u, 127u, 128u, 129u, 1027u}) {
      CAPTURE(workers);
      CAPTURE(sectors);
      auto plain = pattern(size_t{512} * sectors, 29, sectors);
      auto expected = crypt(*reference, spec, key, Direction::encrypt, plain, 5);
      auto buffer = plain;
      SectorRun run{Direction::encrypt, buffer.data(), buffer.data(), 5, sectors};
      REQUIRE(run_once(*session, run).ok());
      CHECK(buffer == expected);
      run.direction = Direction::decrypt;
      REQUIRE(run_once(*session, run).ok());
      CHECK(buffer == plain);
    }
  }
}

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "bench/cpu_clock.h"
#include "bench/workload.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

namespace {

Workload make(const char* rw, uint32_t bs, unsigned jobs = 1) {
  Workload w;
  w.rw = rw;
  w.block_bytes = bs;
  w.jobs = jobs;
  w.runtime_seconds = 1;
  return w;
}

// Completes every sent I/O at the next wait, and records how many each kick sent.
class CountingPort final : public IoPort {
 public:
  explicit CountingPort(std::vector<unsigned>* kicks) : kicks_(kicks) {}
  void submit(unsigned slot, BlockOp, uint64_t, uint32_t, uint8_t*) override {
    queued_.push_back(slot);
  }
  void kick() override {
    if (queued_.empty()) return;
    kicks_->push_back(unsigned(queued_.size()));
    sent_.insert(sent_.end(), queued_.begin(), queued_.end());
    queued_.clear();
  }
  void wait(int, const Done& report) override {
    const std::vector<unsigned> completed = std::move(sent_);
    sent_.clear();
    for (unsigned slot : completed) report(slot, Status::Ok());  // may submit and kick
  }

 private:
  std::vector<unsigned>* kicks_;
  std::vector<unsigned> queued_, sent_;
};

// The sizes of the kicks a one-pass randread of 64 blocks at iodepth 4 makes.
std::vector<unsigned> kick_sizes(unsigned iodepth_batch) {
  Workload w = make("randread", 4096);
  w.runtime_seconds = 0;
  w.size_bytes = 64 * 4096;
  w.iodepth = 4;
  w.iodepth_batch = iodepth_batch;
  std::vector<unsigned> kicks;
  PortFactory ports = [&kicks](unsigned, uint32_t, std::unique_ptr<IoPort>* out) {
    *out = std::make_unique<CountingPort>(&kicks);
    return Status::Ok();
  };
  WorkloadResult r;
  REQUIRE(run_workload(ports, w, w.size_bytes, &r).ok());
  CHECK(r.read_ops == 64);
  return kicks;
}

}  // namespace

TEST_CASE("each I/O is submitted on its own by default, as fio's iodepth_batch_submit=1") {
  for (unsigned n : kick_sizes(1)) CHECK(n == 1);
  // 0 = iodepth: the first fill goes in one submission, so does each full round after it.
  const std::vector<unsigned> all = kick_sizes(0);
  REQUIRE_FALSE(all.empty());
  CHECK(all.front() == 4);
  for (unsigned n : kick_sizes(2)) CHECK(n <= 2);
  CHECK(validate_workload([] {
          Workload w = make("randread", 4096);
          w.iodepth_batch = w.iodepth + 1;
          return w;
        }(), "/tmp/img", 1 << 20, 512).message().find("iodepth_batch") != std::string::npos);
}

TEST_CASE("serial CPU is the job thread's own, not the process's") {
  // Each wait burns 1 ms of the job thread's CPU. During the first wait, another thread of
  // the process burns 10 ms of its own CPU while the job thread sleeps, as io-wq or
  // provider workers would: the process's CPU must count it, the job's serial CPU must not.
  // The handshake makes the other thread's CPU fall inside the run whatever the load.
  struct Beside {
    std::mutex mutex;
    std::condition_variable changed;
    bool go = false, burnt = false;
  } beside_state;
  class BurningPort final : public IoPort {
   public:
    explicit BurningPort(Beside* beside) : beside_(beside) {}
    void submit(unsigned slot, BlockOp, uint64_t, uint32_t, uint8_t*) override {
      sent_.push_back(slot);
    }
    void kick() override {}
    void wait(int, const Done& report) override {
      if (!asked_) {
        asked_ = true;
        std::unique_lock lock(beside_->mutex);
        beside_->go = true;
        beside_->changed.notify_all();
        beside_->changed.wait(lock, [&] { return beside_->burnt; });
      }
      const double until = thread_cpu_seconds() + 0.001;
      while (thread_cpu_seconds() < until) {
      }
      const std::vector<unsigned> completed = std::move(sent_);
      sent_.clear();
      for (unsigned slot : completed) report(slot, Status::Ok());
    }

   private:
    Beside* beside_;
    bool asked_ = false;
    std::vector<unsigned> sent_;
  };
  std::thread beside([&] {
    std::unique_lock lock(beside_state.mutex);
    beside_state.changed.wait(lock, [&] { return beside_state.go; });
    lock.unlock();
    const double until = thread_cpu_seconds() + 0.010;
    while (thread_cpu_seconds() < until) {
    }
    lock.lock();
    beside_state.burnt = true;
    beside_state.changed.notify_all();
  });
  Workload w = make("randread", 4096);
  w.runtime_seconds = 0;
  w.size_bytes = 64 * 4096;
  w.iodepth = 4;
  PortFactory ports = [&](unsigned, uint32_t, std::unique_ptr<IoPort>* out) {
    *out = std::make_unique<BurningPort>(&beside_state);
    return Status::Ok();
  };
  WorkloadResult r;
  const Status s = run_workload(ports, w, w.size_bytes, &r);
  beside.join();
  REQUIRE(s.ok());
  // 64 I/Os, 4 per wait: at least 16 waits of 1 ms on the job's thread.
  CHECK(r.serial_cpu_seconds >= 0.016);
  CHECK(r.serial_cpu_seconds <= r.cpu_seconds);
  CHECK(r.cpu_seconds - r.serial_cpu_seconds >= 0.010);  // the other thread's, not the job's
}

TEST_CASE("random offsets stay inside the region and are block-aligned") {
  Workload w = make("randread", 4096);
  const uint64_t region = 1 << 20;
  OperationStream stream(w, 0, region);
  std::set<uint64_t> seen;
  for (int i = 0; i < 20000; ++i) {
    IoStep step;
    REQUIRE(stream.next(&step));
    CHECK(step.offset % 4096 == 0);
    CHECK(step.offset + 4096 <= region);
    CHECK_FALSE(step.write);
    seen.insert(step.offset);
  }
  CHECK(seen.size() == region / 4096);  // 256 blocks, 20000 draws: every one is hit
}

TEST_CASE("sequential jobs split the region into disjoint slices, in order") {
  Workload w = make("write", 65536, 4);
  w.runtime_seconds = 0;  // one pass
  const uint64_t region = 64 * 65536;
  std::set<uint64_t> all;
  for (unsigned j = 0; j < 4; ++j) {
    OperationStream stream(w, j, region);
    CHECK(stream.pass_bytes() == region / 4);
    IoStep step;
    uint64_t expect = j * (region / 4);
    int n = 0;
    while (stream.next(&step)) {
      CHECK(step.write);
      CHECK(step.offset == expect);
      expect += 65536;
      all.insert(step.offset);
      ++n;
    }
    CHECK(n == 16);
  }
  CHECK(all.size() == 64);  // together the jobs cover the region exactly once
}

TEST_CASE("a time-based sequential job wraps around its slice") {
  Workload w = make("read", 4096);
  OperationStream stream(w, 0, 3 * 4096);
  IoStep step;
  uint64_t offsets[5];
  for (uint64_t& o : offsets) {
    REQUIRE(stream.next(&step));
    o = step.offset;
  }
  CHECK(offsets[3] == 0);
  CHECK(offsets[4] == 4096);
}

TEST_CASE("the read/write mix of a seeded run is within tolerance and reproducible") {
  Workload w = make("randrw", 4096);
  w.read_percent = 70;
  w.seed = 42;
  OperationStream a(w, 0, 1 << 30), b(w, 0, 1 << 30);
  int reads = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    IoStep x, y;
    a.next(&x);
    b.next(&y);
    CHECK(x.offset == y.offset);
    CHECK(x.write == y.write);
    reads += x.write ? 0 : 1;
  }
  CHECK(double(reads) / n == doctest::Approx(0.70).epsilon(0.01));
  // Another job of the same workload draws a different stream.
  OperationStream other(w, 1, 1 << 30);
  IoStep p, q;
  OperationStream again(w, 0, 1 << 30);
  other.next(&p);
  again.next(&q);
  CHECK(p.offset != q.offset);
}

TEST_CASE("validation names the target and the cause") {
  const std::string t = "/tmp/img";
  CHECK(validate_workload(make("randread", 4096), t, 1 << 20, 512).ok());
  Status s = validate_workload(make("sideways", 4096), t, 1 << 20, 512);
  CHECK(s.message().find("unknown --rw 'sideways'") != std::string::npos);
  CHECK(s.message().starts_with("bench /tmp/img: "));
  CHECK(validate_workload(make("read", 1000), t, 1 << 20, 512).code() == Errc::invalid_argument);
  CHECK(validate_workload(make("read", 512), t, 1 << 20, 4096).code() == Errc::invalid_argument);
  Workload zero = make("read", 4096);
  zero.runtime_seconds = 0;
  CHECK(validate_workload(zero, t, 1 << 20, 512).message().find("duration of zero") !=
        std::string::npos);
  Workload big = make("read", 4096);
  big.size_bytes = 2 << 20;
  CHECK(validate_workload(big, t, 1 << 20, 512).message().find("too small") != std::string::npos);
  // Four sequential jobs need four blocks.
  CHECK_FALSE(validate_workload(make("read", 1 << 20, 4), t, 3 << 20, 512).ok());
  Workload mix = make("randrw", 4096);
  mix.read_percent = 101;
  CHECK_FALSE(validate_workload(mix, t, 1 << 20, 512).ok());
}

}  // namespace ublkcrypt

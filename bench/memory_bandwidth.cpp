#include "bench/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "bench/cpu_clock.h"

namespace ublkcrypt {

namespace {

// Bytes copied by `threads` threads in about `seconds`; -1 when memory ran out.
double copy_rate(unsigned threads, double seconds, uint64_t bytes) {
  std::vector<char*> buffers;
  for (unsigned i = 0; i < 2 * threads; ++i) {
    auto* b = static_cast<char*>(std::aligned_alloc(4096, bytes));
    if (b == nullptr) break;
    std::memset(b, int(i), bytes);  // fault every page in before timing
    buffers.push_back(b);
  }
  double rate = -1;
  if (buffers.size() == 2 * threads) {
    std::atomic<uint64_t> copied{0};
    const Stopwatch clock;
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        char* a = buffers[2 * t];
        char* b = buffers[2 * t + 1];
        uint64_t mine = 0;
        while (clock.wall_seconds() < seconds) {
          std::memcpy(b, a, bytes);
          std::swap(a, b);
          mine += bytes;
        }
        copied += mine;
      });
    for (std::thread& w : workers) w.join();
    rate = mb_per_second(copied.load(), clock.wall_seconds());
  }
  for (char* b : buffers) std::free(b);
  return rate;
}

}  // namespace

Status measure_memory_bandwidth(double seconds, uint64_t buffer_bytes, MemoryBandwidth* out) {
  out->threads = std::max(1u, std::thread::hardware_concurrency());
  out->copy_mbs_one_thread = copy_rate(1, seconds, buffer_bytes);
  out->copy_mbs_all_threads = copy_rate(out->threads, seconds, buffer_bytes);
  if (out->copy_mbs_one_thread < 0 || out->copy_mbs_all_threads < 0)
    return Status(Errc::no_memory, "bench: memory bandwidth buffers");
  return Status::Ok();
}

}  // namespace ublkcrypt

// Wall and CPU time of a measured interval. CPU time is the whole process's (getrusage
// RUSAGE_SELF): io_uring's io-wq workers and a provider's worker pool are threads of this
// process, and their work is part of what a byte costs.
//
// Header-only, so tools/ (cipher_benchmark) counts CPU time the same way without linking
// the bench library.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdint>

namespace ublkcrypt {

using BenchClock = std::chrono::steady_clock;

// User + system CPU seconds of this process so far.
inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

class Stopwatch {
 public:
  Stopwatch() : wall0_(BenchClock::now()), cpu0_(process_cpu_seconds()) {}
  double wall_seconds() const {
    return std::chrono::duration<double>(BenchClock::now() - wall0_).count();
  }
  double cpu_seconds() const { return process_cpu_seconds() - cpu0_; }

 private:
  BenchClock::time_point wall0_;
  double cpu0_;
};

// MB/s with MB = 10^6 bytes, as fio and the other verbs print; 0 for an empty interval.
inline double mb_per_second(uint64_t bytes, double seconds) {
  return seconds > 0 ? double(bytes) / 1e6 / seconds : 0;
}

}  // namespace ublkcrypt

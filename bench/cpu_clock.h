// Wall and CPU time of a measured interval. CPU time is the whole process's (getrusage
// RUSAGE_SELF): io_uring's io-wq workers and a provider's worker pool are threads of this
// process, and their work is part of what a byte costs.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>

namespace ublkcrypt {

using BenchClock = std::chrono::steady_clock;

// The moment `seconds` from now.
inline BenchClock::time_point deadline_after(double seconds) {
  return BenchClock::now() + std::chrono::duration_cast<BenchClock::duration>(
                                 std::chrono::duration<double>(seconds));
}

// User + system CPU seconds of this process so far.
inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU seconds of the calling thread alone so far.
inline double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// CPU seconds every process on the machine has run so far (/proc/stat: user, nice, system,
// irq, softirq, steal; not idle or iowait), or a negative number where /proc/stat cannot
// be read. Its movement less this process's shows what the rest of a shared machine took.
inline double machine_busy_seconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return -1;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                            &system, &idle, &iowait, &irq, &softirq, &steal);
  std::fclose(f);
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (n < 4 || hz <= 0) return -1;
  return double(user + nice + system + irq + softirq + steal) / double(hz);
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

#include "bench/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ublkcrypt {

ProgressDisplay::ProgressDisplay() : ProgressDisplay(::isatty(STDERR_FILENO) == 1) {}

ProgressDisplay::ProgressDisplay(bool enabled) : enabled_(enabled) {
  if (enabled_) thread_ = std::thread([this] { draw_loop(); });
}

ProgressDisplay::~ProgressDisplay() { done(); }

void ProgressDisplay::phase(const std::string& label, double seconds) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  label_ = label;
  seconds_ = seconds;
  started_ = std::chrono::steady_clock::now();
  wake_.notify_all();
}

void ProgressDisplay::done() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void ProgressDisplay::draw_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!label_.empty()) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      const double fraction = seconds_ > 0 ? std::clamp(elapsed / seconds_, 0.0, 1.0) : 1.0;
      constexpr int kWidth = 24;
      const int filled = int(fraction * kWidth);
      std::fprintf(stderr, "\r\033[K%s [%s%s] %.1f/%.1f s", label_.c_str(),
                   std::string(size_t(filled), '#').c_str(),
                   std::string(size_t(kWidth - filled), ' ').c_str(), std::min(elapsed, seconds_),
                   seconds_);
      std::fflush(stderr);
    }
    wake_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

}  // namespace ublkcrypt

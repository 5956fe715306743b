// ProgressDisplay: one line on stderr, redrawn a few times a second, while a long run's
// phases go by — only when stderr is a terminal, so logs and pipes stay clean.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace ublkcrypt {

class ProgressDisplay {
 public:
  // `enabled` defaults to whether stderr is a terminal.
  ProgressDisplay();
  explicit ProgressDisplay(bool enabled);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Shows `label` with a bar that fills over `seconds`; replaces the previous phase.
  void phase(const std::string& label, double seconds);
  // Clears the line (before the report is printed).
  void done();

 private:
  void draw_loop();

  bool enabled_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string label_;
  double seconds_ = 0;
  std::chrono::steady_clock::time_point started_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ublkcrypt

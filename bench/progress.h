// ProgressDisplay: which phase of a long run is going on and for how long, one line on
// stderr replaced by the next, and only when stderr is a terminal, so logs, pipes and the
// report on stdout stay clean.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace ublkcrypt {

class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool enabled = ::isatty(STDERR_FILENO) == 1) : enabled_(enabled) {}
  ~ProgressDisplay() { done(); }
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Shows `label` and how long it takes (0: not known); replaces the previous phase.
  void phase(const std::string& label, double seconds) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K%s", label.c_str());
    if (seconds > 0) std::fprintf(stderr, " (%.1f s)", seconds);
    std::fflush(stderr);
    shown_ = true;
  }
  // Clears the line (before the report is printed).
  void done() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

}  // namespace ublkcrypt

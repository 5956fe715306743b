// Which phase of a long benchmark run is going on and for how long: one line on stderr,
// replaced by the next, and only when stderr is a terminal, so logs, pipes and the report
// on stdout stay clean.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace ublkcrypt {

// Shows `label` and how long it takes (0: not known) in place of the previous phase.
inline void show_phase(const std::string& label, double seconds) {
  if (::isatty(STDERR_FILENO) != 1) return;
  std::fprintf(stderr, "\r\033[K%s", label.c_str());
  if (seconds > 0) std::fprintf(stderr, " (%.1f s)", seconds);
  std::fflush(stderr);
}

// Clears the phase line, before the report is printed.
inline void clear_phase() {
  if (::isatty(STDERR_FILENO) == 1) std::fprintf(stderr, "\r\033[K");
}

}  // namespace ublkcrypt

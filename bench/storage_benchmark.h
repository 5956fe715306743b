// StorageBenchmark: a Workload on one target through io_uring, and optionally the same
// workload on a second target run right after it (an open ublkcrypt device over that
// backing), so the encrypted/raw ratio comes from one run.
#pragma once

#include <string>

#include "bench/progress.h"
#include "bench/workload.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

struct StorageBenchmarkOptions {
  std::string target;
  std::string compare;  // "" = none
  Workload workload;
  bool force = false;
};

struct StorageBenchmarkReport {
  StorageBenchmarkOptions options;
  WorkloadResult target;
  WorkloadResult compare;  // empty when no --compare
  double compare_ratio() const {  // compare / target throughput
    return target.mbs() > 0 ? compare.mbs() / target.mbs() : 0;
  }
};

// Checks both targets (size, alignment, filesystem/LUKS on a write run) before any I/O.
Status check_storage_benchmark(const StorageBenchmarkOptions& o);

Status run_storage_benchmark(const StorageBenchmarkOptions& o, ProgressDisplay& progress,
                             StorageBenchmarkReport* out);

}  // namespace ublkcrypt

#include "bench/storage_benchmark.h"

#include "bench/io_port.h"
#include "bench/target_guard.h"

namespace ublkcrypt {

namespace {

Status run_one(const std::string& path, const Workload& w, ProgressDisplay& progress,
               WorkloadResult* out) {
  std::unique_ptr<Storage> storage;
  if (Status s = open_workload_storage(path, w, &storage); !s.ok()) return s.in("bench");
  progress.phase("bench " + path + " " + w.rw, w.runtime_seconds);
  return run_workload(storage_ports(*storage), w,
                      workload_region(w, storage->info().size_bytes), out);
}

}  // namespace

Status check_storage_benchmark(const StorageBenchmarkOptions& o) {
  StorageInfo info;
  if (Status s = check_target(o.target, o.workload, o.force, 512, &info); !s.ok()) return s;
  if (!o.compare.empty())
    if (Status s = check_target(o.compare, o.workload, o.force, 512, &info); !s.ok()) return s;
  return Status::Ok();
}

Status run_storage_benchmark(const StorageBenchmarkOptions& o, ProgressDisplay& progress,
                             StorageBenchmarkReport* out) {
  if (Status s = check_storage_benchmark(o); !s.ok()) return s;
  out->options = o;
  if (Status s = run_one(o.target, o.workload, progress, &out->target); !s.ok()) return s;
  if (!o.compare.empty())
    if (Status s = run_one(o.compare, o.workload, progress, &out->compare); !s.ok()) return s;
  progress.done();
  return Status::Ok();
}

}  // namespace ublkcrypt

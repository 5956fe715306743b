#include "bench/target_guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "volume/existing_content.h"

namespace ublkcrypt {

Status check_target(const std::string& path, const Workload& w, bool force,
                    uint32_t min_alignment, StorageInfo* info) {
  // Opening is not I/O; read-only unless the workload writes, so a read benchmark works on
  // a device we may not write.
  std::unique_ptr<Storage> storage;
  FileStorageOptions options;
  options.read_only = !w.writes();
  if (Status s = open_file_storage(path, options, &storage); !s.ok()) return s.in("bench");
  *info = storage->info();
  const uint32_t alignment = std::max(info->logical_block_size, min_alignment);
  if (Status s = validate_workload(w, path, info->size_bytes, alignment); !s.ok()) return s;
  if (w.writes() && !force) {
    std::string what;
    if (Status s = describe_existing_content(path, &what); !s.ok()) return s.in("bench");
    if (!what.empty())
      return Status(Errc::busy,
                    fmt::format("bench {}: a write benchmark would overwrite what it holds "
                                "({}); use --force to write anyway",
                                path, what));
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

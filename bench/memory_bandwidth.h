// Memory bandwidth as this machine gives it to us. Neither a Firecracker guest nor most
// cloud VMs expose memory-controller counters (no uncore PMU, no resctrl MBM), so the
// figure is a proxy: memcpy throughput over buffers far larger than the cache, on one
// thread and on every core at once. A memcpy of n bytes moves 2n bytes through memory
// (read the source, write the destination), and that traffic figure is what the
// placement model divides among the datapath's reads and writes.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace ublkcrypt {

struct MemoryBandwidth {
  double copy_mbs_one_thread = 0;  // bytes copied per second (MB = 10^6)
  double copy_mbs_all_threads = 0;
  unsigned threads = 0;
  // Memory traffic the machine sustained: read + write, all threads.
  double traffic_mbs() const { return 2 * copy_mbs_all_threads; }
};

// Copies `buffer_bytes` per thread back and forth for about `seconds` per measurement.
Status measure_memory_bandwidth(double seconds, uint64_t buffer_bytes, MemoryBandwidth* out);

}  // namespace ublkcrypt

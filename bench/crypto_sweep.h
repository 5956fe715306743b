// CryptoSweep: each provider alone at a sweep of request sizes and in-flight depths — the
// OCF paper's Tables 1-2 (throughput against buffer size, per provider) for today's
// providers. Small requests show per-request overhead; depth shows how much parallelism a
// provider needs to reach its rate.
#pragma once

#include <string>
#include <vector>

#include "bench/progress.h"
#include "bench/provider_load.h"

namespace ublkcrypt {

struct CryptoSweepOptions {
  std::vector<std::string> providers;  // empty = every built-in provider that runs the cipher
  std::vector<uint32_t> request_sizes{512, 4096, 16384, 65536, 262144, 1048576};
  std::vector<unsigned> depths{1, 8, 32};
  CryptoLoadOptions load;  // cipher, key, sector size, direction, seconds per cell
};

struct CryptoSweepRow {
  std::string provider;
  Placement placement = Placement::host_cpu;
  uint32_t request_bytes = 0;
  unsigned depth = 0;
  CryptoResult result;
};

struct CryptoSweepReport {
  CryptoSweepOptions options;
  std::vector<CryptoSweepRow> rows;
  std::vector<std::string> skipped;
};

// Refuses, before any work, a provider that is not present or cannot run the cipher at
// every size of the sweep (512-byte requests need a 512-byte sector size).
Status check_crypto_sweep(const CryptoSweepOptions& o, std::vector<Provider*>* providers,
                          std::vector<std::string>* skipped);

Status run_crypto_sweep(const CryptoSweepOptions& o, ProgressDisplay& progress,
                        CryptoSweepReport* out);

}  // namespace ublkcrypt

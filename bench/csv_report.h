// The reports as CSV: one header line, then one line per measured cell, numbers only in
// the figure columns (MB/s = 10^6 bytes/s, latencies ns) so a spreadsheet reads them as is.
#pragma once

#include <string>

#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/model_report.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

std::string to_csv(const StorageBenchmarkReport& r);
std::string to_csv(const CryptoSweepReport& r);
std::string to_csv(const ContentionReport& r);
std::string to_csv(const ModelReport& r);

}  // namespace ublkcrypt

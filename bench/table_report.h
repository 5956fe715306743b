// The reports as tables for a person at a terminal: a header that says what ran and what
// the units are, one row per cell, and the ratios that matter on a shared machine (both
// sides measured in the same run) beside the absolute figures.
#pragma once

#include <string>

#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/model_report.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

std::string format_table(const StorageBenchmarkReport& r);
std::string format_table(const CryptoSweepReport& r);
std::string format_table(const ContentionReport& r);
std::string format_table(const ModelReport& r);

// "4 KiB", "1 MiB", "512 B"
std::string size_label(uint64_t bytes);

}  // namespace ublkcrypt

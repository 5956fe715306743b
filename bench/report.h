// The reports of `ublkcrypt bench` and `ublkcrypt benchmark`. A table for a person at a terminal: a header that says
// what ran, on which path of the code and in which unit, one row per cell, and the ratios
// measured side by side beside the absolute figures. JSON for machines (and for charts:
// docs/placement-model.md draws them from it), a stable schema (tests/bench/report_test.cpp
// pins it): MB/s are 10^6 bytes per second, latencies nanoseconds, ratios plain numbers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "bench/cipher_benchmark.h"
#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/rbd_comparison.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

// Every report a bench verb prints.
using BenchReport = std::variant<StorageBenchmarkReport, CryptoSweepReport, ContentionReport,
                                 ModelReport, CipherBenchmarkReport, RbdComparisonReport>;

std::string format_table(const BenchReport& r);
nlohmann::json to_json(const BenchReport& r);

}  // namespace ublkcrypt

// The reports as JSON for machines. Keys are a stable schema (tests/bench/json_test.cpp
// pins them): MB/s are 10^6 bytes per second, latencies nanoseconds, ratios plain numbers.
#pragma once

#include <nlohmann/json.hpp>

#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/model_report.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

nlohmann::json to_json(const Workload& w);
nlohmann::json to_json(const WorkloadResult& r);
nlohmann::json to_json(const PlacementPrediction& p);
nlohmann::json to_json(const MachineFigures& m);
nlohmann::json to_json(const StorageBenchmarkReport& r);
nlohmann::json to_json(const CryptoSweepReport& r);
nlohmann::json to_json(const ContentionReport& r);
nlohmann::json to_json(const ModelReport& r);

}  // namespace ublkcrypt

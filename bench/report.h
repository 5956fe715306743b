// The reports of `ublkcrypt bench`. A table for a person at a terminal: a header that says
// what ran, on which path of the code and in which unit, one row per cell, and the ratios
// measured side by side beside the absolute figures. JSON for machines, a stable schema
// (tests/bench/report_test.cpp pins it): MB/s are 10^6 bytes per second, latencies
// nanoseconds, ratios plain numbers. CSV: the JSON's cells, a column per figure.
//
// Charts through gnuplot (gnuplot-nox has the svg and pngcairo terminals): the file's
// extension picks the format; .gp writes the script instead (drawing FILE.svg where it is
// run), for a machine without gnuplot such as the test VM. Written to a temporary name and
// renamed, so a failed plot leaves nothing half-written at the path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

std::string format_table(const StorageBenchmarkReport& r);
std::string format_table(const CryptoSweepReport& r);
std::string format_table(const ContentionReport& r);
std::string format_table(const ModelReport& r);

nlohmann::json to_json(const StorageBenchmarkReport& r);
nlohmann::json to_json(const CryptoSweepReport& r);
nlohmann::json to_json(const ContentionReport& r);
nlohmann::json to_json(const ModelReport& r);

std::string to_csv(const StorageBenchmarkReport& r);
std::string to_csv(const CryptoSweepReport& r);
std::string to_csv(const ContentionReport& r);
std::string to_csv(const ModelReport& r);

// Refuses, before any I/O, a plot path without .svg/.png/.gp or in a directory we cannot
// write, and (for .svg/.png) a machine without gnuplot.
Status check_plot_path(const std::string& path);
// Three panels: together/alone per cell, encrypted vs raw vs model, ceiling per placement.
Status plot_contention(const ContentionReport& r, const std::string& path);
// Throughput against request size (log scale), one line per provider and depth.
Status plot_crypto_sweep(const CryptoSweepReport& r, const std::string& path);
// Throughput and p99 latency per target.
Status plot_storage(const StorageBenchmarkReport& r, const std::string& path);
// Ceiling per placement, measured beside it where there is a measurement.
Status plot_model(const ModelReport& r, const std::string& path);
// The gnuplot script plot_contention runs (without the terminal and output lines): for
// tests, and for anyone who wants to restyle the chart.
std::string contention_script(const ContentionReport& r);

// "4 KiB", "1 MiB", "512 B"
std::string size_label(uint64_t bytes);

}  // namespace ublkcrypt

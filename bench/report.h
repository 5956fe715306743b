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
#include <variant>

#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

// Every report a bench verb prints.
using BenchReport =
    std::variant<StorageBenchmarkReport, CryptoSweepReport, ContentionReport, ModelReport>;

std::string format_table(const BenchReport& r);
nlohmann::json to_json(const BenchReport& r);
std::string to_csv(const BenchReport& r);

// Refuses, before any I/O, a plot path without .svg/.png/.gp or in a directory we cannot
// write, and (for .svg/.png) a machine without gnuplot.
Status check_plot_path(const std::string& path);
// The report's chart. Contention: three panels, together/alone per cell, encrypted vs raw
// vs model, ceiling per placement. Crypto: throughput against request size (log scale),
// one line per provider and depth. Storage: throughput and p99 latency per target. Model:
// ceiling per placement, measured beside it where there is a measurement.
Status plot(const BenchReport& r, const std::string& path);
// The gnuplot script of a contention chart (without the terminal and output lines): for
// tests, and for anyone who wants to restyle the chart.
std::string contention_script(const ContentionReport& r);

// "4 KiB", "1 MiB", "512 B"
std::string size_label(uint64_t bytes);

}  // namespace ublkcrypt

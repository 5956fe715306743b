// Charts through gnuplot (gnuplot-nox has the svg and pngcairo terminals): the file's
// extension picks the format; .gp writes the script instead (drawing FILE.svg where it is
// run), for a machine without gnuplot such as the test VM. Written to a temporary name and
// renamed, so a failed plot leaves nothing half-written at the path.
#pragma once

#include <string>

#include "bench/contention.h"
#include "bench/provider_load.h"
#include "bench/model_report.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

// Refuses, before any I/O, a plot path without .svg/.png/.gp or in a directory we cannot
// write, and (for .svg/.png) a machine without gnuplot.
Status check_plot_path(const std::string& path);

// Three panels: together/alone per cell, encrypted vs raw vs model, ceiling per placement.
Status plot_contention(const ContentionReport& r, const std::string& path);
// MB/s against request size (log scale), one line per provider and depth.
Status plot_crypto_sweep(const CryptoSweepReport& r, const std::string& path);
// MB/s and p99 latency per target.
Status plot_storage(const StorageBenchmarkReport& r, const std::string& path);
// Ceiling per placement, measured beside it where there is a measurement.
Status plot_model(const ModelReport& r, const std::string& path);

// The gnuplot script plot_contention runs (without the terminal and output lines): for
// tests, and for anyone who wants to restyle the chart.
std::string contention_script(const ContentionReport& r);

}  // namespace ublkcrypt

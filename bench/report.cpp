#include "bench/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ublkcrypt {

using nlohmann::json;

NLOHMANN_JSON_SERIALIZE_ENUM(Placement, {{Placement::host_cpu, "host-cpu"},
                                         {Placement::lookaside_card, "lookaside-card"},
                                         {Placement::inline_device, "inline-device"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ResourceLimit, resource, capacity, per_user_byte, ceiling_mbs)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlacementPrediction, placement, ceiling_mbs, bottleneck,
                                   limits, datapath_latency_s, busy_latency_s, cipher_latency_s,
                                   cipher_fill)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MachineFigures, cores, cores_left, cipher_mbs_per_core,
                                   memory_mbs, bus_mbs, bus_share, storage_mbs,
                                   storage_core_s_per_mb, datapath_mbs, datapath_core_s_per_mb,
                                   datapath_serial_core_s_per_mb, card_mbs, card_core_s_per_mb,
                                   card_copies_per_byte, provider_mbs, provider_cores,
                                   provider_placement, inflight, request_bytes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CounterDelta, requests, payload_bytes, bytes_to_device,
                                   bytes_from_device, copy_bytes, errors)

namespace {

// "4 KiB", "1 MiB", "512 B"
std::string size_label(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} B", bytes);
}

const char* direction_name(Direction d) { return d == Direction::encrypt ? "encrypt" : "decrypt"; }

// ---- tables ----

std::string workload_line(const Workload& w) {
  std::string mix = (w.rw == "rw" || w.rw == "randrw")
                        ? fmt::format(" ({}% reads)", w.reads_percent())
                        : "";
  std::string span = w.runtime_seconds > 0 ? fmt::format("{:.1f} s", w.runtime_seconds)
                                           : fmt::format("one pass of {}", size_label(w.size_bytes));
  return fmt::format("{}{}, {} blocks, iodepth {}, {} job{}, {}", w.rw, mix,
                     size_label(w.block_bytes), w.iodepth, w.jobs, w.jobs == 1 ? "" : "s", span);
}

std::string us(uint64_t ns) { return fmt::format("{:.1f}", double(ns) / 1e3); }

std::string storage_row(const std::string& target, const WorkloadResult& r) {
  const LatencyHistogram lat = r.latency();
  return fmt::format("{:<28} {:>10.1f} {:>10.0f} {:>9} {:>9} {:>9} {:>11.3f}\n", target, r.mbs(),
                     r.iops(), us(lat.percentile(50)), us(lat.percentile(99)),
                     us(lat.percentile(99.9)), r.cpu_ns_per_byte());
}

std::string ceiling_text(double mbs) { return mbs > 0 ? fmt::format("{:.0f}", mbs) : "n/a"; }

std::string table(const StorageBenchmarkReport& r) {
  std::string out = fmt::format("# bench storage: {}\n", workload_line(r.options.workload));
  out += "# path: run_workload through storage ports (bench/workload_run.h), a ring per job\n"
         "# MB/s = 10^6 bytes/s; latency in microseconds; cpu ns/B: docs/benchmarks.md\n";
  out += fmt::format("{:<28} {:>10} {:>10} {:>9} {:>9} {:>9} {:>11}\n", "target", "MB/s", "IOPS",
                     "p50 us", "p99 us", "p99.9 us", "cpu ns/B");
  out += storage_row(r.options.target, r.target);
  if (!r.options.compare.empty()) {
    out += storage_row(r.options.compare, r.compare);
    out += fmt::format("# {} / {}: {:.3f} of the throughput\n", r.options.compare,
                       r.options.target, r.compare_ratio());
  }
  return out;
}

std::string table(const RbdComparisonReport& r) {
  const RbdComparisonOptions& o = r.options;
  std::string out = fmt::format("# bench rbd: {}; {} round{} (median shown)\n", workload_line(o.workload), o.rounds,
                                o.rounds == 1 ? "" : "s");
  out += fmt::format("# images: {} (librbd, ublkcrypt rows), {} (librbd LUKS); pool keeps {} cop{}\n", o.image,
                     o.luks_image, r.replicas, r.replicas == 1 ? "y" : "ies");
  out += fmt::format("# ublkcrypt: {} {}-bit, {}-byte sectors, the shipped engine on librbd (run_workload\n"
                     "#   through engine ports: the ublk queue thread's loop)\n",
                     o.crypto.cipher, o.crypto.key_bits, o.crypto.sector_size);
  out += "# MB/s = 10^6 bytes/s; latency in microseconds; cpu ns/B: this process; wire B/B: bytes the\n"
         "#   machine's interfaces carried per user byte\n";
  out += fmt::format("{:<28} {:>10} {:>10} {:>9} {:>9} {:>9} {:>11} {:>9}  {}\n", "row", "MB/s", "IOPS", "p50 us",
                     "p99 us", "p99.9 us", "cpu ns/B", "wire B/B", "rounds MB/s");
  for (const RbdRow& row : r.rows) {
    std::string line = storage_row(row.name, row.result);
    line.pop_back();
    const double wire = row.wire_per_user_byte();
    line += wire >= 0 ? fmt::format(" {:>9.3f}", wire) : fmt::format(" {:>9}", "n/a");
    std::string rounds;
    for (double mbs : row.round_mbs) rounds += fmt::format("{}{:.1f}", rounds.empty() ? "" : " ", mbs);
    out += line + "  " + rounds + "\n";
  }
  out += fmt::format("# ublkcrypt cipher_null / librbd: {:.3f}   (target >= 0.90)\n", r.null_vs_raw());
  out += fmt::format("# ublkcrypt {} / librbd LUKS: {:.3f}   (target >= 1.20)\n", o.crypto.cipher,
                     r.ublkcrypt_vs_librbd_luks());
  out += fmt::format("# the cipher alone ({}, {} x {} in flight): {:.0f} MB/s, {:.3f} CPU ns/B\n", r.provider,
                     size_label(o.workload.block_bytes), o.workload.iodepth, r.cipher_alone.mbs(),
                     r.cipher_ns_per_byte());
  out += "# where to encrypt: extra CPU ns per user byte, cluster-wide (docs/placement-model.md)\n";
  out += fmt::format("{:<46} {:>9} {:>9} {:>9}  {}\n", "placement", "client", "storage", "total", "private in flight");
  for (const EncryptionPlacementCost& c : r.placements())
    out += fmt::format("{:<46} {:>9.3f} {:>9.3f} {:>9.3f}  {}\n", c.where, c.client_ns_per_byte,
                       c.storage_ns_per_byte, c.total(), c.private_in_flight ? "yes" : "no");
  return out;
}

std::string table(const CryptoSweepReport& r) {
  const CryptoLoadOptions& o = r.options.load;
  std::string out = fmt::format(
      "# bench crypto: {} {}-bit key, {}-byte sectors, {}, {:.1f} s per cell\n"
      "# load: ProviderLoad (bench/provider_load.h) on a session of each provider alone, out "
      "of place\n#   (cipher_null in place), the requests walking a {} working set\n"
      "# MB/s = 10^6 bytes/s; cores = process CPU time / wall time; ns/B = process CPU ns "
      "per byte\n",
      o.cipher, o.key_bits, o.sector_size, direction_name(o.direction), o.seconds,
      size_label(o.working_set_bytes));
  const bool rounds = r.options.rounds > 1;
  if (rounds)
    out += fmt::format("# {} rounds, each cell once per round: every figure is the cell's median "
                       "round, MB/s with [lowest-highest]\n",
                       r.options.rounds);
  // A cell's MB/s, and with rounds the range they spanned.
  auto mbs_cell = [&](const CryptoSweepRow& row) {
    if (!rounds) return fmt::format(" {:>10.1f}", row.result.mbs());
    const auto [low, high] = std::minmax_element(row.round_mbs.begin(), row.round_mbs.end());
    return fmt::format(" {:>21}", fmt::format("{:.1f} [{:.0f}-{:.0f}]", row.result.mbs(), *low, *high));
  };
  size_t width = 10;  // "dpdk:0000:00:04.0" is wider than a provider's name
  for (const CryptoSweepRow& row : r.rows) width = std::max(width, row.provider.size());
  out += fmt::format("{:<{}} {:<15} {:>9}", "provider", width, "placement", "request");
  for (unsigned d : r.options.depths)
    out += fmt::format(" {:>{}}", fmt::format("QD{} MB/s", d), rounds ? 21 : 10);
  for (unsigned d : r.options.depths) out += fmt::format(" {:>9}", fmt::format("QD{} cores", d));
  for (unsigned d : r.options.depths) out += fmt::format(" {:>9}", fmt::format("QD{} ns/B", d));
  out += "\n";
  // Rows are provider-major, then depth, then size: print one line per (provider, size).
  const size_t sizes = r.options.request_sizes.size();
  const size_t depths = r.options.depths.size();
  for (size_t base = 0; base + sizes * depths <= r.rows.size(); base += sizes * depths) {
    for (size_t s = 0; s < sizes; ++s) {
      const CryptoSweepRow& first = r.rows[base + s];
      out += fmt::format("{:<{}} {:<15} {:>9}", first.provider, width,
                         placement_name(first.placement), size_label(first.request_bytes));
      for (size_t d = 0; d < depths; ++d) out += mbs_cell(r.rows[base + d * sizes + s]);
      for (size_t d = 0; d < depths; ++d)
        out += fmt::format(" {:>9.2f}", r.rows[base + d * sizes + s].result.cores());
      for (size_t d = 0; d < depths; ++d)
        out += fmt::format(" {:>9.3f}", r.rows[base + d * sizes + s].result.cpu_ns_per_byte());
      out += "\n";
    }
  }
  for (const std::string& s : r.skipped) out += "# skipped: " + s + "\n";
  return out;
}

std::string table(const ContentionReport& r) {
  const ContentionOptions& o = r.options;
  std::string out = fmt::format(
      "# bench contention: storage {}\n#   crypto {} {}-bit, {} requests x {} in flight; "
      "{:.1f} s per phase in {} round{}; {} CPUs\n",
      workload_line(o.storage), o.crypto.cipher, o.crypto.key_bits,
      size_label(o.storage.block_bytes), o.crypto.depth, o.phase_seconds, o.rounds,
      o.rounds == 1 ? "" : "s", r.cpus);
  out += fmt::format(
      "# memory: memcpy {:.0f} MB/s on 1 thread, {:.0f} MB/s on {} (a proxy: no memory "
      "counters are exposed here) = {:.0f} MB/s of traffic\n",
      r.memory.copy_mbs_one_thread, r.memory.copy_mbs_all_threads, r.memory.threads,
      r.memory.traffic_mbs());
  out += "# phases (bench/contention.h): storage and the engines through run_workload\n"
         "# (bench/workload_run.h), the provider alone through ProviderLoad (provider_load.h)\n"
         "# MB/s = 10^6 bytes/s; together/alone 1.00 = no contention (docs/benchmarks.md)\n\n";
  // Paths vary in length: the target column is as wide as the longest.
  size_t tw = 6;
  for (const ContentionCell& c : r.cells) tw = std::max(tw, c.target.size());
  out += fmt::format("{:<{}} {:<9} {:<14} | {:>8} {:>8} {:>6} | {:>8} {:>8} {:>6} | {:>9} {:>7}\n",
                     "target", tw, "provider", "placement", "storage", "together", "ratio",
                     "crypto", "together", "ratio", "encrypted", "enc/raw");
  for (const ContentionCell& c : r.cells)
    out += fmt::format(
        "{:<{}} {:<9} {:<14} | {:>8.0f} {:>8.0f} {:>6.2f} | {:>8.0f} {:>8.0f} {:>6.2f} | {:>9.0f} "
        "{:>7.2f}\n",
        c.target, tw, c.provider, placement_name(c.placement), c.storage_alone.mbs(),
        c.storage_together.mbs(), c.storage_ratio(), c.crypto_alone.mbs(),
        c.crypto_together.mbs(), c.crypto_ratio(), c.encrypted.mbs(), c.encrypted_ratio());

  out += "\n# Per user byte in the encrypted phase; CPU us per MB of the cipher alone, the engine\n"
         "# with cipher_null and the encrypted phase; cores left (docs/benchmarks.md)\n";
  out += fmt::format("{:<{}} {:<9} {:>7} {:>7} {:>7} {:>12} | {:>8} {:>8} {:>8} {:>11}\n",
                     "target", tw, "provider", "memory", "copies", "bus", "storage DMA",
                     "ciph us", "dp us", "enc us", "cores left");
  for (const ContentionCell& c : r.cells) {
    // Host CPU microseconds per MB for the cipher (the card path's host cost for a card).
    const double cipher_us = c.placement == Placement::lookaside_card
                                 ? c.figures.card_core_s_per_mb * 1e6
                                 : ContentionCell::ratio(1e6, c.figures.cipher_mbs_per_core);
    out += fmt::format(
        "{:<{}} {:<9} {:>7.2f} {:>7.2f} {:>7.2f} {:>12.2f} | {:>8} {:>8.0f} {:>8.0f} {:>11.2f}\n",
        c.target, tw, c.provider, c.memory_per_byte(), c.copies_per_byte(), c.bus_per_byte(),
        c.storage_dma_per_byte(),
        c.placement == Placement::inline_device ? std::string("drive")
                                                : fmt::format("{:.0f}", cipher_us),
        c.figures.datapath_core_s_per_mb * 1e6, c.encrypted.cpu_ns_per_byte() * 1e3,
        c.figures.cores_left);
  }

  out += fmt::format(
      "\n# Model (bench/placement_model.h, docs/placement-model.md) beside the encrypted phase,\n"
      "# N = {} requests of B = {} in flight; latency = N*B / max(R_dp, R_ciph, busy + fill x\n"
      "# R_ciph); inputs: medians of {} interleaved round{}; error = measured / predicted - 1\n",
      o.storage.iodepth * o.storage.jobs, size_label(o.storage.block_bytes),
      o.rounds, o.rounds == 1 ? "" : "s");
  out += fmt::format(
      "{:<{}} {:<9} | {:>7} {:>6} {:>6} | {:>9} {:>6} {:>4} | {:>7} {:>6} {:>6} | {:<8} {:>9} "
      "{:>8} {:>6} {:>11} {:>4}\n",
      "target", tw, "provider", "dp MB/s", "R_dp", "busy", "ciph MB/s", "R_ciph", "fill",
      "latency", "cores", "memory", "limit", "predicted", "measured", "error", "rounds", "20%");
  out += fmt::format("{:<{}} {:<9} | {:>7} {:>6} {:>6} | {:>9} {:>6} {:>4} |\n", "", tw, "", "",
                     "us", "us", "", "us", "");
  for (const ContentionCell& c : r.cells) {
    std::vector<double> errors;  // per round that had a prediction, in percent
    for (size_t i = 0; i < c.round_predicted_mbs.size() && i < c.round_measured_mbs.size(); ++i)
      if (c.round_predicted_mbs[i] > 0)
        errors.push_back((c.round_measured_mbs[i] / c.round_predicted_mbs[i] - 1) * 100);
    const auto [lo, hi] = std::ranges::minmax_element(errors);
    const PlacementPrediction& p = c.prediction;
    const bool predicted = p.ceiling_mbs > 0;
    const double error = c.model_error() * 100;
    auto us = [](double seconds) {
      return seconds > 0 ? fmt::format("{:.0f}", seconds * 1e6) : std::string("-");
    };
    out += fmt::format(
        "{:<{}} {:<9} | {:>7.0f} {:>6} {:>6} | {:>9.0f} {:>6} {:>4} | {:>7} {:>6} {:>6} | "
        "{:<8} {:>9} {:>8.0f} {:>+5.0f}% {:>11} {:>4}\n",
        c.target, tw, c.provider, c.figures.datapath_mbs, us(p.datapath_latency_s),
        us(p.busy_latency_s), c.figures.provider_mbs, us(p.cipher_latency_s),
        p.cipher_fill > 0 ? fmt::format("{:.2f}", p.cipher_fill) : std::string("-"),
        ceiling_text(p.limit("latency").ceiling_mbs), ceiling_text(p.limit("cores").ceiling_mbs),
        ceiling_text(p.limit("memory").ceiling_mbs), p.bottleneck.empty() ? "-" : p.bottleneck,
        ceiling_text(p.ceiling_mbs), c.encrypted.mbs(), error,
        errors.empty() ? std::string("-") : fmt::format("{:+.0f}..{:+.0f}%", *lo, *hi),
        !predicted ? "-" : std::abs(error) <= 20 ? "ok" : "off");
  }
  for (const ContentionCell& c : r.cells)
    if (c.cipher != o.crypto.cipher && !c.cipher.empty())
      out += fmt::format("# {}: {} ({}): the drive encrypts; the host ran {}\n", c.target,
                         c.provider, placement_name(c.placement), c.cipher);
  for (const std::string& s : r.skipped) out += "# skipped: " + s + "\n";
  return out;
}

std::string table(const ModelReport& r) {
  const MachineFigures& m = r.figures;
  auto given = [](double mbs) {
    return mbs > 0 ? fmt::format("{:.0f} MB/s", mbs) : std::string("unknown");
  };
  std::string out = "# bench model: throughput ceiling per placement of the cipher, by the "
                    "model in bench/placement_model.h\n";
  out += fmt::format(
      "# cores {:.2f} x {} cipher; memory {}; bus {} (share {:.2f}); storage {} "
      "({:.4f} core-s/MB); card {} ({:.1f} copies/B)\n",
      m.cores, given(m.cipher_mbs_per_core), given(m.memory_mbs), given(m.bus_mbs), m.bus_share,
      given(m.storage_mbs), m.storage_core_s_per_mb, given(m.card_mbs), m.card_copies_per_byte);
  out += fmt::format(
      "# latency term ({}): datapath {}, provider {} at {:.0f} x {:.0f} B in flight\n",
      placement_name(m.provider_placement), given(m.datapath_mbs), given(m.provider_mbs),
      m.inflight, m.request_bytes);
  out += fmt::format("{:<15} {:>10} {:<9} {}\n", "placement", "ceiling", "limit",
                     "every known resource: ceiling MB/s (capacity / per user byte)");
  for (const PlacementPrediction& p : r.predictions) {
    std::string limits;
    for (const ResourceLimit& l : p.limits)
      limits += fmt::format("{} {:.0f} ({:.4g}/{:.4g})  ", l.resource, l.ceiling_mbs, l.capacity,
                            l.per_user_byte);
    out += fmt::format("{:<15} {:>10} {:<9} {}\n", placement_name(p.placement),
                       ceiling_text(p.ceiling_mbs), p.bottleneck.empty() ? "-" : p.bottleneck,
                       limits);
  }
  if (!r.measured.empty()) {
    out += "\n# Measured on this machine (encrypted phase of a contention run), each predicted\n"
           "# from its own run's figures.\n";
    out += fmt::format("{:<24} {:<9} {:<15} {:<8} {:>9} {:>9} {:>7}\n", "target", "provider",
                       "placement", "limit", "predicted", "measured", "error");
    for (const ContentionCell& c : r.measured)
      out += fmt::format("{:<24} {:<9} {:<15} {:<8} {:>9.0f} {:>9.0f} {:>+6.0f}%\n", c.target,
                         c.provider, placement_name(c.placement), c.prediction.bottleneck,
                         c.prediction.ceiling_mbs, c.encrypted.mbs(), c.model_error() * 100);
  }
  return out;
}

std::string table(const CipherBenchmarkReport& r) {
  const BenchmarkOptions& o = r.options;
  auto figure = [](double mbs) { return mbs < 0 ? "n/a" : fmt::format("{:.1f}", mbs); };
  auto ratio = [](double a, double b) {
    return a < 0 || b <= 0 ? "n/a" : fmt::format("{:.2f}", a / b);
  };
  std::string out = fmt::format(
      "# Tests are approximate, {} s per cell, best of {} interleaved rounds, {}-byte\n"
      "# requests, {}-byte sectors, in place; load: ProviderLoad (bench/provider_load.h)\n"
      "# through bench/cipher_benchmark.cpp. MB/s = 10^6 bytes/s; \"1 thread\" and openssl per\n"
      "# CPU second, \"all threads\" per wall second; columns: docs/benchmarks.md.\n",
      o.seconds, o.rounds, o.request_bytes, o.sector_size);
  out += fmt::format(
      "{:<9} {:<11} {:<21} {:>5} {:<8} {:>10} {:>11} {:>5} {:>6} {:>10} {:<12} {:>10} {:>14} "
      "{:>12}\n",
      "provider", "impl", "algorithm", "key", "dir", "1 thread", "all threads", "cores", "all/1",
      "openssl", "(cipher)", "1t/openssl", "openssl -multi", "all/-multi");
  std::string notes;
  for (const BenchmarkRow& x : r.rows) {
    out += fmt::format(
        "{:<9} {:<11} {:<21} {:>4}b {:<8} {:>10} {:>11} {:>5} {:>6} {:>10} {:<12} {:>10} {:>14} "
        "{:>12}\n",
        x.provider, x.implementation.empty() ? "-" : x.implementation, x.cipher, x.key_bits,
        direction_name(x.direction), figure(x.one_thread_mbs), figure(x.all_threads_mbs),
        x.all_threads_cores < 0 ? "n/a" : fmt::format("{:.2f}", x.all_threads_cores),
        ratio(x.all_threads_mbs, x.one_thread_mbs), figure(x.openssl_mbs),
        x.openssl_cipher.empty() ? "-" : "(" + x.openssl_cipher + ")",
        ratio(x.one_thread_mbs, x.openssl_mbs), figure(x.openssl_multi_mbs),
        ratio(x.all_threads_mbs, x.openssl_multi_mbs));
    if (!x.openssl_note.empty() && notes.find(x.openssl_note) == std::string::npos)
      notes += "# openssl: " + x.openssl_note + "\n";
  }
  return out + notes;
}

// ---- JSON ----

json workload_json(const Workload& w) {
  return {{"rw", w.rw},         {"rwmixread", w.reads_percent()}, {"bs", w.block_bytes},
          {"iodepth", w.iodepth}, {"iodepth_batch", w.iodepth_batch}, {"numjobs", w.jobs},
          {"runtime_s", w.runtime_seconds}, {"size", w.size_bytes}, {"seed", w.seed}};
}

json latency_json(const LatencyHistogram& h) {
  return {{"count", h.count()},          {"mean", h.mean()}, {"p50", h.percentile(50)},
          {"p99", h.percentile(99)}, {"p99_9", h.percentile(99.9)}, {"max", h.max()}};
}

json result_json(const WorkloadResult& r) {
  return {{"mbs", r.mbs()}, {"iops", r.iops()}, {"read_bytes", r.read_bytes},
          {"write_bytes", r.write_bytes}, {"read_ops", r.read_ops}, {"write_ops", r.write_ops},
          {"seconds", r.seconds}, {"cpu_seconds", r.cpu_seconds},
          {"cpu_ns_per_byte", r.cpu_ns_per_byte()}, {"latency_ns", latency_json(r.latency())},
          {"read_latency_ns", latency_json(r.read_latency)},
          {"write_latency_ns", latency_json(r.write_latency)}};
}

json crypto_json(const CryptoResult& r) {
  return {{"mbs", r.mbs()},      {"bytes", r.bytes},     {"requests", r.requests},
          {"seconds", r.seconds}, {"cpu_seconds", r.cpu_seconds}, {"cores", r.cores()},
          {"cpu_ns_per_byte", r.cpu_ns_per_byte()}};
}

// What every report's JSON starts with: its kind, the unit, the cipher it ran.
json head(const char* kind, const CryptoLoadOptions& o) {
  return {{"kind", kind},         {"unit", "MB/s (10^6 bytes)"}, {"cipher", o.cipher},
          {"key_bits", o.key_bits}, {"sector_size", o.sector_size}};
}

json json_of(const StorageBenchmarkReport& r) {
  json out = {{"kind", "storage"}, {"unit", "MB/s (10^6 bytes), latency ns"},
              {"workload", workload_json(r.options.workload)}, {"target", r.options.target},
              {"result", result_json(r.target)}};
  if (!r.options.compare.empty())
    out.update({{"compare", r.options.compare}, {"compare_result", result_json(r.compare)},
                {"compare_ratio", r.compare_ratio()}});
  return out;
}

json json_of(const RbdComparisonReport& r) {
  const RbdComparisonOptions& o = r.options;
  json out = head("rbd", o.crypto);
  out.update({{"unit", "MB/s (10^6 bytes), latency ns"}, {"workload", workload_json(o.workload)},
              {"rounds", o.rounds}, {"image", o.image}, {"luks_image", o.luks_image}, {"replicas", r.replicas},
              {"null_vs_raw", r.null_vs_raw()}, {"ublkcrypt_vs_librbd_luks", r.ublkcrypt_vs_librbd_luks()},
              {"provider", r.provider}, {"cipher_alone", crypto_json(r.cipher_alone)},
              {"cipher_ns_per_byte", r.cipher_ns_per_byte()}, {"rows", json::array()}, {"placements", json::array()}});
  for (const RbdRow& row : r.rows) {
    json j = result_json(row.result);
    const double wire = row.wire_per_user_byte();
    j.update({{"name", row.name}, {"encrypts", row.encrypts}, {"round_mbs", row.round_mbs},
              {"wire_bytes_per_user_byte", wire >= 0 ? json(wire) : json(nullptr)}});
    out["rows"].push_back(std::move(j));
  }
  for (const EncryptionPlacementCost& c : r.placements())
    out["placements"].push_back({{"where", c.where}, {"client_ns_per_byte", c.client_ns_per_byte},
                                 {"storage_ns_per_byte", c.storage_ns_per_byte}, {"total_ns_per_byte", c.total()},
                                 {"private_in_flight", c.private_in_flight}});
  return out;
}

json json_of(const CryptoSweepReport& r) {
  json out = head("crypto", r.options.load);
  out.update({{"direction", direction_name(r.options.load.direction)},
              {"seconds_per_cell", r.options.load.seconds}, {"rounds", r.options.rounds},
              {"skipped", r.skipped}, {"rows", json::array()}});
  for (const CryptoSweepRow& row : r.rows) {
    json j = crypto_json(row.result);
    j.update({{"provider", row.provider}, {"placement", row.placement},
              {"request_bytes", row.request_bytes}, {"depth", row.depth},
              {"rounds_mbs", row.round_mbs}});
    out["rows"].push_back(std::move(j));
  }
  return out;
}

json json_of(const ContentionReport& r) {
  json out = head("contention", r.options.crypto);
  const MemoryBandwidth& m = r.memory;
  out.update({{"cpus", r.cpus}, {"phase_seconds", r.options.phase_seconds},
              {"rounds", r.options.rounds}, {"workload", workload_json(r.options.storage)},
              {"crypto_depth", r.options.crypto.depth}, {"skipped", r.skipped},
              {"memory", {{"source", "memcpy proxy (no memory-controller counters exposed)"},
                          {"copy_mbs_one_thread", m.copy_mbs_one_thread},
                          {"copy_mbs_all_threads", m.copy_mbs_all_threads},
                          {"threads", m.threads}, {"traffic_mbs", m.traffic_mbs()}}},
              {"cells", json::array()}});
  for (const ContentionCell& c : r.cells) {
    json model = c.prediction;
    model.update({{"inputs", c.figures}, {"measured_mbs", c.encrypted.mbs()},
                  {"measured_over_predicted", c.model_ratio()}, {"other_cores", c.other_cores},
                  {"rounds_predicted_mbs", c.round_predicted_mbs},
                  {"rounds_measured_mbs", c.round_measured_mbs}});
    out["cells"].push_back(
        {{"target", c.target}, {"provider", c.provider}, {"placement", c.placement},
         {"cipher", c.cipher}, {"datapath", result_json(c.datapath)},
         {"storage_alone", result_json(c.storage_alone)},
         {"crypto_alone", crypto_json(c.crypto_alone)},
         {"storage_together", result_json(c.storage_together)},
         {"crypto_together", crypto_json(c.crypto_together)},
         {"encrypted", result_json(c.encrypted)}, {"storage_ratio", c.storage_ratio()},
         {"crypto_ratio", c.crypto_ratio()}, {"encrypted_ratio", c.encrypted_ratio()},
         {"bytes_per_user_byte",
          {{"memory_model", c.memory_per_byte()}, {"copies", c.copies_per_byte()},
           {"bus_to_device_and_back", c.bus_per_byte()},
           {"storage_dma", c.storage_dma_per_byte()}}},
         {"encrypted_counters", c.encrypted_counters}, {"model", model},
         {"every_placement", predict_all(c.figures)}});
  }
  return out;
}

json json_of(const ModelReport& r) {
  json measured = json::array();
  for (const ContentionCell& c : r.measured)
    measured.push_back({{"target", c.target}, {"provider", c.provider},
                        {"placement", c.placement}, {"predicted_mbs", c.prediction.ceiling_mbs},
                        {"bottleneck", c.prediction.bottleneck},
                        {"measured_mbs", c.encrypted.mbs()}, {"error", c.model_error()}});
  return {{"kind", "model"}, {"unit", "MB/s (10^6 bytes)"}, {"figures", r.figures},
          {"predictions", r.predictions}, {"measured", measured}};
}

json json_of(const CipherBenchmarkReport& r) {
  auto number = [](double v) { return v < 0 ? json(nullptr) : json(v); };
  json out = {{"seconds_per_cell", r.options.seconds}, {"rounds", r.options.rounds},
              {"request_bytes", r.options.request_bytes}, {"sector_size", r.options.sector_size},
              {"unit", "MB/s (10^6 bytes)"}, {"results", json::array()}};
  for (const BenchmarkRow& x : r.rows) {
    json row = {{"provider", x.provider}, {"implementation", x.implementation},
                {"cipher", x.cipher}, {"key_bits", x.key_bits},
                {"direction", direction_name(x.direction)},
                {"one_thread_mbs", number(x.one_thread_mbs)},
                {"all_threads_mbs", number(x.all_threads_mbs)},
                {"all_threads_cores", number(x.all_threads_cores)},
                {"openssl_cipher", x.openssl_cipher}, {"openssl_mbs", number(x.openssl_mbs)},
                {"openssl_multi_mbs", number(x.openssl_multi_mbs)},
                {"openssl_multi_processes", x.openssl_processes}};
    if (!x.openssl_note.empty()) row["openssl_note"] = x.openssl_note;
    if (x.one_thread_mbs >= 0 && x.openssl_mbs > 0)
      row["one_thread_vs_openssl"] = x.one_thread_mbs / x.openssl_mbs;
    if (x.all_threads_mbs >= 0 && x.openssl_multi_mbs > 0)
      row["all_threads_vs_openssl_multi"] = x.all_threads_mbs / x.openssl_multi_mbs;
    if (x.all_threads_mbs >= 0 && x.one_thread_mbs > 0)
      row["all_vs_one_thread"] = x.all_threads_mbs / x.one_thread_mbs;
    out["results"].push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::string format_table(const BenchReport& r) {
  return std::visit([](const auto& x) { return table(x); }, r);
}

json to_json(const BenchReport& r) {
  return std::visit([](const auto& x) { return json_of(x); }, r);
}

}  // namespace ublkcrypt

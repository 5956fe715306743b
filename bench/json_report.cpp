#include "bench/report.h"

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
          {"seconds", r.seconds}, {"cpu_seconds", r.cpu_seconds}, {"cores", r.cores()}};
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
  if (!r.options.compare.empty()) {
    out["compare"] = r.options.compare;
    out["compare_result"] = result_json(r.compare);
    out["compare_ratio"] = r.compare_ratio();
  }
  return out;
}

json json_of(const CryptoSweepReport& r) {
  json out = head("crypto", r.options.load);
  out["direction"] = direction_name(r.options.load.direction);
  out["seconds_per_cell"] = r.options.load.seconds;
  out["skipped"] = r.skipped;
  out["rows"] = json::array();
  for (const CryptoSweepRow& row : r.rows) {
    json j = crypto_json(row.result);
    j.update({{"provider", row.provider}, {"placement", row.placement},
              {"request_bytes", row.request_bytes}, {"depth", row.depth}});
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

json to_json(const BenchReport& r) {
  return std::visit([](const auto& x) { return json_of(x); }, r);
}

}  // namespace ublkcrypt

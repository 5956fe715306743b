#include "bench/json_report.h"

namespace ublkcrypt {

using nlohmann::json;

json to_json(const Workload& w) {
  return {{"rw", w.rw},
          {"rwmixread", w.reads_percent()},
          {"bs", w.block_bytes},
          {"iodepth", w.iodepth},
          {"iodepth_batch", w.iodepth_batch},
          {"numjobs", w.jobs},
          {"runtime_s", w.runtime_seconds},
          {"size", w.size_bytes},
          {"seed", w.seed}};
}

namespace {

json latency_json(const LatencyHistogram& h) {
  return {{"count", h.count()},
          {"mean", h.mean()},
          {"p50", h.percentile(50)},
          {"p99", h.percentile(99)},
          {"p99_9", h.percentile(99.9)},
          {"max", h.max()}};
}

json crypto_json(const CryptoResult& r) {
  return {{"mbs", r.mbs()},      {"bytes", r.bytes},     {"requests", r.requests},
          {"seconds", r.seconds}, {"cpu_seconds", r.cpu_seconds}, {"cores", r.cores()}};
}

json counters_json(const CounterDelta& d) {
  return {{"requests", d.requests},
          {"payload_bytes", d.payload_bytes},
          {"bytes_to_device", d.bytes_to_device},
          {"bytes_from_device", d.bytes_from_device},
          {"copy_bytes", d.copy_bytes},
          {"errors", d.errors}};
}

}  // namespace

json to_json(const WorkloadResult& r) {
  return {{"mbs", r.mbs()},
          {"iops", r.iops()},
          {"read_bytes", r.read_bytes},
          {"write_bytes", r.write_bytes},
          {"read_ops", r.read_ops},
          {"write_ops", r.write_ops},
          {"seconds", r.seconds},
          {"cpu_seconds", r.cpu_seconds},
          {"cpu_ns_per_byte", r.cpu_ns_per_byte()},
          {"latency_ns", latency_json(r.latency())},
          {"read_latency_ns", latency_json(r.read_latency)},
          {"write_latency_ns", latency_json(r.write_latency)}};
}

json to_json(const PlacementPrediction& p) {
  json limits = json::array();
  for (const ResourceLimit& l : p.limits)
    limits.push_back({{"resource", l.resource},
                      {"capacity", l.capacity},
                      {"per_user_byte", l.per_user_byte},
                      {"ceiling_mbs", l.ceiling_mbs}});
  return {{"placement", placement_name(p.placement)},
          {"ceiling_mbs", p.ceiling_mbs},
          {"bottleneck", p.bottleneck},
          {"limits", limits},
          {"datapath_latency_s", p.datapath_latency_s},
          {"busy_latency_s", p.busy_latency_s},
          {"cipher_latency_s", p.cipher_latency_s},
          {"cipher_fill", p.cipher_fill}};
}

json to_json(const MachineFigures& m) {
  return {{"cores", m.cores},
          {"cores_left", m.cores_left},
          {"cipher_mbs_per_core", m.cipher_mbs_per_core},
          {"memory_mbs", m.memory_mbs},
          {"bus_mbs", m.bus_mbs},
          {"bus_share", m.bus_share},
          {"storage_mbs", m.storage_mbs},
          {"storage_core_s_per_mb", m.storage_core_s_per_mb},
          {"datapath_mbs", m.datapath_mbs},
          {"datapath_core_s_per_mb", m.datapath_core_s_per_mb},
          {"datapath_serial_core_s_per_mb", m.datapath_serial_core_s_per_mb},
          {"card_mbs", m.card_mbs},
          {"card_core_s_per_mb", m.card_core_s_per_mb},
          {"card_copies_per_byte", m.card_copies_per_byte},
          {"provider_mbs", m.provider_mbs},
          {"provider_cores", m.provider_cores},
          {"provider_placement", placement_name(m.provider_placement)},
          {"inflight", m.inflight},
          {"request_bytes", m.request_bytes}};
}

json to_json(const StorageBenchmarkReport& r) {
  json out = {{"kind", "storage"},
              {"unit", "MB/s (10^6 bytes), latency ns"},
              {"workload", to_json(r.options.workload)},
              {"target", r.options.target},
              {"result", to_json(r.target)}};
  if (!r.options.compare.empty()) {
    out["compare"] = r.options.compare;
    out["compare_result"] = to_json(r.compare);
    out["compare_ratio"] = r.compare_ratio();
  }
  return out;
}

json to_json(const CryptoSweepReport& r) {
  json rows = json::array();
  for (const CryptoSweepRow& row : r.rows) {
    json j = crypto_json(row.result);
    j["provider"] = row.provider;
    j["placement"] = placement_name(row.placement);
    j["request_bytes"] = row.request_bytes;
    j["depth"] = row.depth;
    rows.push_back(std::move(j));
  }
  const CryptoLoadOptions& o = r.options.load;
  return {{"kind", "crypto"},
          {"unit", "MB/s (10^6 bytes)"},
          {"cipher", o.cipher},
          {"key_bits", o.key_bits},
          {"sector_size", o.sector_size},
          {"direction", o.direction == Direction::encrypt ? "encrypt" : "decrypt"},
          {"seconds_per_cell", o.seconds},
          {"rows", rows},
          {"skipped", r.skipped}};
}

json to_json(const ContentionReport& r) {
  json cells = json::array();
  for (const ContentionCell& c : r.cells) {
    json model = to_json(c.prediction);
    model["inputs"] = to_json(c.figures);
    model["measured_mbs"] = c.encrypted.mbs();
    model["measured_over_predicted"] = c.model_ratio();
    model["other_cores"] = c.other_cores;
    model["rounds_predicted_mbs"] = c.round_predicted_mbs;
    model["rounds_measured_mbs"] = c.round_measured_mbs;
    cells.push_back({{"target", c.target},
                     {"provider", c.provider},
                     {"placement", placement_name(c.placement)},
                     {"cipher", c.cipher},
                     {"datapath", to_json(c.datapath)},
                     {"storage_alone", to_json(c.storage_alone)},
                     {"crypto_alone", crypto_json(c.crypto_alone)},
                     {"storage_together", to_json(c.storage_together)},
                     {"crypto_together", crypto_json(c.crypto_together)},
                     {"encrypted", to_json(c.encrypted)},
                     {"storage_ratio", c.storage_ratio()},
                     {"crypto_ratio", c.crypto_ratio()},
                     {"encrypted_ratio", c.encrypted_ratio()},
                     {"bytes_per_user_byte",
                      {{"memory_model", c.memory_per_byte()},
                       {"copies", c.copies_per_byte()},
                       {"bus_to_device_and_back", c.bus_per_byte()},
                       {"storage_dma", c.storage_dma_per_byte()}}},
                     {"encrypted_counters", counters_json(c.encrypted_counters)},
                     {"model", model}});
  }
  const CryptoLoadOptions& o = r.options.crypto;
  return {{"kind", "contention"},
          {"unit", "MB/s (10^6 bytes)"},
          {"cpus", r.cpus},
          {"phase_seconds", r.options.phase_seconds},
          {"rounds", r.options.rounds},
          {"workload", to_json(r.options.storage)},
          {"cipher", o.cipher},
          {"key_bits", o.key_bits},
          {"sector_size", o.sector_size},
          {"crypto_depth", o.depth},
          {"memory",
           {{"source", "memcpy proxy (no memory-controller counters exposed)"},
            {"copy_mbs_one_thread", r.memory.copy_mbs_one_thread},
            {"copy_mbs_all_threads", r.memory.copy_mbs_all_threads},
            {"threads", r.memory.threads},
            {"traffic_mbs", r.memory.traffic_mbs()}}},
          {"cells", cells},
          {"skipped", r.skipped}};
}

json to_json(const ModelReport& r) {
  json predictions = json::array();
  for (const PlacementPrediction& p : r.predictions) predictions.push_back(to_json(p));
  json measured = json::array();
  for (const ModelMeasurement& m : r.measured)
    measured.push_back({{"target", m.target},
                        {"provider", m.provider},
                        {"placement", placement_name(m.placement)},
                        {"predicted_mbs", m.predicted_mbs},
                        {"bottleneck", m.bottleneck},
                        {"measured_mbs", m.measured_mbs},
                        {"error", m.error()}});
  return {{"kind", "model"},
          {"unit", "MB/s (10^6 bytes)"},
          {"figures", to_json(r.figures)},
          {"predictions", predictions},
          {"measured", measured}};
}

}  // namespace ublkcrypt

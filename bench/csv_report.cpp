#include "bench/csv_report.h"

#include <fmt/format.h>

namespace ublkcrypt {

namespace {

// Paths may hold commas; quote every text field (RFC 4180).
std::string text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string storage_row(const std::string& target, const WorkloadResult& r) {
  const LatencyHistogram lat = r.latency();
  return fmt::format("{},{:.3f},{:.1f},{},{},{},{:.3f},{:.3f}\n", text(target), r.mbs(),
                     r.iops(), lat.percentile(50), lat.percentile(99), lat.percentile(99.9),
                     r.cpu_ns_per_byte(), r.seconds);
}

}  // namespace

std::string to_csv(const StorageBenchmarkReport& r) {
  std::string out = "target,mbs,iops,p50_ns,p99_ns,p99_9_ns,cpu_ns_per_byte,seconds\n";
  out += storage_row(r.options.target, r.target);
  if (!r.options.compare.empty()) out += storage_row(r.options.compare, r.compare);
  return out;
}

std::string to_csv(const CryptoSweepReport& r) {
  std::string out = "provider,placement,request_bytes,depth,mbs,cores,requests\n";
  for (const CryptoSweepRow& row : r.rows)
    out += fmt::format("{},{},{},{},{:.3f},{:.3f},{}\n", text(row.provider),
                       placement_name(row.placement), row.request_bytes, row.depth,
                       row.result.mbs(), row.result.cores(), row.result.requests);
  return out;
}

std::string to_csv(const ContentionReport& r) {
  std::string out =
      "target,provider,placement,storage_alone_mbs,storage_together_mbs,storage_ratio,"
      "crypto_alone_mbs,crypto_together_mbs,crypto_ratio,encrypted_mbs,encrypted_ratio,"
      "memory_per_byte,copies_per_byte,bus_per_byte,storage_dma_per_byte,predicted_mbs,"
      "bottleneck,measured_over_predicted,cipher,datapath_mbs\n";
  for (const ContentionCell& c : r.cells)
    out += fmt::format(
        "{},{},{},{:.3f},{:.3f},{:.4f},{:.3f},{:.3f},{:.4f},{:.3f},{:.4f},{:.2f},{:.2f},{:.2f},"
        "{:.2f},{:.3f},{},{:.4f},{},{:.3f}\n",
        text(c.target), text(c.provider), placement_name(c.placement), c.storage_alone.mbs(),
        c.storage_together.mbs(), c.storage_ratio(), c.crypto_alone.mbs(),
        c.crypto_together.mbs(), c.crypto_ratio(), c.encrypted.mbs(), c.encrypted_ratio(),
        c.memory_per_byte(), c.copies_per_byte(), c.bus_per_byte(), c.storage_dma_per_byte(),
        c.prediction.ceiling_mbs, c.prediction.bottleneck, c.model_ratio(), text(c.cipher),
        c.datapath.mbs());
  return out;
}

std::string to_csv(const ModelReport& r) {
  std::string out = "placement,target,provider,predicted_mbs,bottleneck,measured_mbs\n";
  for (const PlacementPrediction& p : r.predictions)
    out += fmt::format("{},,,{:.3f},{},\n", placement_name(p.placement), p.ceiling_mbs,
                       p.bottleneck);
  for (const ModelMeasurement& m : r.measured)
    out += fmt::format("{},{},{},{:.3f},{},{:.3f}\n", placement_name(m.placement), text(m.target),
                       text(m.provider), m.predicted_mbs, m.bottleneck, m.measured_mbs);
  return out;
}

}  // namespace ublkcrypt

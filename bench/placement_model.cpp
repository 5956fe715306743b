#include "bench/placement_model.h"

#include <algorithm>

namespace ublkcrypt {

namespace {

// How much of each resource one user byte (or MB) needs, per placement: the byte flows
// in docs/placement-model.md, as numbers.
struct Demand {
  double cipher_core_s_per_mb = 0;  // host cores spent on the cipher
  double memory = 0;                // bytes through memory
  double bus = 0;                   // bytes over the I/O bus
  double card = 0;                  // bytes through the card's cipher
};

Demand demand_of(Placement p, const MachineFigures& m) {
  switch (p) {
    case Placement::host_cpu:
      return {m.cipher_mbs_per_core > 0 ? 1 / m.cipher_mbs_per_core : 0, 3, 1, 0};
    case Placement::lookaside_card:
      return {m.card_core_s_per_mb, 3 + 2 * m.card_copies_per_byte, 3, 1};
    case Placement::inline_device:
      return {0, 1, 1, 0};
  }
  return {};
}

}  // namespace

PlacementPrediction predict_placement(Placement placement, const MachineFigures& m) {
  PlacementPrediction out;
  out.placement = placement;
  const Demand d = demand_of(placement, m);
  auto add = [&](const char* resource, double capacity, double per_user_byte) {
    if (capacity <= 0 || per_user_byte <= 0) return;
    out.limits.push_back({resource, capacity, per_user_byte, capacity / per_user_byte});
  };
  // A host-cpu cipher with an unknown rate leaves the cores unknown too: the storage share
  // of the cores alone would overstate the ceiling.
  const bool cipher_known = placement != Placement::host_cpu || m.cipher_mbs_per_core > 0;
  const double datapath_core_s_per_mb =
      m.datapath_core_s_per_mb > 0 ? m.datapath_core_s_per_mb : m.storage_core_s_per_mb;
  // The latency term, for the placement whose provider was measured (docs/placement-model.md):
  // R = max(R_dp, R_ciph, R_busy + fill x R_ciph), latency = N*B / R. With N or B unknown,
  // N*B = 1 MB keeps the ratio (it cancels) and the latencies are not reported.
  if (placement == m.provider_placement && m.provider_mbs > 0 && m.datapath_mbs > 0) {
    const double known_flight = m.inflight * m.request_bytes / 1e6;
    const double in_flight_mb = known_flight > 0 ? known_flight : 1;
    const double r_dp = in_flight_mb / m.datapath_mbs;
    const double busy_per_mb = m.datapath_serial_core_s_per_mb > 0
                                   ? m.datapath_serial_core_s_per_mb
                                   : m.datapath_core_s_per_mb;
    const double r_busy = busy_per_mb > 0 ? std::min(r_dp, busy_per_mb * in_flight_mb) : r_dp;
    const double r_ciph = in_flight_mb / m.provider_mbs;
    const double left = m.cores_left > 0 ? m.cores_left : m.cores;
    const double fill = m.provider_cores > 0 && left > 0 ? std::min(1.0, m.provider_cores / left)
                                                         : 1.0;
    add("latency", in_flight_mb, std::max({r_dp, r_ciph, r_busy + fill * r_ciph}));
    out.cipher_fill = fill;
    if (known_flight > 0) {
      out.datapath_latency_s = r_dp;
      out.busy_latency_s = r_busy;
      out.cipher_latency_s = r_ciph;
    }
  }
  if (cipher_known) add("cores", m.cores, d.cipher_core_s_per_mb + datapath_core_s_per_mb);
  add("memory", m.memory_mbs, d.memory);
  add("bus", m.bus_mbs * m.bus_share, d.bus);
  add("storage", m.storage_mbs, 1);
  add("datapath", m.datapath_mbs, 1);
  add("card", m.card_mbs, d.card);
  const auto least = std::ranges::min_element(out.limits, {}, &ResourceLimit::ceiling_mbs);
  if (least != out.limits.end()) {
    out.ceiling_mbs = least->ceiling_mbs;
    out.bottleneck = least->resource;
  }
  return out;
}

std::vector<PlacementPrediction> predict_all(const MachineFigures& m) {
  return {predict_placement(Placement::host_cpu, m),
          predict_placement(Placement::lookaside_card, m),
          predict_placement(Placement::inline_device, m)};
}

}  // namespace ublkcrypt

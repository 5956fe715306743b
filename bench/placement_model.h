// PlacementModel: where should crypto live? For each placement of the cipher, the
// resources one user byte of encrypted storage traffic consumes (memory, bus, cores, the
// storage, the engine's own ceiling, a card) and the ceiling each puts on throughput, and
// a latency term from the requests in flight; the smallest ceiling is the prediction and
// its resource the bottleneck. docs/placement-model.md derives the byte flows and the
// latency term. Every input is measured apart from the encrypted run the model predicts;
// nothing is fitted to it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backends/provider.h"

namespace ublkcrypt {

// The machine, in MB/s (10^6 bytes) and cores. A figure <= 0 means unknown: that resource
// is left out of the prediction and the output says so.
struct MachineFigures {
  double cores = 0;                  // cores the machine has for the datapath
  double cores_left = 0;             // of those, what other processes left (0 = unknown)
  double cipher_mbs_per_core = 0;    // host cipher rate: MB per CPU-second
  double memory_mbs = 0;             // memory traffic (read + write) the machine sustains
  double bus_mbs = 0;                // the I/O bus between host, card and drive
  double bus_share = 1;              // fraction of the bus this datapath may use
  double storage_mbs = 0;            // the storage device alone
  double storage_core_s_per_mb = 0;  // host CPU seconds per MB of storage I/O
  double datapath_mbs = 0;           // the engine with cipher_null over this storage
  double datapath_core_s_per_mb = 0; // its host CPU seconds per MB (replaces storage's)
  double datapath_serial_core_s_per_mb = 0;  // of those, its queue thread's; 0 unknown
  double card_core_s_per_mb = 0;     // host CPU seconds per MB the card path costs
  double card_mbs = 0;               // the card's cipher rate
  double card_copies_per_byte = 2;   // host copies per byte on the card path (AF_ALG)
  // The latency term: the provider alone (wall MB/s, at `inflight` requests of
  // `request_bytes` each), for the placement it was measured at; the datapath's rate is
  // datapath_mbs above.
  double provider_mbs = 0;
  double provider_cores = 0;         // cores the provider alone used (CPU / wall); 0 unknown
  Placement provider_placement = Placement::host_cpu;
  double inflight = 0;               // N: requests in flight (iodepth x jobs)
  double request_bytes = 0;          // B
};

struct ResourceLimit {
  // "latency", "cores", "memory", "bus", "storage", "datapath", "card". For "latency":
  // capacity is the MB in flight (N*B, or 1 when N and B are unknown), per_user_byte the
  // seconds one request takes (R), ceiling their ratio.
  std::string resource;
  double capacity = 0;    // MB/s, or cores for "cores"
  double per_user_byte = 0;  // bytes (or core-seconds per MB) one user byte needs
  double ceiling_mbs = 0;    // capacity / per_user_byte
};

struct PlacementPrediction {
  Placement placement = Placement::host_cpu;
  double ceiling_mbs = 0;      // 0 when no resource was known
  std::string bottleneck;      // resource with the smallest ceiling
  std::vector<ResourceLimit> limits;  // every resource that was known
  // The latency term's parts, seconds per request (0 when not known).
  double datapath_latency_s = 0;  // R_dp
  double busy_latency_s = 0;      // R_busy
  double cipher_latency_s = 0;    // R_ciph
  double cipher_fill = 0;         // fill

  // The limit `resource` puts ("memory", ...); all zero when that resource was not known.
  ResourceLimit limit(std::string_view resource) const {
    for (const ResourceLimit& l : limits)
      if (l.resource == resource) return l;
    return {};
  }
};

PlacementPrediction predict_placement(Placement placement, const MachineFigures& m);

// The three placements, host-cpu first.
std::vector<PlacementPrediction> predict_all(const MachineFigures& m);

}  // namespace ublkcrypt

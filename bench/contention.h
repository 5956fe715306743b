// ContentionReport: do storage traffic and crypto traffic slow each other down on this
// machine, and by how much? For each target and provider, five phases of equal length:
//   storage alone   the workload on the raw target
//   crypto alone    the provider kept busy at the workload's block size
//   together        both at once, independent of each other (the OCF paper's setting:
//                   crypto and storage traffic sharing cores, memory and bus)
//   datapath        the workload through the engine with cipher_null (software provider,
//                   in place: no cipher work at all): the engine's own cost and ceiling
//   encrypted       the workload through the engine with this provider: the placement's
//                   real throughput, which the model predicts from the phases above
// plus a memcpy measurement of memory bandwidth, once per run.
//
// The CPU share a process gets on a shared machine swings from second to second, so the
// phases run interleaved: `rounds` rounds of all five, each phase phase_seconds / rounds
// long, and each phase's figure is its median round. The model's inputs and the
// measurement it is compared with thus come from the same stretch of time.
//
// An inline-device provider (the drive encrypts; the host only passes the data on) serves
// cipher_null sessions only: it runs with cipher_null whatever the cipher asked for, and
// its cell says so.
#pragma once

#include <string>
#include <vector>

#include "bench/crypto_load.h"
#include "bench/memory_bandwidth.h"
#include "bench/placement_model.h"
#include "bench/progress.h"
#include "bench/workload.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

struct ContentionOptions {
  std::vector<std::string> targets;
  std::vector<std::string> providers;  // empty = every built-in provider that runs the cipher
  Workload storage;                    // runtime is phase_seconds
  CryptoLoadOptions crypto;            // request size is the workload's block size
  double phase_seconds = 2;            // per phase, all rounds together
  unsigned rounds = 3;                 // interleaved rounds of the five phases
  bool force = false;                  // write on a target that holds a filesystem / LUKS
};

struct ContentionCell {
  std::string target;
  std::string provider;
  Placement placement = Placement::host_cpu;
  std::string cipher;               // what this cell ran (cipher_null for an inline device)
  // Each phase's median round.
  WorkloadResult storage_alone;
  CryptoResult crypto_alone;
  WorkloadResult storage_together;
  CryptoResult crypto_together;
  WorkloadResult datapath;          // engine, cipher_null
  WorkloadResult encrypted;
  CounterDelta encrypted_counters;  // the provider's counters over the encrypted phase
  MachineFigures figures;           // the model's inputs, from the phases above
  PlacementPrediction prediction;   // for this provider's placement
  // Per round: the model's prediction from that round's figures, and the measurement.
  std::vector<double> round_predicted_mbs;
  std::vector<double> round_measured_mbs;

  double storage_ratio() const;    // storage together / alone
  double crypto_ratio() const;     // crypto together / alone
  double encrypted_ratio() const;  // encrypted / raw storage
  double model_ratio() const;      // measured encrypted / predicted ceiling
  // The closed-loop floor: every request crosses the cipher and then the engine's storage
  // with nothing overlapped, 1 / (1/crypto alone + 1/datapath). A latency-bound backing (a
  // disk far from saturation at this depth) lands near it rather than near the ceiling.
  double serial_bound_mbs() const;
  // Bytes moved per user byte in the encrypted phase.
  double copies_per_byte() const;
  double bus_per_byte() const;      // to the card/drive and back
  double storage_dma_per_byte() const;
  double memory_per_byte() const;   // the model's byte flow for this placement
};

struct ContentionReport {
  ContentionOptions options;
  unsigned cpus = 0;
  MemoryBandwidth memory;
  std::vector<ContentionCell> cells;
  std::vector<std::string> skipped;  // "kernel: <why it cannot run the cipher>"
};

// Everything that can be refused, refused before any I/O: targets, workload, providers.
Status check_contention(const ContentionOptions& options, std::vector<Provider*>* providers,
                        std::vector<std::string>* skipped);

Status run_contention(const ContentionOptions& options, ProgressDisplay& progress,
                      ContentionReport* out);

// The model's inputs for a provider at `placement`: cipher CPU per MB from the provider
// alone, storage from storage alone, the cores the process gets from the together phase
// (its process CPU / wall time), the engine's own cost from the cipher_null datapath phase
// (empty: unknown) and the run's memory figure.
MachineFigures figures_from(Placement placement, const WorkloadResult& storage_alone,
                            const CryptoResult& crypto_alone, const WorkloadResult& together,
                            const WorkloadResult& datapath, const MemoryBandwidth& memory,
                            unsigned cpus);

}  // namespace ublkcrypt

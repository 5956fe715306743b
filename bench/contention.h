// ContentionReport: do storage traffic and crypto traffic slow each other down on this
// machine, and by how much? For each target and provider, five phases: storage alone,
// crypto alone (run_crypto_load), both together, the engine with cipher_null (the
// datapath's own cost), and the encrypted engine, whose throughput the placement model
// predicts from the others (docs/placement-model.md says what each phase runs and why).
// The phases run in interleaved rounds and each figure is its phase's median round: the
// CPU share a process gets on a shared machine swings from second to second, and this
// puts the model's inputs and the measurement in the same stretch of time.
#pragma once

#include <string>
#include <vector>

#include "bench/placement_model.h"
#include "bench/progress.h"
#include "bench/provider_load.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

struct ContentionOptions {
  std::vector<std::string> targets;
  std::vector<std::string> providers;  // empty = every built-in provider that runs the cipher
  // Runtime is phase_seconds. The engine phases send a completion pass's I/Os in one
  // submission; storage alone does the same, so its figure is the ceiling the engine meets.
  // With one submission per I/O (bench storage's default, fio's), a raw disk phase can run
  // below the engine over it, and the model's storage ceiling predicts too low.
  Workload storage{.rw = "write", .iodepth_batch = 0};
  // Request size is the workload's block size; depth 0 = the workload's I/Os in flight
  // (iodepth x jobs).
  CryptoLoadOptions crypto{{.depth = 0}};
  double phase_seconds = 2;            // per phase, all rounds together
  unsigned rounds = 3;                 // interleaved rounds of the five phases
  bool force = false;                  // write on a target that holds a filesystem / LUKS
};

// Memory bandwidth as the machine gives it to us: memcpy over buffers far larger than the
// cache, on one thread and on every core at once. A proxy: neither a Firecracker guest nor
// most cloud VMs expose memory-controller counters (no uncore PMU, no resctrl MBM).
struct MemoryBandwidth {
  double copy_mbs_one_thread = 0;  // bytes copied per second
  double copy_mbs_all_threads = 0;
  unsigned threads = 0;
  // A memcpy of n bytes moves 2n through memory (read the source, write the destination).
  double traffic_mbs() const { return 2 * copy_mbs_all_threads; }
};

// What one round of a cell measured, or, in the cell, each phase's median round.
struct ContentionPhases {
  WorkloadResult storage_alone;
  CryptoResult crypto_alone;
  WorkloadResult storage_together;
  CryptoResult crypto_together;
  WorkloadResult datapath;          // engine, cipher_null
  WorkloadResult encrypted;
  CounterDelta encrypted_counters;  // the provider's counters over the encrypted phase
  uint64_t encrypted_storage_bytes = 0;  // what the backing moved in it (Engine::storage_bytes)
  uint64_t encrypted_memory_bytes = 0;   // its passes over host memory (engine_memory_bytes)
  double other_cores = -1;          // CPU other processes took in the together phase (-1: unknown)
};

// Each phase's median round (by throughput; the lower middle for an even count).
ContentionPhases median_phases(const std::vector<ContentionPhases>& rounds);

// The two engine phases of a round: `w` over the first `region` bytes through `datapath`
// (an engine with cipher_null: the datapath's own cost) and through `encrypted`, the
// encrypted one first or second; `where` labels the progress line. `bench contention` and
// `engine-bench` run them.
Status run_engine_phases(Engine& datapath, Engine& encrypted, const Workload& w, uint64_t region,
                         bool encrypted_first, const std::string& where, ContentionPhases* r);

struct ContentionCell : ContentionPhases {
  std::string target;
  std::string provider;
  Placement placement = Placement::host_cpu;
  std::string cipher;               // what this cell ran (cipher_null for an inline device)
  MachineFigures figures;           // the model's inputs, from the phases
  PlacementPrediction prediction;   // for this provider's placement
  // Per round: the model's prediction from that round's figures, and the measurement.
  std::vector<double> round_predicted_mbs;
  std::vector<double> round_measured_mbs;

  static double ratio(double a, double b) { return b > 0 ? a / b : 0; }
  double storage_ratio() const { return ratio(storage_together.mbs(), storage_alone.mbs()); }
  double crypto_ratio() const { return ratio(crypto_together.mbs(), crypto_alone.mbs()); }
  double encrypted_ratio() const { return ratio(encrypted.mbs(), storage_alone.mbs()); }
  double model_ratio() const { return ratio(encrypted.mbs(), prediction.ceiling_mbs); }
  double model_error() const { return prediction.ceiling_mbs > 0 ? model_ratio() - 1 : 0; }
  // Bytes moved per user byte in the encrypted phase: extra host copies, over the bus to a
  // card or drive and back, DMA of the backing, and memory by the model's byte flow.
  double copies_per_byte() const {
    return ratio(double(encrypted_counters.copy_bytes), double(encrypted_counters.payload_bytes));
  }
  double bus_per_byte() const {
    return ratio(double(encrypted_counters.bytes_to_device + encrypted_counters.bytes_from_device),
                 double(encrypted_counters.payload_bytes));
  }
  double storage_dma_per_byte() const {
    return ratio(double(encrypted_storage_bytes), double(encrypted.bytes()));
  }
  double memory_per_byte() const { return prediction.limit("memory").per_user_byte; }
};

struct ContentionReport {
  ContentionOptions options;
  unsigned cpus = 0;
  MemoryBandwidth memory;
  std::vector<ContentionCell> cells;
  std::vector<std::string> skipped;  // "kernel: <why it cannot run the cipher>"
};

// Refuses what it can before any I/O (targets, workload, providers), then runs.
Status run_contention(const ContentionOptions& options, ContentionReport* out);

// The model's inputs for a provider at `placement`, running workload `w`: cipher CPU per MB
// and the provider's rate from the provider alone, storage from storage alone, the engine's
// own cost and rate from the cipher_null datapath phase (empty: unknown), the machine's
// `cpus`, the cores it leaves this process (`cpus` less the other processes' CPU in the
// together phase; negative: unknown) and the run's memory figure.
MachineFigures figures_from(Placement placement, const Workload& w, const ContentionPhases& p,
                            const MemoryBandwidth& memory, unsigned cpus);

// ---- `bench model`: the model's predictions for one set of machine figures, beside what
// a contention run measured for the placements present ----

struct ModelReport {
  MachineFigures figures;  // as given (or from the first measured cell)
  std::vector<PlacementPrediction> predictions;
  // A contention run's cells, each predicted from its own inputs beside its measured
  // encrypted throughput; empty without one.
  std::vector<ContentionCell> measured;
};

}  // namespace ublkcrypt

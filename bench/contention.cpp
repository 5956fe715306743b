#include "bench/contention.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "backends/registry.h"
#include "bench/cpu_clock.h"
#include "bench/workload_run.h"
#include "bench/scratch_volume.h"
#include "bench/workload.h"

namespace ublkcrypt {

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

constexpr const char* kNullCipher = "cipher_null-ecb";
// The datapath phase's provider for the card and drive rows: the inline-device one, which
// passes cipher_null through on the submitting thread, with no work and no handoff: the
// engine's own cost and nothing else (the card's handoff is its cipher stage, in the
// provider-alone phase).
constexpr const char* kNullProvider = "opal";

// The host-cpu row's datapath phase runs its own provider with cipher_null: the software
// pool hands runs of 64 KiB and more to its workers and back, and the queue thread's side
// of that handoff (waking them, taking their completions) is serial time the encrypted
// engine pays too, in no other phase. Through the inline provider instead, the host's
// tmpfs row came out 16-47% below its prediction (beyond 20% in five of eleven runs).
Provider& datapath_provider(Provider& measured, Provider& inline_null) {
  return measured.info().placement == Placement::host_cpu ? measured : inline_null;
}

// The workload through the engine with `provider` and `c`'s cipher.
Status run_engine_phase(const std::string& target, Provider& provider, const CryptoLoadOptions& c,
                        const Workload& w, uint64_t region, WorkloadResult* out,
                        CounterDelta* counters, uint64_t* storage_bytes = nullptr) {
  CipherSpec spec;
  if (Status s = CipherSpec::parse(c.cipher, c.key_bits, c.sector_size, &spec); !s.ok()) return s;
  std::unique_ptr<Engine> engine;
  if (Status s = open_scratch_engine(target, spec, provider.info().name, {}, &engine); !s.ok())
    return s.in("bench " + target);
  const CounterDelta before = CounterDelta::read(provider.counters());
  if (Status s = run_workload(engine_ports(*engine), w, region, out); !s.ok()) return s;
  if (counters) *counters = CounterDelta::between(before, CounterDelta::read(provider.counters()));
  if (storage_bytes) *storage_bytes = engine->storage_bytes();
  return Status::Ok();
}

// The round whose `key` is the median (the lower middle for an even count).
template <typename T, typename Key>
size_t median_index(const std::vector<T>& rounds, Key key) {
  std::vector<size_t> order(rounds.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return key(rounds[a]) < key(rounds[b]); });
  return order[(order.size() - 1) / 2];
}

struct Round {
  double other_cores = -1;  // CPU other processes took during the together phase
  WorkloadResult storage_alone;
  CryptoResult crypto_alone;
  WorkloadResult storage_together;
  CryptoResult crypto_together;
  WorkloadResult datapath;
  WorkloadResult encrypted;
  CounterDelta encrypted_counters;
  uint64_t encrypted_storage_bytes = 0;
};

Status run_round(const std::string& target, Provider& provider,
                 Provider& null_provider, const CryptoLoadOptions& c, const Workload& w,
                 const std::string& where, bool encrypted_first, ProgressDisplay& progress,
                 Round* r) {
  const double seconds = w.runtime_seconds;
  std::unique_ptr<Storage> storage;
  if (Status s = open_workload_storage(target, w, &storage); !s.ok()) return s;
  const uint64_t region = workload_region(w, storage->info().size_bytes);
  const PortFactory raw = storage_ports(*storage);

  progress.phase(where + ": storage alone", seconds);
  if (Status s = run_workload(raw, w, region, &r->storage_alone); !s.ok()) return s;

  progress.phase(where + ": crypto alone", seconds);
  if (Status s = run_crypto_load(provider, c, &r->crypto_alone); !s.ok()) return s;

  progress.phase(where + ": storage + crypto together", seconds);
  const double busy_before = machine_busy_seconds();
  const Stopwatch together;
  Status crypto_status;
  std::thread crypto(
      [&] { crypto_status = run_crypto_load(provider, c, &r->crypto_together); });
  Status storage_status = run_workload(raw, w, region, &r->storage_together);
  crypto.join();
  if (!storage_status.ok()) return storage_status;
  if (!crypto_status.ok()) return crypto_status;
  const double busy_after = machine_busy_seconds();
  if (busy_before >= 0 && busy_after >= 0 && together.wall_seconds() > 0)
    r->other_cores = std::max(
        0.0, (busy_after - busy_before - together.cpu_seconds()) / together.wall_seconds());
  storage.reset();

  CryptoLoadOptions null_cipher = c;
  null_cipher.cipher = kNullCipher;
  null_cipher.key_bits = 0;
  auto datapath = [&] {
    progress.phase(where + ": datapath (engine, cipher_null)", seconds);
    return run_engine_phase(target, null_provider, null_cipher, w, region, &r->datapath,
                            nullptr);
  };
  auto encrypted = [&] {
    progress.phase(where + ": encrypted (engine)", seconds);
    return run_engine_phase(target, provider, c, w, region, &r->encrypted,
                            &r->encrypted_counters, &r->encrypted_storage_bytes);
  };
  // The engine phases take turns at going first. The first follows the heavy "together"
  // phase (in a VM the host may still be writing QEMU's disk file back), and in a fixed
  // order that lands on the same one every round: the opal row's encrypted phase, the same
  // pass-through as its cipher_null phase, came out 2-24% faster in five VM runs.
  if (encrypted_first) {
    if (Status s = encrypted(); !s.ok()) return s;
    return datapath();
  }
  if (Status s = datapath(); !s.ok()) return s;
  return encrypted();
}

// One untimed pass of the workload over its region on the raw target, before the target's
// first measured phase. A first write allocates what later writes only overwrite: tmpfs
// pages, the blocks of a sparse file under a VM's emulated disk (QEMU's backing file),
// zram's slots; a first read fills the page cache. Without it the first phase of a run
// measures the allocation and the phases after it do not.
Status warm_up(const Workload& workload, const std::string& target, ProgressDisplay& progress) {
  std::unique_ptr<Storage> storage;
  if (Status s = open_workload_storage(target, workload, &storage); !s.ok()) return s;
  Workload pass = workload;
  pass.runtime_seconds = 0;  // one pass of the region
  const uint64_t region = workload_region(pass, storage->info().size_bytes);
  progress.phase(target + ": warm-up (one untimed pass over the region)", 0);
  WorkloadResult ignored;
  return run_workload(storage_ports(*storage), pass, region, &ignored);
}

Status run_cell(const ContentionOptions& o, const std::string& target, Provider& provider,
                Provider& null_provider, const MemoryBandwidth& memory, unsigned cpus,
                ProgressDisplay& progress, ContentionCell* cell) {
  cell->target = target;
  cell->provider = provider.info().name;
  cell->placement = provider.info().placement;
  const unsigned rounds = std::max(1u, o.rounds);
  Workload w = o.storage;
  w.runtime_seconds = o.phase_seconds / rounds;
  CryptoLoadOptions c = crypto_options_for(provider, o);
  c.seconds = w.runtime_seconds;
  cell->cipher = c.cipher;

  std::vector<Round> all(rounds);
  for (unsigned i = 0; i < rounds; ++i) {
    const std::string where =
        rounds > 1 ? fmt::format("{} / {} (round {}/{})", target, cell->provider, i + 1, rounds)
                   : fmt::format("{} / {}", target, cell->provider);
    if (Status s = run_round(target, provider, null_provider, c, w, where,
                             /*encrypted_first=*/i % 2 == 1, progress, &all[i]);
        !s.ok())
      return s;
    const MachineFigures f =
        figures_from(cell->placement, w, all[i].storage_alone, all[i].crypto_alone,
                     all[i].datapath, all[i].other_cores, memory, cpus);
    cell->round_predicted_mbs.push_back(predict_placement(cell->placement, f).ceiling_mbs);
    cell->round_measured_mbs.push_back(all[i].encrypted.mbs());
  }
  auto wmbs = [](const auto& member) {
    return [member](const Round& r) { return (r.*member).mbs(); };
  };
  cell->storage_alone = all[median_index(all, wmbs(&Round::storage_alone))].storage_alone;
  cell->crypto_alone = all[median_index(all, wmbs(&Round::crypto_alone))].crypto_alone;
  cell->storage_together =
      all[median_index(all, wmbs(&Round::storage_together))].storage_together;
  cell->crypto_together = all[median_index(all, wmbs(&Round::crypto_together))].crypto_together;
  cell->datapath = all[median_index(all, wmbs(&Round::datapath))].datapath;
  const Round& median_encrypted = all[median_index(all, wmbs(&Round::encrypted))];
  cell->encrypted = median_encrypted.encrypted;
  cell->encrypted_counters = median_encrypted.encrypted_counters;
  cell->encrypted_storage_bytes = median_encrypted.encrypted_storage_bytes;

  cell->other_cores = all[median_index(all, [](const Round& r) { return r.other_cores; })]
                          .other_cores;
  cell->figures = figures_from(cell->placement, w, cell->storage_alone, cell->crypto_alone,
                               cell->datapath, cell->other_cores, memory, cpus);
  cell->prediction = predict_placement(cell->placement, cell->figures);
  return Status::Ok();
}

}  // namespace

double ContentionCell::storage_ratio() const {
  return ratio(storage_together.mbs(), storage_alone.mbs());
}
double ContentionCell::crypto_ratio() const {
  return ratio(crypto_together.mbs(), crypto_alone.mbs());
}
double ContentionCell::encrypted_ratio() const {
  return ratio(encrypted.mbs(), storage_alone.mbs());
}
double ContentionCell::model_ratio() const {
  return ratio(encrypted.mbs(), prediction.ceiling_mbs);
}
double ContentionCell::copies_per_byte() const {
  return ratio(double(encrypted_counters.copy_bytes), double(encrypted_counters.payload_bytes));
}
double ContentionCell::bus_per_byte() const {
  return ratio(double(encrypted_counters.bytes_to_device + encrypted_counters.bytes_from_device),
               double(encrypted_counters.payload_bytes));
}
double ContentionCell::storage_dma_per_byte() const {
  return ratio(double(encrypted_storage_bytes), double(encrypted.bytes()));
}
double ContentionCell::memory_per_byte() const {
  for (const ResourceLimit& l : prediction.limits)
    if (l.resource == "memory") return l.per_user_byte;
  return 0;
}

CryptoLoadOptions crypto_options_for(const Provider& p, const ContentionOptions& o) {
  CryptoLoadOptions out = o.crypto;
  out.request_bytes = o.storage.block_bytes;
  if (out.depth == 0) out.depth = std::max(1u, o.storage.iodepth * o.storage.jobs);
  // An inline device serves cipher_null only (the drive encrypts, the host passes the data
  // through), whatever the run's cipher.
  if (p.info().placement == Placement::inline_device && !check_crypto_options(p, out).ok()) {
    out.cipher = kNullCipher;
    out.key_bits = 0;
  }
  return out;
}

MachineFigures figures_from(Placement placement, const Workload& w,
                            const WorkloadResult& storage_alone, const CryptoResult& crypto_alone,
                            const WorkloadResult& datapath, double other_cores,
                            const MemoryBandwidth& memory, unsigned cpus) {
  MachineFigures m;
  // The machine's cores are the ceiling. What it leaves this process on a shared machine
  // (other processes' CPU measured over the together phase; it swings, and the rounds put
  // it next to the other figures in time) tells how much of it the cipher fills. At least a
  // tenth of a core: a process that ran at all got that much.
  m.cores = cpus;
  m.cores_left = other_cores >= 0 ? std::max(0.1, double(cpus) - other_cores) : 0;
  auto core_s_per_mb = [](double cpu_seconds, uint64_t bytes) {
    return bytes ? cpu_seconds / (double(bytes) / 1e6) : 0.0;
  };
  switch (placement) {
    case Placement::host_cpu:
      // MB per CPU-second the cipher cost alone (its workers' CPU time, not wall time).
      if (crypto_alone.cpu_seconds > 0)
        m.cipher_mbs_per_core = double(crypto_alone.bytes) / 1e6 / crypto_alone.cpu_seconds;
      break;
    case Placement::lookaside_card:
      m.card_mbs = crypto_alone.mbs();
      m.card_core_s_per_mb = core_s_per_mb(crypto_alone.cpu_seconds, crypto_alone.bytes);
      break;
    case Placement::inline_device:
      break;  // the drive's cipher runs at its line rate: the storage figures hold it
  }
  m.provider_mbs = crypto_alone.mbs();
  m.provider_cores = crypto_alone.cores();
  m.provider_placement = placement;
  m.inflight = double(w.iodepth) * w.jobs;
  m.request_bytes = w.block_bytes;
  m.memory_mbs = memory.traffic_mbs();
  m.storage_mbs = storage_alone.mbs();
  m.storage_core_s_per_mb = core_s_per_mb(storage_alone.cpu_seconds, storage_alone.bytes());
  m.datapath_mbs = datapath.mbs();
  m.datapath_core_s_per_mb = core_s_per_mb(datapath.cpu_seconds, datapath.bytes());
  m.datapath_serial_core_s_per_mb = core_s_per_mb(datapath.serial_cpu_seconds, datapath.bytes());
  return m;
}

Status check_contention(const ContentionOptions& o, std::vector<Provider*>* providers,
                        std::vector<std::string>* skipped) {
  if (!(o.phase_seconds > 0))
    return Status(Errc::invalid_argument,
                  "bench contention: duration of zero (give --runtime above 0 per phase)");
  if (o.targets.empty())
    return Status(Errc::invalid_argument, "bench contention: no target (give --target PATH)");
  Workload w = o.storage;
  w.runtime_seconds = o.phase_seconds;
  for (const std::string& t : o.targets) {
    StorageInfo info;
    if (Status s = check_target(t, w, o.force, o.crypto.sector_size, &info); !s.ok()) return s;
  }
  if (o.rounds == 0 || o.rounds > 100)
    return Status(Errc::invalid_argument,
                  fmt::format("bench contention: {} rounds is outside 1..100", o.rounds));
  auto options_for = [&](const Provider& p) {
    CryptoLoadOptions c = crypto_options_for(p, o);
    c.seconds = o.phase_seconds;
    return c;
  };
  if (builtin_registry().find(kNullProvider) == nullptr)
    return Status(Errc::not_found,
                  fmt::format("bench contention: the {} provider (the cipher_null datapath "
                              "phase) is not present in this build",
                              kNullProvider));
  return select_providers("bench contention", o.providers, o.crypto.cipher,
                          [&](const Provider& p) { return check_crypto_options(p, options_for(p)); },
                          providers, skipped);
}

Status run_contention(const ContentionOptions& o, ProgressDisplay& progress,
                      ContentionReport* out) {
  std::vector<Provider*> providers;
  out->skipped.clear();
  if (Status s = check_contention(o, &providers, &out->skipped); !s.ok()) return s;
  out->options = o;
  if (out->options.crypto.depth == 0)  // as run: the workload's I/Os in flight
    out->options.crypto.depth = std::max(1u, o.storage.iodepth * o.storage.jobs);
  // What each phase ran in one round.
  out->options.storage.runtime_seconds = o.phase_seconds / std::max(1u, o.rounds);
  out->cpus = std::max(1u, std::thread::hardware_concurrency());
  progress.phase("memory bandwidth (memcpy)", 0.6);
  if (Status s = measure_memory_bandwidth(0.3, 64ull << 20, &out->memory); !s.ok()) return s;
  out->cells.clear();
  Provider* null_provider = builtin_registry().find(kNullProvider);
  for (const std::string& target : o.targets) {
    if (Status s = warm_up(o.storage, target, progress); !s.ok()) return s;
    for (Provider* p : providers) {
      ContentionCell cell;
      if (Status s = run_cell(o, target, *p, datapath_provider(*p, *null_provider),
                              out->memory, out->cpus, progress, &cell);
          !s.ok())
        return s;
      out->cells.push_back(std::move(cell));
    }
  }
  progress.done();
  return Status::Ok();
}

ModelReport build_model_report(const MachineFigures& figures, const ContentionReport* measured) {
  ModelReport r;
  r.figures = figures;
  r.predictions = predict_all(figures);
  if (measured != nullptr)
    for (const ContentionCell& c : measured->cells)
      r.measured.push_back({c.target, c.provider, c.placement, c.prediction.ceiling_mbs,
                            c.prediction.bottleneck, c.encrypted.mbs()});
  return r;
}

}  // namespace ublkcrypt

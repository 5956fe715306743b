#include "bench/contention.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "backends/registry.h"
#include "bench/cpu_clock.h"
#include "bench/median.h"
#include "bench/page_buffer.h"
#include "bench/scratch_volume.h"

namespace ublkcrypt {

namespace {

// The datapath phase's provider for the card and drive rows: the inline-device one, which
// passes cipher_null through on the submitting thread, with no work and no handoff: the
// engine's own cost and nothing else (the card's handoff is its cipher stage, in the
// provider-alone phase).
constexpr const char* kNullProvider = "opal";

// The host-cpu row's datapath phase runs its own provider with cipher_null: the software
// pool hands large runs to its workers and back, and the queue thread's side of that
// handoff (waking them, taking their completions) is serial time the encrypted engine pays
// too, in no other phase. Through the inline provider the prediction missed it.
Provider& datapath_provider(Provider& measured, Provider& inline_null) {
  return measured.info().placement == Placement::host_cpu ? measured : inline_null;
}

// Bytes `threads` threads copy per second, each between two buffers of `bytes`, for about
// `seconds`; -1 when memory ran out.
double copy_rate(unsigned threads, double seconds, uint64_t bytes) {
  std::vector<PageBuffer> buffers;
  for (unsigned i = 0; i < 2 * threads; ++i)
    if (buffers.emplace_back(bytes, i).data() == nullptr) return -1;
  std::atomic<uint64_t> copied{0};
  const Stopwatch clock;
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      uint8_t *a = buffers[2 * t].data(), *b = buffers[2 * t + 1].data();
      uint64_t mine = 0;
      for (; clock.wall_seconds() < seconds; mine += bytes, std::swap(a, b))
        std::memcpy(b, a, bytes);
      copied += mine;
    });
  for (std::thread& w : workers) w.join();
  return mb_per_second(copied.load(), clock.wall_seconds());
}

Status run_round(const std::string& target, Provider& provider, Provider& null_provider,
                 const CryptoLoadOptions& c, const Workload& w, const std::string& where,
                 bool encrypted_first, ContentionPhases* r) {
  const double seconds = w.runtime_seconds;
  std::unique_ptr<Storage> storage;
  if (Status s = open_workload_storage(target, w, &storage); !s.ok()) return s;
  const uint64_t region = workload_region(w, storage->info().size_bytes);
  const PortFactory raw = storage_ports(*storage);

  show_phase(where + ": storage alone", seconds);
  if (Status s = run_workload(raw, w, region, &r->storage_alone); !s.ok()) return s;
  show_phase(where + ": crypto alone", seconds);
  if (Status s = run_crypto_load(provider, c, &r->crypto_alone); !s.ok()) return s;

  show_phase(where + ": storage + crypto together", seconds);
  const double busy_before = machine_busy_seconds();
  const Stopwatch together;
  Status crypto_status;
  std::thread crypto([&] { crypto_status = run_crypto_load(provider, c, &r->crypto_together); });
  Status storage_status = run_workload(raw, w, region, &r->storage_together);
  crypto.join();
  if (!storage_status.ok()) return storage_status;
  if (!crypto_status.ok()) return crypto_status;
  const double busy_after = machine_busy_seconds();
  if (busy_before >= 0 && busy_after >= 0 && together.wall_seconds() > 0)
    r->other_cores = std::max(
        0.0, (busy_after - busy_before - together.cpu_seconds()) / together.wall_seconds());
  storage.reset();

  // The engine phases take turns at going first: the first follows the heavy "together"
  // phase (in a VM the host may still be writing QEMU's disk file back), and a fixed order
  // would hand that to the same phase every round.
  std::unique_ptr<Engine> datapath, encrypted;
  Status s = open_scratch_engine(target, with_null_cipher(c), null_provider.info().name, {},
                                 &datapath);
  if (s.ok()) s = open_scratch_engine(target, c, provider.info().name, {}, &encrypted);
  if (!s.ok()) return s.in("bench " + target);
  return run_engine_phases(*datapath, *encrypted, w, region, encrypted_first, where, r);
}

// One untimed pass of the workload over its region on the raw target, before the target's
// first measured phase. A first write allocates what later writes only overwrite: tmpfs
// pages, the blocks of a sparse file under a VM's emulated disk (QEMU's backing file),
// zram's slots; a first read fills the page cache. Without it the first phase of a run
// measures the allocation and the phases after it do not.
Status warm_up(Workload pass, const std::string& target) {
  std::unique_ptr<Storage> storage;
  if (Status s = open_workload_storage(target, pass, &storage); !s.ok()) return s;
  pass.runtime_seconds = 0;  // one pass of the region
  show_phase(target + ": warm-up (one untimed pass over the region)", 0);
  WorkloadResult ignored;
  return run_workload(storage_ports(*storage), pass,
                      workload_region(pass, storage->info().size_bytes), &ignored);
}

// The round whose `key` is the median (bench/median.h).
template <typename Key>
const ContentionPhases& median_round(const std::vector<ContentionPhases>& rounds, Key key) {
  return rounds[median_index(rounds, key)];
}

// The crypto load a contention run (its options as run) gives `provider`: the workload's
// block size and round length, cipher_null for an inline device (the drive encrypts, the
// host passes the data through), whatever the run's cipher.
CryptoLoadOptions crypto_options_for(const Provider& p, const ContentionOptions& o) {
  CryptoLoadOptions out = o.crypto;
  out.request_bytes = o.storage.block_bytes;
  out.seconds = o.storage.runtime_seconds;
  if (p.info().placement == Placement::inline_device && !check_crypto_options(p, out).ok())
    return with_null_cipher(out);
  return out;
}

Status run_cell(const ContentionOptions& o, const std::string& target, Provider& provider,
                Provider& null_provider, const MemoryBandwidth& memory, unsigned cpus,
                ContentionCell* cell) {
  cell->target = target;
  cell->provider = provider.info().name;
  cell->placement = provider.info().placement;
  const Workload& w = o.storage;
  const CryptoLoadOptions c = crypto_options_for(provider, o);
  cell->cipher = c.cipher;
  std::vector<ContentionPhases> all(o.rounds);
  for (unsigned i = 0; i < o.rounds; ++i) {
    const std::string where = fmt::format("{} / {}", target, cell->provider) +
                              (o.rounds > 1 ? fmt::format(" (round {}/{})", i + 1, o.rounds) : "");
    if (Status s = run_round(target, provider, null_provider, c, w, where, i % 2 == 1,
                             &all[i]);
        !s.ok())
      return s;
    const MachineFigures f = figures_from(cell->placement, w, all[i], memory, cpus);
    cell->round_predicted_mbs.push_back(predict_placement(cell->placement, f).ceiling_mbs);
    cell->round_measured_mbs.push_back(all[i].encrypted.mbs());
  }
  static_cast<ContentionPhases&>(*cell) = median_phases(all);
  cell->figures = figures_from(cell->placement, w, *cell, memory, cpus);
  cell->prediction = predict_placement(cell->placement, cell->figures);
  return Status::Ok();
}

}  // namespace

Status run_engine_phases(Engine& datapath, Engine& encrypted, const Workload& w, uint64_t region,
                         bool encrypted_first, const std::string& where, ContentionPhases* r) {
  for (bool is_encrypted : {encrypted_first, !encrypted_first}) {
    show_phase(where + (is_encrypted ? ": encrypted (engine)" : ": datapath (engine, cipher_null)"),
               w.runtime_seconds);
    Engine& engine = is_encrypted ? encrypted : datapath;
    const ProviderCounters& counters = engine.session().provider()->counters();
    const CounterDelta before = CounterDelta::read(counters);
    const uint64_t storage_before = engine.storage_bytes();
    const uint64_t memory_before = engine_memory_bytes(engine);
    WorkloadResult* result = is_encrypted ? &r->encrypted : &r->datapath;
    if (Status s = run_workload(engine_ports(engine), w, region, result); !s.ok()) return s;
    if (is_encrypted) {
      r->encrypted_counters = CounterDelta::read(counters) - before;
      r->encrypted_storage_bytes = engine.storage_bytes() - storage_before;
      r->encrypted_memory_bytes = engine_memory_bytes(engine) - memory_before;
    }
  }
  return Status::Ok();
}

ContentionPhases median_phases(const std::vector<ContentionPhases>& all) {
  ContentionPhases m;
  for (auto p : {&ContentionPhases::storage_alone, &ContentionPhases::storage_together,
                 &ContentionPhases::datapath})
    m.*p = median_round(all, [p](const ContentionPhases& r) { return (r.*p).mbs(); }).*p;
  for (auto p : {&ContentionPhases::crypto_alone, &ContentionPhases::crypto_together})
    m.*p = median_round(all, [p](const ContentionPhases& r) { return (r.*p).mbs(); }).*p;
  const ContentionPhases& e = median_round(all, [](auto& r) { return r.encrypted.mbs(); });
  m.encrypted = e.encrypted;
  m.encrypted_counters = e.encrypted_counters;
  m.encrypted_storage_bytes = e.encrypted_storage_bytes;
  m.encrypted_memory_bytes = e.encrypted_memory_bytes;
  m.other_cores = median_round(all, [](auto& r) { return r.other_cores; }).other_cores;
  return m;
}

MachineFigures figures_from(Placement placement, const Workload& w, const ContentionPhases& p,
                            const MemoryBandwidth& memory, unsigned cpus) {
  MachineFigures m;
  // The machine's cores are the ceiling. What it leaves this process on a shared machine
  // (other processes' CPU measured over the together phase; it swings, and the rounds put
  // it next to the other figures in time) tells how much of it the cipher fills. At least a
  // tenth of a core: a process that ran at all got that much.
  m.cores = cpus;
  m.cores_left = p.other_cores >= 0 ? std::max(0.1, double(cpus) - p.other_cores) : 0;
  auto core_s_per_mb = [](double cpu_seconds, uint64_t bytes) {
    return bytes ? cpu_seconds / (double(bytes) / 1e6) : 0.0;
  };
  const CryptoResult& crypto = p.crypto_alone;
  // Host cipher: MB per CPU-second of the cipher alone (its workers' CPU time, not wall
  // time). A card: its rate, and the host CPU its path costs. An inline device's cipher
  // runs at its line rate: the storage figures hold it.
  if (placement == Placement::host_cpu) m.cipher_mbs_per_core = crypto.mbs_per_cpu();
  if (placement == Placement::lookaside_card) {
    m.card_mbs = crypto.mbs();
    m.card_core_s_per_mb = core_s_per_mb(crypto.cpu_seconds, crypto.bytes);
  }
  m.provider_mbs = crypto.mbs();
  m.provider_cores = crypto.cores();
  m.provider_placement = placement;
  m.inflight = double(w.iodepth) * w.jobs;
  m.request_bytes = w.block_bytes;
  m.memory_mbs = memory.traffic_mbs();
  m.storage_mbs = p.storage_alone.mbs();
  m.storage_core_s_per_mb = core_s_per_mb(p.storage_alone.cpu_seconds, p.storage_alone.bytes());
  m.datapath_mbs = p.datapath.mbs();
  m.datapath_core_s_per_mb = core_s_per_mb(p.datapath.cpu_seconds, p.datapath.bytes());
  m.datapath_serial_core_s_per_mb =
      core_s_per_mb(p.datapath.serial_cpu_seconds, p.datapath.bytes());
  return m;
}

Status run_contention(const ContentionOptions& o, ContentionReport* out) {
  if (!(o.phase_seconds > 0))
    return Status(Errc::invalid_argument,
                  "bench contention: duration of zero (give --runtime above 0 per phase)");
  if (o.targets.empty())
    return Status(Errc::invalid_argument, "bench contention: no target (give --target PATH)");
  Workload w = o.storage;
  w.runtime_seconds = o.phase_seconds;
  for (const std::string& t : o.targets)
    if (Status s = check_target(t, w, o.force, o.crypto.sector_size); !s.ok()) return s;
  if (o.rounds == 0 || o.rounds > 100)
    return Status(Errc::invalid_argument,
                  fmt::format("bench contention: {} rounds is outside 1..100", o.rounds));
  Provider* null_provider = builtin_registry().find(kNullProvider);
  if (null_provider == nullptr)
    return Status(Errc::not_found,
                  fmt::format("bench contention: the {} provider (the cipher_null datapath "
                              "phase) is not present in this build", kNullProvider));
  // The options as run: the crypto depth resolved, the storage runtime one round's phase.
  ContentionOptions& run = out->options = o;
  if (run.crypto.depth == 0) run.crypto.depth = std::max(1u, o.storage.iodepth * o.storage.jobs);
  run.storage.runtime_seconds = o.phase_seconds / o.rounds;
  std::vector<Provider*> providers;
  if (Status s = select_providers(
          "bench contention", o.providers, o.crypto.cipher,
          [&](const Provider& p) { return check_crypto_options(p, crypto_options_for(p, run)); },
          &providers, &out->skipped);
      !s.ok())
    return s;
  out->cpus = std::max(1u, std::thread::hardware_concurrency());
  MemoryBandwidth& m = out->memory;
  show_phase("memory bandwidth (memcpy)", 0.6);
  m.threads = out->cpus;
  m.copy_mbs_one_thread = copy_rate(1, 0.3, 64ull << 20);
  m.copy_mbs_all_threads = copy_rate(m.threads, 0.3, 64ull << 20);
  if (m.copy_mbs_one_thread < 0 || m.copy_mbs_all_threads < 0)
    return Status(Errc::no_memory, "bench: memory bandwidth buffers");
  out->cells.clear();
  for (const std::string& target : o.targets) {
    if (Status s = warm_up(run.storage, target); !s.ok()) return s;
    for (Provider* p : providers) {
      ContentionCell& cell = out->cells.emplace_back();
      if (Status s = run_cell(run, target, *p, datapath_provider(*p, *null_provider), out->memory,
                              out->cpus, &cell);
          !s.ok())
        return s;
    }
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

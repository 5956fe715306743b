// ublkcrypt bench storage|crypto|contention|model: where should crypto live on this
// machine? ublkcrypt benchmark: each provider's cipher beside openssl speed. ublkcrypt
// engine-bench: is the engine the limit, or the cipher? The work is in bench/
// (docs/benchmarks.md); this file is options and output.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "bench/report.h"
#include "bench/scratch_volume.h"
#include "tools/command.h"
#include "tools/passphrase.h"

namespace ublkcrypt {

namespace {

// A benchmark verb under `parent` that runs `run` on its options and prints the report: a
// table, or JSON. Returns the verb and its options, for the caller to add its own to.
template <typename Options, typename Report>
std::pair<CLI::App*, std::shared_ptr<Options>> add_verb(CLI::App* parent, const char* name,
                                                         const char* help,
                                                         Status (*run)(const Options&, Report*)) {
  auto options = std::make_shared<Options>();
  CLI::App* cmd = parent->add_subcommand(name, help);
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON instead of a table");
  cmd->callback([=] {
    Report run_report;
    const Status s = run(*options, &run_report);
    clear_phase();
    if (!s.ok()) fail(s);
    const BenchReport report = std::move(run_report);
    if (*json) fmt::print("{}\n", to_json(report).dump(2));
    else fmt::print("{}", format_table(report));
  });
  return {cmd, options};
}

void add_workload_options(CLI::App* cmd, Workload& w) {
  cmd->add_option("--rw", w.rw, "read, write, rw, randread, randwrite, randrw");
  cmd->add_option("--rwmixread", w.read_percent, "Percent reads for rw/randrw");
  cmd->add_option("--bs", w.block_bytes, "Block size (4k, 128k, 1m)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--iodepth", w.iodepth, "I/Os in flight per job");
  cmd->add_option("--iodepth_batch", w.iodepth_batch,
                  "I/Os per submission, as fio's iodepth_batch_submit; 0 = iodepth");
  cmd->add_option("--numjobs", w.jobs, "Threads, each with its own io_uring");
  cmd->add_option("--size", w.size_bytes, "Region (and one pass without --runtime); 0 = all")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--seed", w.seed, "Seed for random offsets and the read/write mix");
}

void add_cipher_options(CLI::App* cmd, CryptoLoadOptions& c) {
  cmd->add_option("-c,--cipher", c.cipher, "Cipher");
  cmd->add_option("-s,--key-size", c.key_bits, "Key size in bits");
  cmd->add_option("--sector-size", c.sector_size, "Sector size in bytes");
}

void setup_storage(CLI::App* bench) {
  auto [cmd, o] = add_verb(bench, "storage", "fio-like workload through io_uring on a file or "
                           "block device", run_storage_benchmark);
  cmd->add_option("target", o->target, "File or block device")->required();
  cmd->add_option("--compare", o->compare,
                  "Run the same workload on this path too (an open ublkcrypt device over the "
                  "target) and print the ratio");
  add_workload_options(cmd, o->workload);
  cmd->add_option("--runtime", o->workload.runtime_seconds, "Seconds (0 = one pass of --size)");
  cmd->add_flag("--force", o->force,
                "Write even over a filesystem or LUKS header found on the target");
}

void setup_crypto(CLI::App* bench) {
  auto [cmd, o] = add_verb(bench, "crypto", "Each provider alone at a sweep of request sizes "
                           "and in-flight depths", run_crypto_sweep);
  o->load.sector_size = 512;  // so the sweep can start at 512-byte requests
  o->load.seconds = 0.5;
  cmd->add_option("--provider", o->providers,
                  "Only this provider (repeatable), NAME or NAME:VARIANT (dpdk:crypto_openssl, "
                  "kernel:DRIVER); default every one that runs the cipher");
  cmd->add_option("--sizes", o->request_sizes, "Request sizes")
      ->transform(CLI::AsSizeValue(false))
      ->delimiter(',');
  cmd->add_option("--depths", o->depths, "Requests in flight")->delimiter(',');
  cmd->add_option("--runtime", o->load.seconds, "Seconds per cell and round");
  cmd->add_option("--rounds", o->rounds,
                  "Sweeps one after the other; each figure is its cell's median round, with the range")
      ->check(CLI::Range(1u, 100u));
  cmd->add_flag_callback("--decrypt", [o] { o->load.direction = Direction::decrypt; },
                         "Decrypt instead of encrypt");
  add_cipher_options(cmd, o->load);
}

// The options of a contention run (`bench contention`, and `bench model` with --target).
void add_contention_options(CLI::App* cmd, ContentionOptions* o) {
  cmd->add_option("--target", o->targets,
                  "File or block device to run storage traffic on (repeatable)");
  cmd->add_option("--provider", o->providers,
                  "Only this provider (repeatable); default every one that runs the cipher");
  add_workload_options(cmd, o->storage);
  cmd->add_option("--runtime", o->phase_seconds,
                  "Seconds per phase (five phases per cell), split across the rounds");
  cmd->add_option("--rounds", o->rounds,
                  "Interleaved rounds of the phases; each figure is its phase's median round");
  cmd->add_option("--crypto-depth", o->crypto.depth,
                  "Crypto requests in flight; 0 = as many as the workload's I/Os (iodepth x "
                  "numjobs), which the model's latency term assumes");
  add_cipher_options(cmd, o->crypto);
  cmd->add_flag("--force", o->force,
                "Write even over a filesystem or LUKS header found on a target");
}

void setup_contention(CLI::App* bench) {
  auto [cmd, o] = add_verb(bench, "contention", "Storage traffic alone, crypto alone, both "
                           "together, and the encrypted datapath", run_contention);
  add_contention_options(cmd, o.get());
}

// bench rbd reads the LUKS image's passphrase as the key verbs do (never from argv).
struct RbdBenchArgs {
  RbdComparisonOptions comparison;
  KeyFileOptions key;
};

Status run_rbd_bench(const RbdBenchArgs& a, RbdComparisonReport* out) {
  SecureBytes passphrase;
  Status s = read_passphrase(a.key, "Enter passphrase for " + a.comparison.luks_image + ": ", Verify::no, &passphrase);
  if (!s.ok()) return s;
  RbdComparisonOptions o = a.comparison;
  o.luks_passphrase = passphrase.view();
  return run_rbd_comparison(o, out);
}

void setup_rbd(CLI::App* bench) {
  auto [cmd, a] = add_verb(bench, "rbd", "librbd, ublkcrypt on librbd and librbd's own LUKS side by side on "
                           "one cluster, and where encrypting costs least", run_rbd_bench);
  RbdComparisonOptions& o = a->comparison;
  cmd->add_option("--image", o.image, "rbd:POOL/IMAGE for the librbd and ublkcrypt rows (written over)")
      ->required();
  cmd->add_option("--luks-image", o.luks_image,
                  "rbd:POOL/IMAGE formatted by `rbd encryption format`, for the librbd LUKS row")
      ->required();
  add_key_file_options(cmd, &a->key);
  add_workload_options(cmd, o.workload);
  add_cipher_options(cmd, o.crypto);
  cmd->add_option("--runtime", o.runtime_seconds, "Seconds per row, split across the rounds");
  cmd->add_option("--rounds", o.rounds, "Interleaved rounds; each figure is its row's median round");
  cmd->add_flag("--force", o.force, "Write over a LUKS header found on --image");
}

struct ModelOptions {
  MachineFigures given{.bus_share = 1};
  ContentionOptions measure{.phase_seconds = 1};  // with targets: a contention run
};

// The model's predictions for the figures given; with targets, a contention run measures
// the ones not given, and each cell of it is predicted beside its measurement.
Status run_model(const ModelOptions& o, ModelReport* out) {
  MachineFigures figures = o.given;
  figures.inflight = double(o.measure.storage.iodepth) * o.measure.storage.jobs;
  figures.request_bytes = o.measure.storage.block_bytes;
  ContentionReport measured;
  if (!o.measure.targets.empty()) {
    if (Status s = run_contention(o.measure, &measured); !s.ok()) return s;
    const MachineFigures& m = measured.cells.front().figures;
    for (double MachineFigures::*f :
         {&MachineFigures::cores, &MachineFigures::cipher_mbs_per_core,
          &MachineFigures::memory_mbs, &MachineFigures::storage_mbs,
          &MachineFigures::storage_core_s_per_mb, &MachineFigures::datapath_mbs,
          &MachineFigures::datapath_core_s_per_mb})
      if (figures.*f <= 0) figures.*f = m.*f;
    if (figures.provider_mbs <= 0) {
      figures.provider_mbs = m.provider_mbs;
      figures.provider_placement = m.provider_placement;
    }
  }
  *out = {figures, predict_all(figures), std::move(measured.cells)};
  return Status::Ok();
}

void setup_model(CLI::App* bench) {
  auto [cmd, o] = add_verb(bench, "model", "Predict the bottleneck and ceiling per placement; "
                           "with --target, beside a measurement", run_model);
  MachineFigures& g = o->given;
  cmd->add_option("--cores", g.cores, "Cores for the datapath");
  cmd->add_option("--cipher-mbs", g.cipher_mbs_per_core, "Host cipher MB/s per core");
  cmd->add_option("--memory-mbs", g.memory_mbs, "Memory traffic MB/s (read + write)");
  cmd->add_option("--bus-mbs", g.bus_mbs, "I/O bus MB/s (e.g. PCIe 4.0 x8: 15750)");
  cmd->add_option("--bus-share", g.bus_share, "Fraction of the bus for this datapath")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--storage-mbs", g.storage_mbs, "Storage device MB/s");
  cmd->add_option("--storage-cpu", g.storage_core_s_per_mb,
                  "Host core-seconds per MB of storage I/O");
  cmd->add_option("--datapath-mbs", g.datapath_mbs, "The engine's MB/s with cipher_null");
  cmd->add_option("--datapath-cpu", g.datapath_core_s_per_mb,
                  "Host core-seconds per MB of the engine with cipher_null (replaces "
                  "--storage-cpu)");
  cmd->add_option("--card-mbs", g.card_mbs, "Card cipher MB/s");
  cmd->add_option("--provider-mbs", g.provider_mbs,
                  "The provider alone at the workload's depth and block size, MB/s (the "
                  "latency term; with --datapath-mbs)");
  cmd->add_option("--placement", g.provider_placement,
                  "Where that provider sits: host-cpu, lookaside-card, inline-device")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Placement>{{"host-cpu", Placement::host_cpu},
                                           {"lookaside-card", Placement::lookaside_card},
                                           {"inline-device", Placement::inline_device}}));
  cmd->add_option("--card-copies", g.card_copies_per_byte, "Host copies per byte on the card path");
  add_contention_options(cmd, &o->measure);
}

void setup_benchmark(CLI::App* app) {
  auto [cmd, o] = add_verb(app, "benchmark", "Measure cipher throughput of every provider "
                           "beside openssl speed", run_cipher_benchmark);
  cmd->add_option("-c,--cipher", o->cipher,
                  "Only this cipher (aes-xts-plain64, aes-cbc-essiv:sha256, cipher_null-ecb)");
  cmd->add_option("-s,--key-size", o->key_bits, "Only this key size in bits");
  cmd->add_option("--seconds", o->seconds, "Seconds per measured cell")
      ->check(CLI::Range(0.1, 60.0));
  cmd->add_option("--rounds", o->rounds,
                  "Interleaved rounds per cell; each figure is the best round's")
      ->check(CLI::Range(1u, 20u));
  cmd->add_option("--sector-size", o->sector_size, "Sector size in bytes");
}

// ---- engine-bench: a scratch image written and read back sequentially through the engine
// with cipher_null, the provider alone and the encrypted engine, rounds interleaved
// (docs/benchmarks.md says what each row means) ----

struct EngineBenchArgs {
  std::string path = "/dev/shm/ublkcrypt-engine-bench.img";
  uint64_t size = 512ull << 20;
  std::string backend;
  CryptoLoadOptions load;  // cipher, key, sector size; request size and depth
  bool buffered = false;
  unsigned rounds = 3;
};

// CPU microseconds per MB of the plain engine and of the provider alone.
double plain_us(const ContentionPhases& p) { return p.datapath.cpu_ns_per_byte() * 1e3; }
double provider_us(const ContentionPhases& p) {
  return ContentionCell::ratio(1e6, p.crypto_alone.mbs_per_cpu());
}

Status engine_bench(const EngineBenchArgs& a) {
  if (Status s = create_image(a.path, a.size, true); !s.ok()) return s;
  // Each engine serves every round, as a device's serves every request: a fresh one would
  // measure its first touch of the bounce buffers and of a tmpfs image's mapping.
  const FileStorageOptions storage{false, !a.buffered};
  std::unique_ptr<Engine> plain, encrypted;
  Status s = open_scratch_engine(a.path, with_null_cipher(a.load), a.backend, storage, &plain);
  if (s.ok()) s = open_scratch_engine(a.path, a.load, a.backend, storage, &encrypted);
  std::vector<ContentionPhases> rounds[2];  // per side: writes (then a flush), reads
  if (s.ok()) {
    Provider& provider = *encrypted->session().provider();
    fmt::print("image     {} ({} MiB, {} I/O)\n", a.path, encrypted->size_bytes() >> 20,
               encrypted->storage_info().direct_io ? "O_DIRECT" : "buffered");
    fmt::print("cipher    {}, {}-bit key, {}-byte sectors\n", a.load.cipher, a.load.key_bits,
               a.load.sector_size);
    fmt::print("provider  {} ({})\n", provider.info().name, provider.info().description);
    fmt::print("requests  {} KiB sequential, queue depth {}, {} rounds (median shown)\n",
               a.load.request_bytes / 1024, a.load.depth, a.rounds);
    fmt::print("path      engines: run_engine_phases (bench/contention.h) -> run_workload ->\n"
               "          EnginePort -> RingQueue, the ublk queue thread's loop; provider alone:\n"
               "          ProviderLoad (bench/provider_load.h)\n");
    const uint64_t size = encrypted->size_bytes(), region = size - size % a.load.request_bytes;
    // One pass; what one wakeup's completions free goes back as one batch.
    Workload w{.block_bytes = a.load.request_bytes, .iodepth = a.load.depth, .iodepth_batch = 0,
               .runtime_seconds = 0, .size_bytes = region};
    s = validate_workload(w, a.path, size, encrypted->sector_size());
    CryptoLoadOptions load = a.load;
    load.variant = encrypted->session().state().variant;
    load.seconds = 0;
    load.working_set_bytes = 0;  // a buffer per request in flight, as the engine's
    load.requests = region / load.request_bytes;  // as many as an engine pass
    // Per round and side the provider alone, then the two engines (which goes first
    // alternates), as bench contention runs its engine phases.
    for (unsigned round = 0; s.ok() && round < a.rounds; ++round) {
      for (int side = 0; s.ok() && side < 2; ++side) {
        ContentionPhases& r = rounds[side].emplace_back();
        load.direction = side == 0 ? Direction::encrypt : Direction::decrypt;
        w.rw = side == 0 ? "write" : "read";
        w.end_fsync = side == 0;
        s = run_crypto_load(provider, load, &r.crypto_alone);
        const std::string where = fmt::format("round {}/{} {}", round + 1, a.rounds, w.rw);
        if (s.ok()) s = run_engine_phases(*plain, *encrypted, w, region, round % 2, where, &r);
      }
    }
  }
  clear_phase();
  plain.reset();
  encrypted.reset();
  ::unlink(a.path.c_str());
  if (!s.ok()) return s;

  using P = const ContentionPhases&;
  const ContentionPhases median[2] = {median_phases(rounds[0]), median_phases(rounds[1])};
  // A row: `figure` of the write side's median rounds and of the read side's.
  auto row = [&](const std::string& what, const char* format, auto figure, const char* note = "") {
    auto cell = [&](P p) { return fmt::format(fmt::runtime(format), figure(p)); };
    fmt::print("{:<38} {:>10} {:>10}{}\n", what, cell(median[0]), cell(median[1]), note);
  };
  auto ratio = &ContentionCell::ratio;
  // The encrypted engine does the plain engine's work and the provider's: min(plain,
  // provider) assumes the two overlap for free, but on few cores they share them, and each
  // MB costs the CPU of both.
  const double cores = double(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  auto ceiling = [&](P p) { return ratio(cores * 1e6, plain_us(p) + provider_us(p)); };

  fmt::print("\n{:<38} {:>10} {:>10}\n", "MB/s (10^6 bytes/s)", "write", "read");
  row("plain engine (cipher_null)", "{:.0f}", [](P p) { return p.datapath.mbs(); });
  row("provider alone (encrypt / decrypt)", "{:.0f}", [](P p) { return p.crypto_alone.mbs(); });
  row("encrypted engine", "{:.0f}", [](P p) { return p.encrypted.mbs(); });
  row("encrypted / min(plain, provider)", "{:.2f}", [&](P p) {
    return ratio(p.encrypted.mbs(), std::min(p.datapath.mbs(), p.crypto_alone.mbs()));
  }, "   (target >= 0.80)");
  fmt::print("\n{:<38} {:>10} {:>10}\n", "CPU us per MB (all threads)", "write", "read");
  row("plain engine", "{:.0f}", plain_us);
  row("provider alone", "{:.0f}", provider_us);
  row("encrypted engine", "{:.0f}", [](P p) { return p.encrypted.cpu_ns_per_byte() * 1e3; });
  row("encrypted: memory passes per user byte", "{:.2f}", [&](P p) {
    return ratio(double(p.encrypted_memory_bytes), double(p.encrypted.bytes()));
  }, "   (cipher, copies, host storage copies)");
  row(fmt::format("core ceiling ({:.0f} CPUs, both parts' CPU)", cores), "{:.0f}", ceiling);
  row("encrypted / core ceiling", "{:.2f}",
      [&](P p) { return ratio(p.encrypted.mbs(), ceiling(p)); });
  return Status::Ok();
}

}  // namespace

UBLKCRYPT_COMMAND("bench", 95, [](CLI::App& app) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Storage, crypto and contention benchmarks and the crypto placement model");
  bench->require_subcommand(1);
  bench->option_defaults()->always_capture_default();
  setup_storage(bench);
  setup_crypto(bench);
  setup_contention(bench);
  setup_model(bench);
  setup_rbd(bench);
});

UBLKCRYPT_COMMAND("benchmark", 90, [](CLI::App& app) { setup_benchmark(&app); });

UBLKCRYPT_COMMAND("engine-bench", 91, [](CLI::App& app) {
  auto a = std::make_shared<EngineBenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "engine-bench", "Engine throughput with and without the cipher beside the provider alone");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--path", a->path, "Scratch image (tmpfs keeps storage out of the way)");
  cmd->add_option("--size", a->size, "Image size (bytes, or with K/M/G)")
      ->transform(CLI::AsSizeValue(false));
  add_cipher_options(cmd, a->load);
  cmd->add_option("--backend", a->backend,
                  "Provider (software, kernel[:driver], ...); default: by priority");
  cmd->add_option("--block-size", a->load.request_bytes, "Request size")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--queue-depth", a->load.depth, "Requests in flight")->check(CLI::Range(1, 4096));
  cmd->add_flag("--buffered", a->buffered, "Page-cache I/O instead of O_DIRECT");
  cmd->add_option("--rounds", a->rounds, "Rounds of each measurement")->check(CLI::Range(1, 100));
  cmd->callback([a] {
    if (Status s = engine_bench(*a); !s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt

// ublkcrypt engine-bench: is the engine the limit, or the cipher? A scratch image written
// and read back sequentially through the engine with cipher_null, the provider alone and
// the encrypted engine, rounds interleaved (docs/benchmarks.md says what each row means).
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <vector>

#include "bench/provider_load.h"
#include "bench/scratch_volume.h"
#include "bench/workload_run.h"
#include "tools/command.h"

namespace ublkcrypt {

namespace {

struct EngineBenchArgs {
  std::string path = "/dev/shm/ublkcrypt-engine-bench.img";
  uint64_t size = 512ull << 20;
  std::string backend;
  CryptoLoadOptions load;  // cipher, key, sector size; request size and depth
  bool buffered = false;
  unsigned rounds = 3;
};

// A row of the report: per side (write or encrypt, read or decrypt), each round's MB/s,
// CPU microseconds per MB (all threads) and, for an engine, memory passes per user byte.
struct Row {
  std::vector<double> mbs[2], cpu[2], passes[2];
  void add(int side, uint64_t bytes, double seconds, double cpu_seconds) {
    mbs[side].push_back(mb_per_second(bytes, seconds));
    cpu[side].push_back(bytes > 0 ? cpu_seconds / double(bytes) * 1e12 : 0);
  }
};

// The median round: one figure per cell, robust to one noisy round.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The engine: one pass of sequential writes and its flush, then one of reads (run_workload
// through engine ports: the ublk queue thread's ring and loop).
Status engine_passes(Engine& engine, const EngineBenchArgs& a, Row* row) {
  Workload w;
  w.block_bytes = a.load.request_bytes;
  w.iodepth = a.load.depth;
  w.iodepth_batch = 0;  // what one wakeup's completions free goes back as one batch
  w.runtime_seconds = 0;
  w.size_bytes = engine.size_bytes() - engine.size_bytes() % w.block_bytes;
  if (Status s = validate_workload(w, a.path, engine.size_bytes(), engine.sector_size()); !s.ok())
    return s;
  for (int side : {0, 1}) {
    w.rw = side == 0 ? "write" : "read";
    w.end_fsync = side == 0;
    WorkloadResult r;
    const uint64_t memory_before = engine_memory_bytes(engine);
    if (Status s = run_workload(engine_ports(engine), w, w.size_bytes, &r); !s.ok()) return s;
    row->add(side, r.bytes(), r.seconds, r.cpu_seconds);
    row->passes[side].push_back(
        r.bytes() > 0 ? double(engine_memory_bytes(engine) - memory_before) / double(r.bytes())
                      : 0);
  }
  return Status::Ok();
}

// The provider alone: as many requests as an engine pass, through ProviderLoad.
Status provider_passes(Provider& provider, CryptoLoadOptions c, Row* row) {
  for (int side : {0, 1}) {
    c.direction = side == 0 ? Direction::encrypt : Direction::decrypt;
    CryptoResult r;
    if (Status s = run_crypto_load(provider, c, &r); !s.ok()) return s;
    row->add(side, r.bytes, r.seconds, r.cpu_seconds);
  }
  return Status::Ok();
}

void print_row(const std::string& what, const double (&v)[2], const char* format,
               const char* note = "") {
  fmt::print("{:<38} {:>10} {:>10}{}\n", what, fmt::format(fmt::runtime(format), v[0]),
             fmt::format(fmt::runtime(format), v[1]), note);
}

Status engine_bench(EngineBenchArgs a) {
  CryptoLoadOptions null_cipher = a.load;
  null_cipher.cipher = "cipher_null-ecb";
  null_cipher.key_bits = 0;
  if (Status s = create_image(a.path, a.size, true); !s.ok()) return s;
  std::unique_ptr<Engine> plain, encrypted;
  const FileStorageOptions storage{false, !a.buffered};
  Status s = open_scratch_engine(a.path, null_cipher, a.backend, storage, &plain);
  if (s.ok()) s = open_scratch_engine(a.path, a.load, a.backend, storage, &encrypted);
  Row rows[3];  // plain engine, provider alone, encrypted engine
  if (s.ok()) {
    Provider& provider = *encrypted->session().provider();
    fmt::print("image     {} ({} MiB, {} I/O)\n", a.path, encrypted->size_bytes() >> 20,
               encrypted->storage_info().direct_io ? "O_DIRECT" : "buffered");
    fmt::print("cipher    {}, {}-bit key, {}-byte sectors\n", a.load.cipher, a.load.key_bits,
               a.load.sector_size);
    fmt::print("provider  {} ({})\n", provider.info().name, provider.info().description);
    fmt::print("requests  {} KiB sequential, queue depth {}, {} rounds (median shown)\n",
               a.load.request_bytes / 1024, a.load.depth, a.rounds);
    fmt::print("path      engines: run_workload -> EnginePort -> RingQueue, the ublk queue "
               "thread's loop\n          (bench/workload_run.cpp); provider alone: "
               "ProviderLoad (bench/provider_load.h)\n");
    a.load.variant = encrypted->session().state().variant;
    a.load.seconds = 0;
    a.load.working_set_bytes = 0;  // a buffer per request in flight, as the engine's
    a.load.requests = encrypted->size_bytes() / a.load.request_bytes;
    for (unsigned round = 0; s.ok() && round < a.rounds; ++round) {
      if (s = engine_passes(*plain, a, &rows[0]); !s.ok()) break;
      if (s = provider_passes(provider, a.load, &rows[1]); !s.ok()) break;
      s = engine_passes(*encrypted, a, &rows[2]);
    }
  }
  plain.reset();
  encrypted.reset();
  ::unlink(a.path.c_str());
  if (!s.ok()) return s;

  double mbs[3][2], cpu[3][2], passes[2], ratio[2], ceiling[2], of_ceiling[2];
  // The encrypted engine does the plain engine's work and the provider's: min(plain,
  // provider) assumes the two overlap for free, but on few cores they share them, and each
  // MB costs the CPU of both.
  const double cores = double(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  for (int side : {0, 1}) {
    for (int r = 0; r < 3; ++r) {
      mbs[r][side] = median(rows[r].mbs[side]);
      cpu[r][side] = median(rows[r].cpu[side]);
    }
    passes[side] = median(rows[2].passes[side]);
    ratio[side] = mbs[2][side] / std::min(mbs[0][side], mbs[1][side]);
    const double us = cpu[0][side] + cpu[1][side];
    ceiling[side] = us > 0 ? cores * 1e6 / us : 0;
    of_ceiling[side] = ceiling[side] > 0 ? mbs[2][side] / ceiling[side] : 0;
  }
  fmt::print("\n{:<38} {:>10} {:>10}\n", "MB/s (10^6 bytes/s)", "write", "read");
  print_row("plain engine (cipher_null)", mbs[0], "{:.0f}");
  print_row("provider alone (encrypt / decrypt)", mbs[1], "{:.0f}");
  print_row("encrypted engine", mbs[2], "{:.0f}");
  print_row("encrypted / min(plain, provider)", ratio, "{:.2f}", "   (target >= 0.80)");
  fmt::print("\n{:<38} {:>10} {:>10}\n", "CPU us per MB (all threads)", "write", "read");
  print_row("plain engine", cpu[0], "{:.0f}");
  print_row("provider alone", cpu[1], "{:.0f}");
  print_row("encrypted engine", cpu[2], "{:.0f}");
  print_row("encrypted: memory passes per user byte", passes, "{:.2f}",
            "   (cipher, copies, host storage copies)");
  print_row(fmt::format("core ceiling ({:.0f} CPUs, both parts' CPU)", cores), ceiling, "{:.0f}");
  print_row("encrypted / core ceiling", of_ceiling, "{:.2f}");
  return Status::Ok();
}

}  // namespace

UBLKCRYPT_COMMAND("engine-bench", 91, [](CLI::App& app) {
  auto a = std::make_shared<EngineBenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "engine-bench", "Engine throughput with and without the cipher beside the provider alone");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--path", a->path, "Scratch image (tmpfs keeps storage out of the way)");
  cmd->add_option("--size", a->size, "Image size (bytes, or with K/M/G)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("-c,--cipher", a->load.cipher, "Cipher");
  cmd->add_option("-s,--key-size", a->load.key_bits, "Key size in bits");
  cmd->add_option("--sector-size", a->load.sector_size, "Sector size in bytes");
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

// ublkcrypt engine-bench: is the engine the limit, or the cipher? A scratch image written
// and read back sequentially through the engine with cipher_null, the provider alone and
// the encrypted engine, rounds interleaved (docs/benchmarks.md says what each row means).
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <vector>

#include "bench/contention.h"
#include "bench/scratch_volume.h"
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
    fmt::print("path      engines: run_engine_phases (bench/contention.h) -> run_workload -> "
               "EnginePort ->\n          RingQueue, the ublk queue thread's loop; provider "
               "alone: ProviderLoad (bench/provider_load.h)\n");
    const uint64_t region = encrypted->size_bytes() - encrypted->size_bytes() % a.load.request_bytes;
    // One pass; what one wakeup's completions free goes back as one batch.
    Workload w{.block_bytes = a.load.request_bytes, .iodepth = a.load.depth, .iodepth_batch = 0,
               .runtime_seconds = 0, .size_bytes = region};
    s = validate_workload(w, a.path, encrypted->size_bytes(), encrypted->sector_size());
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
        if (s.ok()) s = run_engine_phases(*plain, *encrypted, w, region, round % 2 == 1, where, &r);
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
  auto row = [&](const std::string& what, const char* format, auto figure, const char* note = "") {
    fmt::print("{:<38} {:>10} {:>10}{}\n", what, fmt::format(fmt::runtime(format), figure(median[0])),
               fmt::format(fmt::runtime(format), figure(median[1])), note);
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
  row("encrypted / core ceiling", "{:.2f}", [&](P p) { return ratio(p.encrypted.mbs(), ceiling(p)); });
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

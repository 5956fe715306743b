// ublkcrypt engine-bench: is the engine the limit, or the cipher? On a tmpfs-backed image,
// 128 KiB sequential writes then reads at QD 32 through
//   - the engine with cipher_null (the datapath alone, same queue and provider handoff),
//   - the provider alone (the cipher alone, every provider thread busy),
//   - the engine with the real cipher,
// rounds interleaved in one run, and the ratio encrypted / min(plain, provider): how much
// of the slower of the two parts the whole pipeline keeps (target >= 0.8); beside it, what
// the cores allow when both parts need them (core_ceiling).
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <vector>

#include "bench/cpu_clock.h"
#include "tools/command.h"
#include "tools/engine_benchmark.h"
#include "tools/scratch_image_args.h"

namespace ublkcrypt {

namespace {

struct EngineBenchArgs : ScratchImageArgs {
  EngineBenchArgs() {
    path = "/dev/shm/ublkcrypt-engine-bench.img";
    size = 512ull << 20;
  }
  unsigned rounds = 3;
};

// Medians over the rounds: one figure per cell, robust to one noisy round.
struct Samples {
  std::vector<double> write, read;
  std::vector<double> write_cpu, read_cpu;  // CPU seconds per MB
  void add(uint64_t bytes, double write_seconds, double read_seconds, double write_cpu_seconds,
           double read_cpu_seconds) {
    write.push_back(mb_per_second(bytes, write_seconds));
    read.push_back(mb_per_second(bytes, read_seconds));
    const double mb = double(bytes) / 1e6;
    write_cpu.push_back(mb > 0 ? write_cpu_seconds / mb : 0);
    read_cpu.push_back(mb > 0 ? read_cpu_seconds / mb : 0);
  }
  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double write_mbs() const { return median(write); }
  double read_mbs() const { return median(read); }
  double write_cpu_per_mb() const { return median(write_cpu); }
  double read_cpu_per_mb() const { return median(read_cpu); }
};

// What the machine's cores allow the encrypted engine: it does the plain engine's work and
// the provider's, and min(plain, provider) assumes the two overlap for free. On a machine
// with few cores they share them: each MB costs the CPU of both.
double core_ceiling(double cores, double plain_cpu_per_mb, double provider_cpu_per_mb) {
  const double per_mb = plain_cpu_per_mb + provider_cpu_per_mb;
  return per_mb > 0 ? cores / per_mb : 0;
}

Status engine_bench(const EngineBenchArgs& args) {
  CipherSpec spec, null_spec;
  if (Status s = CipherSpec::parse(args.cipher, args.key_bits, args.sector_size, &spec); !s.ok())
    return s;
  if (Status s = CipherSpec::parse("cipher_null-ecb", 0, args.sector_size, &null_spec); !s.ok())
    return s;
  SecureBytes key;
  if (Status s = make_random_key(spec.key_bytes, &key); !s.ok()) return s;
  if (Status s = create_image(args.path, args.size, true); !s.ok()) return s;

  std::unique_ptr<Engine> plain, encrypted;
  std::unique_ptr<Session> provider_session;
  Status s = open_image_engine(args.path, null_spec, {}, args.backend, !args.buffered, &plain);
  if (s.ok()) s = open_image_engine(args.path, spec, key.view(), args.backend, !args.buffered,
                          &encrypted);
  if (s.ok()) {
    SessionOptions options;
    options.backend = args.backend;
    s = builtin_registry().open_session(spec, key.view(), options, &provider_session);
  }
  Samples plain_mbs, provider_mbs, encrypted_mbs;
  std::pair<double, double> encrypted_passes;  // write, read: the same every round
  if (s.ok()) {
    const Provider& provider = *encrypted->session().provider();
    fmt::print("image     {} ({} MiB, {} I/O)\n", args.path, encrypted->size_bytes() >> 20,
               encrypted->storage_info().direct_io ? "O_DIRECT" : "buffered");
    fmt::print("cipher    {}, {}-bit key, {}-byte sectors\n", spec.name(), args.key_bits,
               spec.sector_size);
    fmt::print("provider  {} ({})\n", provider.info().name, provider.info().description);
    fmt::print("requests  {} KiB sequential, queue depth {}, {} rounds (median shown)\n",
               args.pass.block_bytes / 1024, args.pass.depth, args.rounds);
  }
  for (unsigned round = 0; s.ok() && round < args.rounds; ++round) {
    PassTimes t;
    CryptoTimes c;
    if (s = run_sequential(*plain, args.pass, &t); !s.ok()) break;
    plain_mbs.add(t.bytes, t.write_seconds, t.read_seconds, t.write_cpu_seconds,
                  t.read_cpu_seconds);
    if (s = run_provider(*provider_session, args.size, args.pass, &c); !s.ok()) break;
    provider_mbs.add(c.bytes, c.encrypt_seconds, c.decrypt_seconds, c.encrypt_cpu_seconds,
                     c.decrypt_cpu_seconds);
    if (s = run_sequential(*encrypted, args.pass, &t); !s.ok()) break;
    encrypted_mbs.add(t.bytes, t.write_seconds, t.read_seconds, t.write_cpu_seconds,
                      t.read_cpu_seconds);
    encrypted_passes = {t.write_memory_passes, t.read_memory_passes};
  }
  plain.reset();
  encrypted.reset();
  ::unlink(args.path.c_str());
  if (!s.ok()) return s;

  auto row = [](const char* what, double write, double read) {
    fmt::print("{:<38} {:>10.0f} {:>10.0f}\n", what, write, read);
  };
  fmt::print("\n{:<38} {:>10} {:>10}\n", "MB/s (10^6 bytes/s)", "write", "read");
  row("plain engine (cipher_null)", plain_mbs.write_mbs(), plain_mbs.read_mbs());
  row("provider alone (encrypt / decrypt)", provider_mbs.write_mbs(), provider_mbs.read_mbs());
  row("encrypted engine", encrypted_mbs.write_mbs(), encrypted_mbs.read_mbs());
  const double write_ratio = encrypted_mbs.write_mbs() /
                             std::min(plain_mbs.write_mbs(), provider_mbs.write_mbs());
  const double read_ratio =
      encrypted_mbs.read_mbs() / std::min(plain_mbs.read_mbs(), provider_mbs.read_mbs());
  fmt::print("{:<38} {:>10.2f} {:>10.2f}   (target >= 0.80)\n",
             "encrypted / min(plain, provider)", write_ratio, read_ratio);
  const double cores = double(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  const double write_ceiling =
      core_ceiling(cores, plain_mbs.write_cpu_per_mb(), provider_mbs.write_cpu_per_mb());
  const double read_ceiling =
      core_ceiling(cores, plain_mbs.read_cpu_per_mb(), provider_mbs.read_cpu_per_mb());
  fmt::print("\n{:<38} {:>10} {:>10}\n", "CPU us per MB (all threads)", "write", "read");
  row("plain engine", plain_mbs.write_cpu_per_mb() * 1e6, plain_mbs.read_cpu_per_mb() * 1e6);
  row("provider alone", provider_mbs.write_cpu_per_mb() * 1e6,
      provider_mbs.read_cpu_per_mb() * 1e6);
  row("encrypted engine", encrypted_mbs.write_cpu_per_mb() * 1e6,
      encrypted_mbs.read_cpu_per_mb() * 1e6);
  fmt::print("{:<38} {:>10.2f} {:>10.2f}   (cipher, copies, host storage copies)\n",
             "encrypted: memory passes per user byte", encrypted_passes.first,
             encrypted_passes.second);
  row(fmt::format("core ceiling ({:.0f} CPUs, both parts' CPU)", cores).c_str(),
      write_ceiling, read_ceiling);
  fmt::print("{:<38} {:>10.2f} {:>10.2f}\n", "encrypted / core ceiling",
             write_ceiling > 0 ? encrypted_mbs.write_mbs() / write_ceiling : 0,
             read_ceiling > 0 ? encrypted_mbs.read_mbs() / read_ceiling : 0);
  return Status::Ok();
}

}  // namespace

UBLKCRYPT_COMMAND("engine-bench", 91, [](CLI::App& app) {
  auto args = std::make_shared<EngineBenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "engine-bench",
      "Engine throughput with and without the cipher beside the provider alone");
  add_scratch_image_options(cmd, *args, "Scratch image (tmpfs keeps storage out of the way)");
  cmd->add_option("--rounds", args->rounds, "Rounds of each measurement")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->callback([args] {
    if (Status s = engine_bench(*args); !s.ok()) fail(s);
  });
});

}  // namespace ublkcrypt

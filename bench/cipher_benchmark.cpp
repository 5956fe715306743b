#include "bench/cipher_benchmark.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "backends/registry.h"
#include "backends/software/aes_implementation.h"
#include "backends/software/software_provider.h"

namespace ublkcrypt {

namespace {

struct Table {
  const char* cipher;
  uint32_t key_bits;
};
constexpr Table kDefaultTable[] = {
    {"aes-xts-plain64", 256}, {"aes-xts-plain64", 512}, {"aes-cbc-essiv:sha256", 256}};

// The thread count "one thread" means for a provider, and how to get such an instance. Only
// the software provider's parallelism is a choice; others are measured as they come.
std::unique_ptr<Provider> one_thread_instance(const Provider& provider) {
  if (provider.info().name == "software") return make_software_provider(1);
  return nullptr;
}

// What the software provider's SectorCiphers run `spec` with (UBLKCRYPT_AES_IMPL, or the
// fastest this CPU runs); other providers do not say.
std::string implementation_of(const Provider& provider, const CipherSpec& spec) {
  if (provider.info().name != "software" || spec.mode == CipherMode::null) return "";
  return aes_implementation_name(default_aes_implementation());
}

// Runs `openssl speed [-multi <processes>] -evp <cipher> -bytes <n> -seconds <s> [-decrypt]
// -mr` and parses its bytes per second (all processes together). A missing openssl binary is
// reported as not_found.
Status openssl_speed(const std::string& cipher, Direction direction, unsigned processes,
                     const BenchmarkOptions& options, double* mbs) {
  const int seconds = std::max(1, static_cast<int>(options.seconds + 0.5));
  // Only names from our own table reach the shell; nothing from the user.
  const std::string command = fmt::format(
      "openssl speed {} -evp {} -bytes {} -seconds {} {} -mr 2>/dev/null",
      processes > 1 ? fmt::format("-multi {}", processes) : "", cipher, options.request_bytes,
      seconds, direction == Direction::decrypt ? "-decrypt" : "");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return errno_status("run openssl speed", errno);
  // "+F:<n>:<CIPHER>:<bytes per second>" is the machine-readable result line.
  double bytes_per_second = -1;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string_view text(line);
    if (!text.starts_with("+F:")) continue;
    size_t colon = text.rfind(':');
    bytes_per_second = std::strtod(line + colon + 1, nullptr);
  }
  int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return Status(Errc::not_found, "openssl: command not found (install openssl to compare)");
  if (bytes_per_second <= 0)
    return Status(Errc::unsupported,
                  fmt::format("openssl speed -evp {}: no result (exit status {})", cipher,
                              WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  *mbs = bytes_per_second / 1e6;
  return Status::Ok();
}

}  // namespace

Status benchmark_specs(const BenchmarkOptions& options, std::vector<CipherSpec>* out) {
  std::vector<Table> cells;
  for (const Table& t : kDefaultTable)
    if ((options.cipher.empty() || options.cipher == t.cipher) &&
        (options.key_bits == 0 || options.key_bits == t.key_bits))
      cells.push_back(t);
  // A cipher or key size outside the table is measured alone, if dm-crypt accepts it.
  if (cells.empty()) {
    if (options.cipher.empty())
      return Status(Errc::invalid_argument,
                    fmt::format("benchmark: no default cipher has a {}-bit key (give --cipher)",
                                options.key_bits));
    cells.push_back({options.cipher.c_str(), options.key_bits != 0 ? options.key_bits : 256});
  }
  out->clear();
  for (const Table& t : cells) {
    CipherSpec spec;
    if (Status s = CipherSpec::parse(t.cipher, t.key_bits, options.sector_size, &spec); !s.ok())
      return s;
    out->push_back(spec);
  }
  if (options.request_bytes % options.sector_size != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("benchmark: request size {} is not a multiple of sector size {}",
                              options.request_bytes, options.sector_size));
  return Status::Ok();
}

std::string openssl_equivalent(const CipherSpec& spec) {
  switch (spec.mode) {
    case CipherMode::aes_xts_plain64: return fmt::format("aes-{}-xts", spec.key_bytes * 4);
    case CipherMode::aes_cbc_essiv_sha256: return fmt::format("aes-{}-cbc", spec.key_bytes * 8);
    case CipherMode::null:
    case CipherMode::generic: return "";
  }
  return "";
}

Status measure_provider(Provider& provider, const CipherSpec& spec, Direction direction,
                        const BenchmarkOptions& options, CryptoResult* out) {
  // In place, as openssl speed runs: 64 buffers of one request each stay in L2 where
  // openssl speed's single one stays in L1 (close, and no two requests in flight share
  // one). Batches of 16, so the provider always has other batches queued and never idles
  // on a handoff. The first tenth warms caches, clocks and the pool, uncounted.
  CryptoLoadOptions o{{direction, options.request_bytes, 64, 16, 0, true},
                      spec.name(), spec.key_bytes * 8, spec.sector_size};
  o.seconds = options.seconds;
  o.warmup_seconds = options.seconds / 10;
  return run_crypto_load(provider, o, out);
}

Status run_cipher_benchmark(const BenchmarkOptions& options, CipherBenchmarkReport* out) {
  std::vector<CipherSpec> specs;
  if (Status s = benchmark_specs(options, &specs); !s.ok()) return s;
  out->options = options;
  out->rows.clear();
  const unsigned rounds = std::max(1u, options.rounds);
  for (const CipherSpec& spec : specs) {
    for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
      std::vector<BenchmarkRow> cell;  // a row per provider that runs the cipher
      for (Provider* provider : builtin_registry().providers()) {
        if (!provider->supports(spec, "").ok()) continue;
        BenchmarkRow& row = cell.emplace_back(BenchmarkRow{
            .provider = provider->info().name, .implementation = implementation_of(*provider, spec),
            .cipher = spec.name(), .key_bits = spec.key_bytes * 8, .direction = direction,
            .openssl_cipher = openssl_equivalent(spec)});
        if (row.openssl_cipher.empty()) row.openssl_note = "no openssl equivalent";
      }
      if (cell.empty())
        return Status(Errc::unsupported,
                      fmt::format("cipher {}: no provider runs it on this machine "
                                  "(see ublkcrypt backends)", spec.name()));
      // Round by round, openssl then every provider, so each side meets the same moments
      // of the machine's other load; each figure keeps its best round.
      double openssl_best = -1, openssl_multi_best = -1;
      std::string openssl_note;
      const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      for (unsigned round = 0; round < rounds; ++round) {
        const std::string& cipher = cell.front().openssl_cipher;
        if (!cipher.empty() && openssl_note.empty()) {
          double mbs = -1, multi = -1;
          if (Status s = openssl_speed(cipher, direction, 1, options, &mbs); !s.ok())
            openssl_note = s.message();
          // The machine's own scaling, beside which "all threads" is judged: a shared or
          // hyperthreaded host can stop two processes short of twice one.
          else if (Status m = openssl_speed(cipher, direction, cores, options, &multi); !m.ok())
            openssl_note = m.message();
          openssl_best = std::max(openssl_best, mbs);
          openssl_multi_best = std::max(openssl_multi_best, multi);
        }
        for (BenchmarkRow& row : cell) {
          Provider& provider = *builtin_registry().find(row.provider);
          CryptoResult all, one;
          if (Status s = measure_provider(provider, spec, direction, options, &all); !s.ok())
            return s;
          if (all.mbs() > row.all_threads_mbs) {
            row.all_threads_mbs = all.mbs();
            row.all_threads_cores = all.cores();
          }
          if (auto single = one_thread_instance(provider)) {
            if (Status s = measure_provider(*single, spec, direction, options, &one); !s.ok())
              return s;
            row.one_thread_mbs = std::max(row.one_thread_mbs, one.mbs_per_cpu());
          }
        }
      }
      for (BenchmarkRow& row : cell) {
        row.openssl_mbs = openssl_note.empty() ? openssl_best : -1;
        row.openssl_multi_mbs = openssl_note.empty() ? openssl_multi_best : -1;
        row.openssl_processes = cores;
        if (!openssl_note.empty()) row.openssl_note = openssl_note;
        out->rows.push_back(std::move(row));
      }
    }
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

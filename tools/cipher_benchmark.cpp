#include "tools/cipher_benchmark.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "backends/registry.h"
#include "backends/software/aes_implementation.h"
#include "backends/software/software_provider.h"
#include "base/secure_bytes.h"
#include "bench/cpu_clock.h"

namespace ublkcrypt {

namespace {

// Requests travel in groups; a group is resubmitted as one batch when its last request
// completes, so the provider always has other groups queued and never idles on a handoff.
constexpr size_t kGroups = 4;
constexpr size_t kGroupSize = 16;

class Load final : public ProviderCallback {
 public:
  Load(ProviderSession& session, const CipherSpec& spec, Direction direction,
       uint32_t request_bytes)
      : session_(session), buffer_(kGroups * kGroupSize * size_t{request_bytes}) {
    RAND_bytes(buffer_.data(), static_cast<int>(buffer_.size()));
    const uint32_t sectors = request_bytes / spec.sector_size;
    for (size_t g = 0; g < kGroups; ++g) {
      for (size_t i = 0; i < kGroupSize; ++i) {
        const size_t index = g * kGroupSize + i;
        LoadRequest& r = groups_[g].requests[i];
        r.group = &groups_[g];
        // In place, as openssl speed runs. The 64 buffers (256 KiB) stay in L2, openssl
        // speed's single one in L1: close, and no two requests in flight share one.
        uint8_t* at = buffer_.data() + index * request_bytes;
        r.run = SectorRun{direction, at, at, index * sectors, sectors};
        groups_[g].pointers[i] = &r;
      }
    }
  }

  void start() {
    for (Group& g : groups_) session_.submit(g.pointers, this);
  }

  // Stops resubmitting and waits until nothing is in flight.
  Status drain() {
    stopping_.store(true);
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return finished_groups_ == kGroups; });
    return error_;
  }

  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }

  void provider_done(CryptoRequest* request, Status status) override {
    if (!status.ok()) {
      std::lock_guard lock(mutex_);
      if (error_.ok()) error_ = status;
      stopping_.store(true);
    }
    Group& g = *static_cast<LoadRequest*>(request)->group;
    if (g.done.fetch_add(1, std::memory_order_acq_rel) + 1 < kGroupSize) return;
    g.done.store(0, std::memory_order_relaxed);
    // Counted a group at a time: one shared atomic per request would be our overhead, not
    // the provider's, in a figure compared with openssl's bare loop.
    completed_.fetch_add(kGroupSize, std::memory_order_relaxed);
    if (!stopping_.load()) {
      session_.submit(g.pointers, this);
      return;
    }
    std::lock_guard lock(mutex_);
    ++finished_groups_;
    idle_.notify_all();
  }

 private:
  struct Group;
  // A request that knows its group, so a completion finds it without a search.
  struct LoadRequest : CryptoRequest {
    Group* group = nullptr;
  };
  struct Group {
    std::array<LoadRequest, kGroupSize> requests;
    std::array<CryptoRequest*, kGroupSize> pointers;
    // Its own cache line: both workers count into it, and it should not drag the requests'
    // line (read by both) back and forth with it.
    alignas(64) std::atomic<size_t> done{0};
  };

  ProviderSession& session_;
  std::vector<uint8_t> buffer_;
  std::array<Group, kGroups> groups_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> completed_{0};
  std::mutex mutex_;
  std::condition_variable idle_;
  size_t finished_groups_ = 0;
  Status error_;
};

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

// Spends `d` running the provider's queued work on this thread, as the engine's threads do
// while they wait for it; sleeps a moment when there is none.
void help_for(ProviderSession& session, std::chrono::duration<double> d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until)
    if (!session.help()) std::this_thread::sleep_for(std::chrono::microseconds(50));
}

// What the software provider's SectorCiphers run `spec` with (UBLKCRYPT_AES_IMPL, or the
// fastest this CPU runs); other providers do not say.
std::string implementation_of(const Provider& provider, const CipherSpec& spec) {
  if (provider.info().name != "software" || spec.mode == CipherMode::null) return "";
  return aes_implementation_name(default_aes_implementation());
}

}  // namespace

Status benchmark_specs(const BenchmarkOptions& options, std::vector<CipherSpec>* out) {
  out->clear();
  for (const Table& t : kDefaultTable) {
    if (!options.cipher.empty() && options.cipher != t.cipher) continue;
    if (options.key_bits != 0 && options.key_bits != t.key_bits) continue;
    CipherSpec spec;
    if (Status s = CipherSpec::parse(t.cipher, t.key_bits, options.sector_size, &spec); !s.ok())
      return s;
    out->push_back(spec);
  }
  // A cipher or key size outside the table is measured alone, if dm-crypt accepts it.
  if (out->empty()) {
    if (options.cipher.empty())
      return Status(Errc::invalid_argument,
                    fmt::format("benchmark: no default cipher has a {}-bit key (give --cipher)",
                                options.key_bits));
    CipherSpec spec;
    const uint32_t bits = options.key_bits != 0 ? options.key_bits : 256;
    if (Status s = CipherSpec::parse(options.cipher, bits, options.sector_size, &spec); !s.ok())
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
    case CipherMode::null: return "";
  }
  return "";
}

Status measure_provider(Provider& provider, const CipherSpec& spec, Direction direction,
                        const BenchmarkOptions& options, Throughput* out) {
  SecureBytes key;
  if (Status s = SecureBytes::allocate(spec.key_bytes, &key); !s.ok()) return s;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    return Status(Errc::unsupported, "benchmark: no random bytes for a test key");
  std::unique_ptr<ProviderSession> session;
  if (Status s = provider.open_session(spec, key.view(), "", &session); !s.ok())
    return s.in(provider.info().name);
  key.reset();

  Load load(*session, spec, direction, options.request_bytes);
  load.start();
  // The first tenth warms caches, clocks and the pool; only the rest is counted.
  const auto total = std::chrono::duration<double>(options.seconds);
  help_for(*session, total / 10);
  const uint64_t before = load.completed();
  const Stopwatch window;
  help_for(*session, total * 9 / 10);
  const uint64_t after = load.completed();
  const double cpu = window.cpu_seconds();
  const double elapsed = window.wall_seconds();
  if (Status s = load.drain(); !s.ok()) return s.in(provider.info().name);
  out->mbs = mb_per_second((after - before) * options.request_bytes, elapsed);
  out->cores = cpu / elapsed;
  // User + system together: the kernel splits a process's exact CPU time into the two by
  // tick samples, so the user part alone of a one-second window drifts with that estimate
  // (a 0.2 s window once read as no user time at all). Our system time counts against us.
  out->mbs_per_cpu = cpu > 0 ? out->mbs * elapsed / cpu : 0;
  return Status::Ok();
}

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

Status run_cipher_benchmark(const BenchmarkOptions& options, std::vector<BenchmarkRow>* rows) {
  std::vector<CipherSpec> specs;
  if (Status s = benchmark_specs(options, &specs); !s.ok()) return s;
  rows->clear();
  const unsigned rounds = std::max(1u, options.rounds);
  for (const CipherSpec& spec : specs) {
    for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
      std::vector<BenchmarkRow> cell;
      std::vector<Provider*> measured;  // cell[i]'s provider
      for (Provider* provider : builtin_registry().providers()) {
        if (!provider->supports(spec, "").ok()) continue;
        measured.push_back(provider);
        BenchmarkRow row;
        row.provider = provider->info().name;
        row.implementation = implementation_of(*provider, spec);
        row.cipher = spec.name();
        row.key_bits = spec.key_bytes * 8;
        row.direction = direction;
        row.openssl_cipher = openssl_equivalent(spec);
        if (row.openssl_cipher.empty()) row.openssl_note = "no openssl equivalent";
        cell.push_back(std::move(row));
      }
      // Round by round, openssl then every provider, so each side meets the same moments
      // of the machine's other load; each figure keeps its best round.
      double openssl_best = -1, openssl_multi_best = -1;
      std::string openssl_note;
      const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      for (unsigned round = 0; round < rounds; ++round) {
        const std::string cipher = cell.empty() ? "" : cell.front().openssl_cipher;
        if (!cipher.empty() && openssl_note.empty()) {
          double mbs = -1, multi = -1;
          if (Status s = openssl_speed(cipher, direction, 1, options, &mbs); !s.ok())
            openssl_note = s.message();
          // The machine's own scaling, beside which "all threads" is judged: a shared or
          // hyperthreaded host can stop two processes short of 2x too.
          else if (Status m = openssl_speed(cipher, direction, cores, options, &multi); !m.ok())
            openssl_note = m.message();
          openssl_best = std::max(openssl_best, mbs);
          openssl_multi_best = std::max(openssl_multi_best, multi);
        }
        for (size_t i = 0; i < cell.size(); ++i) {
          BenchmarkRow& row = cell[i];
          Provider* provider = measured[i];
          Throughput all, one;
          if (Status s = measure_provider(*provider, spec, direction, options, &all); !s.ok())
            return s;
          if (all.mbs > row.all_threads_mbs) {
            row.all_threads_mbs = all.mbs;
            row.all_threads_cores = all.cores;
          }
          if (auto single = one_thread_instance(*provider)) {
            if (Status s = measure_provider(*single, spec, direction, options, &one); !s.ok())
              return s;
            row.one_thread_mbs = std::max(row.one_thread_mbs, one.mbs_per_cpu);
          }
        }
      }
      for (BenchmarkRow& row : cell) {
        row.openssl_mbs = openssl_note.empty() ? openssl_best : -1;
        row.openssl_multi_mbs = openssl_note.empty() ? openssl_multi_best : -1;
        row.openssl_processes = cores;
        if (!openssl_note.empty()) row.openssl_note = openssl_note;
        rows->push_back(std::move(row));
      }
    }
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

// ProviderLoad: one provider alone, kept busy. `depth` requests of `request_bytes` in
// flight, submitted `batch` at a time (a batch goes back whole once its last request has
// completed), each request walking its own slice of a working set. The one load generator
// behind `ublkcrypt benchmark`, `engine-bench`, `bench crypto` and `bench contention`.
//
// Out of place unless asked otherwise, as the engine runs a cipher (from the request's
// buffer into a bounce buffer of its own, engine/bounce_buffers.h); cipher_null always in
// place, as there too. `ublkcrypt benchmark` asks for in place, as openssl speed runs.
// A working set larger than the last-level cache makes the cipher read and write memory
// as it does on the datapath; a buffer that stays in cache would hide the memory traffic
// the contention run is meant to expose.
//
// The thread that waits for the load runs the provider's queued work meanwhile
// (backends/helping_wait.h), as the engine's queue threads do: a waiting thread is one
// more of the software pool's lanes, so the cipher has its core at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backends/provider.h"
#include "base/status.h"
#include "bench/cpu_clock.h"

namespace ublkcrypt {

struct ProviderLoadOptions {
  Direction direction = Direction::encrypt;
  uint32_t request_bytes = 128 * 1024;
  unsigned depth = 32;              // requests in flight, a whole number of batches
  unsigned batch = 1;               // requests per submission
  uint64_t working_set_bytes = 64ull << 20;  // what the sources span; 0: one request each
  bool in_place = false;
  uint64_t requests = 0;            // stop after this many (whole batches); 0: no budget
};

// ---- a provider alone, by name, for a duration or a number of requests ----

struct CryptoLoadOptions : ProviderLoadOptions {
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;
  uint32_t sector_size = 4096;
  std::string variant;  // the provider's variant ("virtio_crypto_aes_cbc" of kernel:...)
  double seconds = 1;   // 0: until the request budget is spent
  double warmup_seconds = 0;  // of those, run before the counted window opens
};

// `c` with cipher_null (no key) in place of its cipher.
CryptoLoadOptions with_null_cipher(CryptoLoadOptions c);

// The movement of a provider's counters (ProviderCounters, monotonic) over an interval.
struct CounterDelta {
  uint64_t requests = 0, payload_bytes = 0, bytes_to_device = 0, bytes_from_device = 0,
           copy_bytes = 0, errors = 0;
  static CounterDelta read(const ProviderCounters& c);
  CounterDelta operator-(const CounterDelta& before) const;
};

struct CryptoResult {
  uint64_t bytes = 0;
  uint64_t requests = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // the process's, user + system
  CounterDelta counters;
  double mbs() const { return mb_per_second(bytes, seconds); }
  double cores() const { return seconds > 0 ? cpu_seconds / seconds : 0; }
  // MB per CPU second (user + system), as openssl speed divides by its user time: what
  // other load took does not count. Not user time alone: the kernel splits a process's CPU
  // time into the two by tick samples, which a short window's user part drifts with.
  double mbs_per_cpu() const { return mb_per_second(bytes, cpu_seconds); }
  // Process CPU time per byte moved: what a provider costs the host, device or not.
  double cpu_ns_per_byte() const { return bytes > 0 ? cpu_seconds * 1e9 / double(bytes) : 0; }
};

// ok if `provider` can run the options' cipher (parsed into `spec` when given); otherwise
// why not, naming it.
Status check_crypto_options(const Provider& provider, const CryptoLoadOptions& options,
                            CipherSpec* spec = nullptr);

// The providers a bench verb ("bench crypto") runs: each of `names`, refused outright if it
// is not present or `check` fails; or, with no names, every built-in provider `check`
// accepts, the others' reasons in `skipped`. A check that fails with
// invalid_argument is the user's mistake whichever provider runs: refused outright too.
// None left: unsupported, naming `cipher`.
Status select_providers(const std::string& verb, const std::vector<std::string>& names,
                        const std::string& cipher,
                        const std::function<Status(const Provider&)>& check,
                        std::vector<Provider*>* providers, std::vector<std::string>* skipped);

// The load on a fresh session of `provider` under a random key, timed from the first
// submission (or the warm-up's end) to the last completion.
Status run_crypto_load(Provider& provider, const CryptoLoadOptions& options, CryptoResult* out);

// ---- `bench crypto`: each provider alone at a sweep of request sizes and depths, the
// OCF paper's Tables 1-2 for today's providers: small requests show per-request overhead,
// depth how much parallelism a provider needs to reach its rate ----

struct CryptoSweepOptions {
  // Empty = every built-in provider that runs the cipher. A name may carry its variant
  // ("dpdk:crypto_openssl", "kernel:DRIVER"), which its rows are labelled with.
  std::vector<std::string> providers;
  std::vector<uint32_t> request_sizes{512, 4096, 16384, 65536, 262144, 1048576};
  std::vector<unsigned> depths{1, 8, 32};
  CryptoLoadOptions load;  // cipher, key, sector size, direction, seconds per cell
  // Sweeps run one after the other, every cell once per round, so each cell meets the
  // machine's moments as the others do; a cell's figure is its median round.
  unsigned rounds = 1;
};

struct CryptoSweepRow {
  std::string provider;
  Placement placement = Placement::host_cpu;
  uint32_t request_bytes = 0;
  unsigned depth = 0;
  CryptoResult result;          // the median round's
  std::vector<double> round_mbs;  // every round's MB/s, in the order they ran
};

struct CryptoSweepReport {
  CryptoSweepOptions options;
  std::vector<CryptoSweepRow> rows;  // provider-major, then depth, then size
  std::vector<std::string> skipped;
};

// Refuses, before any work, a provider that is not present or cannot run the cipher at
// every size of the sweep (512-byte requests need a 512-byte sector size); then runs.
Status run_crypto_sweep(const CryptoSweepOptions& o, CryptoSweepReport* out);

}  // namespace ublkcrypt

// CryptoLoad: one provider alone, kept busy with `depth` requests of `request_bytes` in
// flight (each resubmitted from its own completion), for a duration. The OCF paper's
// Tables 1-2 are this at a sweep of sizes and depths; the contention run uses it as the
// "crypto traffic" beside storage traffic.
//
// Each in-flight slot walks its own part of a working set larger than the last-level
// cache, so the cipher reads and writes memory as it would on the datapath, instead of
// spinning on a buffer that stays in cache (which would hide the memory traffic the
// contention run is meant to expose).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backends/provider.h"
#include "base/status.h"

namespace ublkcrypt {

struct CryptoLoadOptions {
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;
  uint32_t sector_size = 4096;
  Direction direction = Direction::encrypt;
  uint32_t request_bytes = 128 * 1024;
  unsigned depth = 32;
  double seconds = 1;
  uint64_t working_set_bytes = 64ull << 20;
};

// Counter movement over an interval (ProviderCounters are monotonic).
struct CounterDelta {
  uint64_t requests = 0;
  uint64_t payload_bytes = 0;
  uint64_t bytes_to_device = 0;
  uint64_t bytes_from_device = 0;
  uint64_t copy_bytes = 0;
  uint64_t errors = 0;

  static CounterDelta between(const CounterDelta& before, const CounterDelta& after);
  static CounterDelta read(const ProviderCounters& c);
};

struct CryptoResult {
  uint64_t bytes = 0;
  uint64_t requests = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  CounterDelta counters;
  double mbs() const;
  double cores() const { return seconds > 0 ? cpu_seconds / seconds : 0; }
};

// ok if `provider` can run the options' cipher; otherwise why not, naming it.
Status check_crypto_options(const Provider& provider, const CryptoLoadOptions& options);

// The providers a bench verb ("bench crypto") runs: each of `names`, refused outright if it
// is not present or `check` fails; or, with no names, every built-in provider `check`
// accepts, the others' reasons added to `skipped`. A check that fails with
// invalid_argument is the user's mistake whichever provider runs: refused outright too.
// None left: unsupported, naming `cipher`.
Status select_providers(const std::string& verb, const std::vector<std::string>& names,
                        const std::string& cipher,
                        const std::function<Status(const Provider&)>& check,
                        std::vector<Provider*>* providers, std::vector<std::string>* skipped);

// Runs the load on a fresh session of `provider` with a random key. Stops at
// options.seconds or when `stop` becomes true.
Status run_crypto_load(Provider& provider, const CryptoLoadOptions& options,
                       const std::atomic<bool>* stop, CryptoResult* out);

}  // namespace ublkcrypt

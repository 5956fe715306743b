// The measurements behind `ublkcrypt benchmark`: provider throughput at a request size, one
// thread and all threads, beside `openssl speed -evp` for the same cipher run in the same
// process lifetime — the ratio is the figure that means something on a shared machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cipher_spec.h"
#include "base/status.h"
#include "bench/provider_load.h"

namespace ublkcrypt {

struct BenchmarkOptions {
  std::string cipher;      // "" = the default table (aes-xts 256b/512b, aes-cbc-essiv 256b)
  uint32_t key_bits = 0;   // 0 = every size in the table for the cipher
  double seconds = 1.0;    // per measured cell
  // Each cell is measured this many times, ours and openssl's in turn, and the best kept:
  // on a shared machine the best of a few is the least-disturbed figure of each side.
  unsigned rounds = 3;
  uint32_t request_bytes = 4096;
  uint32_t sector_size = 4096;
};

struct BenchmarkRow {
  std::string provider;
  // The code that ran the cipher, where the provider says: the software provider's AES
  // implementation ("vaes-avx512", "vaes-avx2", "openssl"); "" otherwise.
  std::string implementation;
  std::string cipher;      // "aes-xts-plain64"
  uint32_t key_bits = 0;
  Direction direction = Direction::encrypt;
  // Per second of CPU time, as openssl speed counts by default (its user time): on a shared
  // machine this compares the code, not who else ran.
  double one_thread_mbs = -1;      // < 0: not measurable for this provider
  double all_threads_mbs = -1;
  // Cores this process kept busy during the all-threads cell (CPU time / wall time): below
  // the worker count means the machine, not the pool, capped the figure.
  double all_threads_cores = -1;
  std::string openssl_cipher;      // "aes-256-xts", "" when openssl has no equivalent
  double openssl_mbs = -1;         // < 0: not measured (see openssl_note)
  // openssl speed -multi <one process per core>: the machine's own all-cores figure.
  double openssl_multi_mbs = -1;
  unsigned openssl_processes = 0;
  std::string openssl_note;        // why openssl's figure is missing
};

// The (cipher, key size) cells the options select, each validated by CipherSpec::parse.
Status benchmark_specs(const BenchmarkOptions& options, std::vector<CipherSpec>* out);

// Throughput of `spec` on one session of `provider`, with enough requests in flight to
// keep every worker busy.
Status measure_provider(Provider& provider, const CipherSpec& spec, Direction direction,
                        const BenchmarkOptions& options, CryptoResult* out);

// The openssl name of the same primitive: aes-xts 512b is "aes-256-xts" (dm-crypt counts
// both XTS keys), aes-cbc-essiv 256b is "aes-256-cbc"; "" for cipher_null.
std::string openssl_equivalent(const CipherSpec& spec);

struct CipherBenchmarkReport {
  BenchmarkOptions options;
  std::vector<BenchmarkRow> rows;
};

// Every provider of builtin_registry() × every selected cipher × both directions.
Status run_cipher_benchmark(const BenchmarkOptions& options, CipherBenchmarkReport* out);

}  // namespace ublkcrypt

#include "bench/cipher_benchmark.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "backends/software/aes_implementation.h"
#include "backends/software/software_provider.h"
#include "tests/volume/scratch.h"

using namespace ublkcrypt;
using ublkcrypt::test::one_error_line;
using ublkcrypt::test::run;

namespace {

CipherSpec spec_of(const char* cipher, uint32_t key_bits, uint32_t sector_size = 4096) {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse(cipher, key_bits, sector_size, &spec).ok());
  return spec;
}

bool openssl_installed() { return run("openssl version").exit_code == 0; }

}  // namespace

TEST_CASE("benchmark cells: the default table, one cipher or key size, and refusals") {
  BenchmarkOptions options;
  std::vector<CipherSpec> specs;
  REQUIRE(benchmark_specs(options, &specs).ok());
  REQUIRE(specs.size() == 3);
  CHECK(specs[0].name() == "aes-xts-plain64");
  CHECK(specs[0].key_bytes == 32);
  CHECK(specs[1].key_bytes == 64);
  CHECK(specs[2].name() == "aes-cbc-essiv:sha256");
  for (const CipherSpec& s : specs) CHECK(s.sector_size == 4096);

  options.cipher = "aes-xts-plain64";
  options.key_bits = 512;
  options.sector_size = 512;
  REQUIRE(benchmark_specs(options, &specs).ok());
  REQUIRE(specs.size() == 1);
  CHECK(specs[0].key_bytes == 64);
  CHECK(specs[0].sector_size == 512);

  // Outside the table but a cipher dm-crypt takes: measured alone.
  options = BenchmarkOptions{};
  options.cipher = "aes-cbc-essiv:sha256";
  options.key_bits = 128;
  REQUIRE(benchmark_specs(options, &specs).ok());
  REQUIRE(specs.size() == 1);
  CHECK(specs[0].key_bytes == 16);

  options = BenchmarkOptions{};
  options.key_bits = 128;
  Status s = benchmark_specs(options, &specs);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("128-bit") != std::string::npos);

  options = BenchmarkOptions{};
  options.cipher = "serpent-xts-bogus";
  s = benchmark_specs(options, &specs);
  CHECK(!s.ok());
  CHECK(s.message().find("serpent-xts-bogus") != std::string::npos);

  options = BenchmarkOptions{};
  options.request_bytes = 6144;  // not whole 4096-byte sectors
  s = benchmark_specs(options, &specs);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("6144") != std::string::npos);
}

TEST_CASE("openssl is compared on the primitive dm-crypt runs") {
  // dm-crypt's XTS key size counts both keys: 512 bits is AES-256-XTS.
  CHECK(openssl_equivalent(spec_of("aes-xts-plain64", 512)) == "aes-256-xts");
  CHECK(openssl_equivalent(spec_of("aes-xts-plain64", 256)) == "aes-128-xts");
  CHECK(openssl_equivalent(spec_of("aes-cbc-essiv:sha256", 256)) == "aes-256-cbc");
  CHECK(openssl_equivalent(spec_of("aes-cbc-essiv:sha256", 128)) == "aes-128-cbc");
  CHECK(openssl_equivalent(spec_of("cipher_null-ecb", 0)).empty());
}

TEST_CASE("the load keeps a one-worker provider busy and its figures agree with its counters") {
  auto provider = make_software_provider(1);
  BenchmarkOptions options;
  options.seconds = 0.3;
  for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
    const uint64_t before = provider->counters().payload_bytes.load();
    CryptoResult t;
    REQUIRE(measure_provider(*provider, spec_of("aes-xts-plain64", 512), direction, options, &t)
                .ok());
    const uint64_t moved = provider->counters().payload_bytes.load() - before;
    CHECK(t.mbs() > 0);
    CHECK(t.mbs_per_cpu() > 0);
    CHECK(t.cores() > 0);
    // Two lanes at most: the one worker, and the main thread, which runs queued tasks while
    // it waits (WorkerPool::help) instead of sleeping. CPU time over wall time can exceed
    // that only if the accounting is wrong; 10% covers the clocks' granularity.
    CHECK(t.cores() <= 2.2);
    CHECK(moved % 4096 == 0);
    // The counted window is 9/10 of the run; the counters saw all of it, warm-up included.
    CHECK(static_cast<double>(moved) >= t.mbs() * 1e6 * options.seconds * 0.9 * 0.99);
    CHECK(provider->counters().errors.load() == 0);
  }
}

TEST_CASE("a benchmark run: both directions, every figure, openssl beside") {
  BenchmarkOptions options;
  options.cipher = "aes-xts-plain64";
  options.key_bits = 512;
  options.seconds = 0.2;
  options.rounds = 1;
  CipherBenchmarkReport report;
  REQUIRE(run_cipher_benchmark(options, &report).ok());
  int software_rows = 0;
  for (const BenchmarkRow& r : report.rows) {
    CAPTURE(r.provider);
    CHECK(r.cipher == "aes-xts-plain64");
    CHECK(r.key_bits == 512);
    CHECK(r.all_threads_mbs > 0);
    CHECK(r.openssl_cipher == "aes-256-xts");
    if (openssl_installed()) {
      CHECK(r.openssl_mbs > 0);
      CHECK(r.openssl_multi_mbs > 0);
      CHECK(r.openssl_note.empty());
    } else {
      CHECK(r.openssl_note.find("openssl") != std::string::npos);
    }
    if (r.provider != "software") continue;
    ++software_rows;
    CHECK(r.implementation == aes_implementation_name(default_aes_implementation()));
    CHECK(r.one_thread_mbs > 0);
    CHECK(r.all_threads_cores > 0);
  }
  CHECK(software_rows == 2);  // encrypt and decrypt
}

TEST_CASE("ublkcrypt benchmark --json: one row per provider and direction, ratios from figures") {
  auto r = run(std::string(UBLKCRYPT_BINARY) +
               " benchmark --json --seconds 0.1 --rounds 1 -c aes-xts-plain64 -s 256 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  nlohmann::json out = nlohmann::json::parse(r.output);
  CHECK(out["rounds"] == 1);
  CHECK(out["request_bytes"] == 4096);
  int software = 0;
  for (const auto& row : out["results"]) {
    if (row["provider"] != "software") continue;
    ++software;
    CHECK(row["implementation"] == aes_implementation_name(default_aes_implementation()));
    CHECK(row["key_bits"] == 256);
    CHECK(row["openssl_cipher"] == "aes-128-xts");
    const double one = row["one_thread_mbs"].get<double>();
    const double all = row["all_threads_mbs"].get<double>();
    CHECK(one > 0);
    CHECK(all > 0);
    CHECK(row["all_vs_one_thread"].get<double>() == doctest::Approx(all / one));
    if (openssl_installed())
      CHECK(row["one_thread_vs_openssl"].get<double>() ==
            doctest::Approx(one / row["openssl_mbs"].get<double>()));
  }
  CHECK(software == 2);
}

TEST_CASE("ublkcrypt benchmark refuses bad input in one line, before measuring") {
  const std::string bench = std::string(UBLKCRYPT_BINARY) + " benchmark --seconds 0.1 --rounds 1 ";
  struct Case {
    std::string args;
    std::string names;
  } cases[] = {
      {"-c serpent-xts-bogus", "serpent-xts-bogus"},
      {"-c aes-cbc-random", "IV mode 'random'"},
      {"-c aes-xts-plain64 -s 320", "320"},
      {"--sector-size 1000", "sector size 1000"},
      {"-s 128", "128-bit"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    auto r = run(bench + c.args + " 2>&1");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(one_error_line(r.output), r.output);
    CHECK(r.output.find(c.names) != std::string::npos);
  }
}

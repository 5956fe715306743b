// ublkcrypt benchmark: the table and JSON of tools/cipher_benchmark.h.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tools/cipher_benchmark.h"
#include "tools/command.h"

namespace ublkcrypt {

namespace {

std::string figure(double mbs) { return mbs < 0 ? "n/a" : fmt::format("{:.1f}", mbs); }
std::string ratio(double a, double b) {
  return a < 0 || b <= 0 ? "n/a" : fmt::format("{:.2f}", a / b);
}
const char* direction_name(Direction d) { return d == Direction::encrypt ? "encrypt" : "decrypt"; }

void print_table(const BenchmarkOptions& options, const std::vector<BenchmarkRow>& rows) {
  fmt::print("# Tests are approximate, {} s per cell, best of {} interleaved rounds, {}-byte\n"
             "# requests, {}-byte sectors, in place; load: ProviderLoad (bench/provider_load.h)\n"
             "# through cipher_benchmark.cpp. MB/s = 10^6 bytes/s; \"1 thread\" and openssl per\n"
             "# CPU second, \"all threads\" per wall second; columns: docs/benchmarks.md.\n",
             options.seconds, options.rounds, options.request_bytes, options.sector_size);
  fmt::print(
      "{:<9} {:<11} {:<21} {:>5} {:<8} {:>10} {:>11} {:>5} {:>6} {:>10} {:<12} {:>10} {:>14} "
      "{:>12}\n",
      "provider", "impl", "algorithm", "key", "dir", "1 thread", "all threads", "cores", "all/1",
      "openssl", "(cipher)", "1t/openssl", "openssl -multi", "all/-multi");
  std::string notes;
  for (const BenchmarkRow& r : rows) {
    fmt::print(
        "{:<9} {:<11} {:<21} {:>4}b {:<8} {:>10} {:>11} {:>5} {:>6} {:>10} {:<12} {:>10} {:>14} "
        "{:>12}\n",
        r.provider, r.implementation.empty() ? "-" : r.implementation, r.cipher, r.key_bits,
        direction_name(r.direction), figure(r.one_thread_mbs),
        figure(r.all_threads_mbs),
        r.all_threads_cores < 0 ? "n/a" : fmt::format("{:.2f}", r.all_threads_cores),
        ratio(r.all_threads_mbs, r.one_thread_mbs), figure(r.openssl_mbs),
        r.openssl_cipher.empty() ? "-" : "(" + r.openssl_cipher + ")",
        ratio(r.one_thread_mbs, r.openssl_mbs), figure(r.openssl_multi_mbs),
        ratio(r.all_threads_mbs, r.openssl_multi_mbs));
    if (!r.openssl_note.empty() && notes.find(r.openssl_note) == std::string::npos)
      notes += "# openssl: " + r.openssl_note + "\n";
  }
  fmt::print("{}", notes);
}

void print_json(const BenchmarkOptions& options, const std::vector<BenchmarkRow>& rows) {
  auto number = [](double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
  nlohmann::json out;
  out["seconds_per_cell"] = options.seconds;
  out["rounds"] = options.rounds;
  out["request_bytes"] = options.request_bytes;
  out["sector_size"] = options.sector_size;
  out["unit"] = "MB/s (10^6 bytes)";
  out["results"] = nlohmann::json::array();
  for (const BenchmarkRow& r : rows) {
    nlohmann::json row = {
        {"provider", r.provider},
        {"implementation", r.implementation},
        {"cipher", r.cipher},
        {"key_bits", r.key_bits},
        {"direction", direction_name(r.direction)},
        {"one_thread_mbs", number(r.one_thread_mbs)},
        {"all_threads_mbs", number(r.all_threads_mbs)},
        {"all_threads_cores", number(r.all_threads_cores)},
        {"openssl_cipher", r.openssl_cipher},
        {"openssl_mbs", number(r.openssl_mbs)},
        {"openssl_multi_mbs", number(r.openssl_multi_mbs)},
        {"openssl_multi_processes", r.openssl_processes},
    };
    if (!r.openssl_note.empty()) row["openssl_note"] = r.openssl_note;
    if (r.one_thread_mbs >= 0 && r.openssl_mbs > 0)
      row["one_thread_vs_openssl"] = r.one_thread_mbs / r.openssl_mbs;
    if (r.all_threads_mbs >= 0 && r.openssl_multi_mbs > 0)
      row["all_threads_vs_openssl_multi"] = r.all_threads_mbs / r.openssl_multi_mbs;
    if (r.all_threads_mbs >= 0 && r.one_thread_mbs > 0)
      row["all_vs_one_thread"] = r.all_threads_mbs / r.one_thread_mbs;
    out["results"].push_back(std::move(row));
  }
  fmt::print("{}\n", out.dump(2));
}

struct BenchmarkArgs {
  BenchmarkOptions options;
  bool json = false;
};

}  // namespace

UBLKCRYPT_COMMAND("benchmark", 90, [](CLI::App& app) {
  auto args = std::make_shared<BenchmarkArgs>();
  CLI::App* cmd = app.add_subcommand(
      "benchmark", "Measure cipher throughput of every provider beside openssl speed");
  cmd->add_option("-c,--cipher", args->options.cipher,
                  "Only this cipher (aes-xts-plain64, aes-cbc-essiv:sha256, cipher_null-ecb)");
  cmd->add_option("-s,--key-size", args->options.key_bits, "Only this key size in bits");
  cmd->add_option("--seconds", args->options.seconds, "Seconds per measured cell")
      ->check(CLI::Range(0.1, 60.0));
  cmd->add_option("--rounds", args->options.rounds,
                  "Interleaved rounds per cell; each figure is the best round's")
      ->check(CLI::Range(1u, 20u));
  cmd->add_option("--sector-size", args->options.sector_size, "Sector size in bytes");
  cmd->add_flag("--json", args->json, "Print JSON instead of a table");
  cmd->callback([args] {
    std::vector<BenchmarkRow> rows;
    if (Status s = run_cipher_benchmark(args->options, &rows); !s.ok()) fail(s);
    if (args->json) {
      print_json(args->options, rows);
    } else {
      print_table(args->options, rows);
    }
  });
});

}  // namespace ublkcrypt

// ublkcrypt bench storage|crypto|contention|model: where should crypto live on this
// machine? Storage workloads through io_uring (fio's vocabulary), each provider alone at a
// sweep of request sizes and depths, storage and crypto traffic alone and together, and a
// placement model that predicts each placement's ceiling beside the measurement.
// The work is in bench/; this file is options and output.
#include <fmt/format.h>

#include <map>
#include <memory>

#include "bench/report.h"
#include "tools/command.h"

namespace ublkcrypt {

namespace {

struct OutputArgs {
  bool json = false;
  bool csv = false;
  std::string plot;
};

void add_output_options(CLI::App* cmd, OutputArgs& out) {
  cmd->add_flag("--json", out.json, "Print JSON instead of a table");
  cmd->add_flag("--csv", out.csv, "Print CSV instead of a table");
  cmd->add_option("--plot", out.plot, "Also draw a chart (FILE.svg or FILE.png, via gnuplot)");
}

// Refused before any I/O, like every other bad input.
void check_output(const OutputArgs& out) {
  if (out.json && out.csv)
    fail(Status(Errc::invalid_argument, "bench: --json and --csv are exclusive; pick one"));
  if (!out.plot.empty())
    if (Status s = check_plot_path(out.plot); !s.ok()) fail(s);
}

template <typename Report, typename Plot>
void emit(const Report& report, const OutputArgs& out, Plot plot) {
  if (out.json) fmt::print("{}\n", to_json(report).dump(2));
  else if (out.csv) fmt::print("{}", to_csv(report));
  else fmt::print("{}", format_table(report));
  if (!out.plot.empty()) {
    if (Status s = plot(report, out.plot); !s.ok()) fail(s);
    if (!out.json && !out.csv) fmt::print("# chart: {}\n", out.plot);
  }
}

void add_workload_options(CLI::App* cmd, Workload& w) {
  cmd->add_option("--rw", w.rw, "read, write, rw, randread, randwrite, randrw")
      ->capture_default_str();
  cmd->add_option("--rwmixread", w.read_percent, "Percent reads for rw/randrw")
      ->capture_default_str();
  cmd->add_option("--bs", w.block_bytes, "Block size (4k, 128k, 1m)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  cmd->add_option("--iodepth", w.iodepth, "I/Os in flight per job")->capture_default_str();
  cmd->add_option("--iodepth_batch", w.iodepth_batch,
                  "I/Os per submission, as fio's iodepth_batch_submit; 0 = iodepth")
      ->capture_default_str();
  cmd->add_option("--numjobs", w.jobs, "Threads, each with its own io_uring")
      ->capture_default_str();
  cmd->add_option("--size", w.size_bytes, "Region (and one pass without --runtime); 0 = all")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--seed", w.seed, "Seed for random offsets and the read/write mix");
}

void add_cipher_options(CLI::App* cmd, CryptoLoadOptions& c) {
  cmd->add_option("-c,--cipher", c.cipher, "Cipher")->capture_default_str();
  cmd->add_option("-s,--key-size", c.key_bits, "Key size in bits")->capture_default_str();
  cmd->add_option("--sector-size", c.sector_size, "Sector size in bytes")->capture_default_str();
}

// --- bench storage --------------------------------------------------------------------

void setup_storage(CLI::App* bench) {
  struct Args {
    StorageBenchmarkOptions options;
    OutputArgs out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = bench->add_subcommand(
      "storage", "fio-like workload through io_uring on a file or block device");
  cmd->add_option("target", args->options.target, "File or block device")->required();
  cmd->add_option("--compare", args->options.compare,
                  "Run the same workload on this path too (an open ublkcrypt device over the "
                  "target) and print the ratio");
  add_workload_options(cmd, args->options.workload);
  cmd->add_option("--runtime", args->options.workload.runtime_seconds,
                  "Seconds (0 = one pass of --size)")
      ->capture_default_str();
  cmd->add_flag("--force", args->options.force,
                "Write even over a filesystem or LUKS header found on the target");
  add_output_options(cmd, args->out);
  cmd->callback([args] {
    check_output(args->out);
    ProgressDisplay progress;
    StorageBenchmarkReport report;
    if (Status s = run_storage_benchmark(args->options, progress, &report); !s.ok()) fail(s);
    emit(report, args->out, plot_storage);
  });
}

// --- bench crypto ---------------------------------------------------------------------

void setup_crypto(CLI::App* bench) {
  struct Args {
    CryptoSweepOptions options;
    bool decrypt = false;
    OutputArgs out;
  };
  auto args = std::make_shared<Args>();
  args->options.load.sector_size = 512;  // so the sweep can start at 512-byte requests
  args->options.load.seconds = 0.5;
  CLI::App* cmd = bench->add_subcommand(
      "crypto", "Each provider alone at a sweep of request sizes and in-flight depths");
  cmd->add_option("--provider", args->options.providers,
                  "Only this provider (repeatable); default every one that runs the cipher");
  cmd->add_option("--sizes", args->options.request_sizes, "Request sizes")
      ->transform(CLI::AsSizeValue(false))
      ->delimiter(',');
  cmd->add_option("--depths", args->options.depths, "Requests in flight")->delimiter(',');
  cmd->add_option("--runtime", args->options.load.seconds, "Seconds per cell")
      ->capture_default_str();
  cmd->add_flag("--decrypt", args->decrypt, "Decrypt instead of encrypt");
  add_cipher_options(cmd, args->options.load);
  add_output_options(cmd, args->out);
  cmd->callback([args] {
    check_output(args->out);
    if (args->decrypt) args->options.load.direction = Direction::decrypt;
    ProgressDisplay progress;
    CryptoSweepReport report;
    if (Status s = run_crypto_sweep(args->options, progress, &report); !s.ok()) fail(s);
    emit(report, args->out, plot_crypto_sweep);
  });
}

// --- bench contention -----------------------------------------------------------------

void add_contention_options(CLI::App* cmd, ContentionOptions& o, bool targets_required) {
  auto* target = cmd->add_option("--target", o.targets,
                                 "File or block device to run storage traffic on (repeatable)");
  if (targets_required) target->required();
  cmd->add_option("--provider", o.providers,
                  "Only this provider (repeatable); default every one that runs the cipher");
  add_workload_options(cmd, o.storage);
  cmd->add_option("--runtime", o.phase_seconds,
                  "Seconds per phase (five phases per cell), split across the rounds")
      ->capture_default_str();
  cmd->add_option("--rounds", o.rounds,
                  "Interleaved rounds of the phases; each figure is its phase's median round")
      ->capture_default_str();
  cmd->add_option("--crypto-depth", o.crypto.depth,
                  "Crypto requests in flight; 0 = as many as the workload's I/Os (iodepth x "
                  "numjobs), which the model's latency term assumes")
      ->capture_default_str();
  add_cipher_options(cmd, o.crypto);
  cmd->add_flag("--force", o.force,
                "Write even over a filesystem or LUKS header found on a target");
}

ContentionOptions default_contention() {
  ContentionOptions o;
  o.storage.rw = "write";
  o.storage.block_bytes = 128 * 1024;
  o.storage.iodepth = 16;
  // The engine phases send a completion pass's I/Os in one submission; storage alone does
  // the same, so its figure is the ceiling the engine meets. With one submission per I/O
  // (bench storage's default, fio's), a raw disk phase can run below the engine over it,
  // and the model's storage ceiling predicts too low.
  o.storage.iodepth_batch = 0;
  return o;
}

void setup_contention(CLI::App* bench) {
  struct Args {
    ContentionOptions options = default_contention();
    OutputArgs out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = bench->add_subcommand(
      "contention",
      "Storage traffic alone, crypto alone, both together, and the encrypted datapath");
  add_contention_options(cmd, args->options, true);
  add_output_options(cmd, args->out);
  cmd->callback([args] {
    check_output(args->out);
    ProgressDisplay progress;
    ContentionReport report;
    if (Status s = run_contention(args->options, progress, &report); !s.ok()) fail(s);
    emit(report, args->out, plot_contention);
  });
}

// --- bench model ----------------------------------------------------------------------

void setup_model(CLI::App* bench) {
  struct Args {
    ContentionOptions options = default_contention();
    MachineFigures given;
    OutputArgs out;
  };
  auto args = std::make_shared<Args>();
  args->given.bus_share = 1;
  args->options.phase_seconds = 1;
  CLI::App* cmd = bench->add_subcommand(
      "model",
      "Predict the bottleneck and ceiling per placement; with --target, beside a measurement");
  MachineFigures& g = args->given;
  cmd->add_option("--cores", g.cores, "Cores for the datapath");
  cmd->add_option("--cipher-mbs", g.cipher_mbs_per_core, "Host cipher MB/s per core");
  cmd->add_option("--memory-mbs", g.memory_mbs, "Memory traffic MB/s (read + write)");
  cmd->add_option("--bus-mbs", g.bus_mbs, "I/O bus MB/s (e.g. PCIe 4.0 x8: 15750)");
  cmd->add_option("--bus-share", g.bus_share, "Fraction of the bus for this datapath")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--storage-mbs", g.storage_mbs, "Storage device MB/s");
  cmd->add_option("--storage-cpu", g.storage_core_s_per_mb, "Host core-seconds per MB of storage I/O");
  cmd->add_option("--datapath-mbs", g.datapath_mbs, "The engine's MB/s with cipher_null");
  cmd->add_option("--datapath-cpu", g.datapath_core_s_per_mb,
                  "Host core-seconds per MB of the engine with cipher_null (replaces --storage-cpu)");
  cmd->add_option("--card-mbs", g.card_mbs, "Card cipher MB/s");
  cmd->add_option("--provider-mbs", g.provider_mbs,
                  "The provider alone at the workload's depth and block size, MB/s (the "
                  "latency term; with --datapath-mbs)");
  cmd->add_option("--placement", g.provider_placement,
                  "Where that provider sits: host-cpu, lookaside-card, inline-device")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Placement>{{"host-cpu", Placement::host_cpu},
                                           {"lookaside-card", Placement::lookaside_card},
                                           {"inline-device", Placement::inline_device}}));
  cmd->add_option("--card-copies", g.card_copies_per_byte,
                  "Host copies per byte on the card path")
      ->capture_default_str();
  add_contention_options(cmd, args->options, false);
  add_output_options(cmd, args->out);
  cmd->callback([args] {
    check_output(args->out);
    MachineFigures figures = args->given;
    figures.inflight = double(args->options.storage.iodepth) * args->options.storage.jobs;
    figures.request_bytes = args->options.storage.block_bytes;
    ContentionReport measured;
    const bool measure = !args->options.targets.empty();
    if (measure) {
      ProgressDisplay progress;
      if (Status s = run_contention(args->options, progress, &measured); !s.ok()) fail(s);
      // Measured figures fill in what was not given.
      const MachineFigures& m = measured.cells.front().figures;
      auto fill = [](double& v, double from) {
        if (v <= 0) v = from;
      };
      fill(figures.cores, m.cores);
      fill(figures.cipher_mbs_per_core, m.cipher_mbs_per_core);
      fill(figures.memory_mbs, m.memory_mbs);
      fill(figures.storage_mbs, m.storage_mbs);
      fill(figures.storage_core_s_per_mb, m.storage_core_s_per_mb);
      fill(figures.datapath_mbs, m.datapath_mbs);
      fill(figures.datapath_core_s_per_mb, m.datapath_core_s_per_mb);
      if (figures.provider_mbs <= 0) {
        figures.provider_mbs = m.provider_mbs;
        figures.provider_placement = m.provider_placement;
      }
    }
    emit(build_model_report(figures, measure ? &measured : nullptr), args->out, plot_model);
  });
}

}  // namespace

UBLKCRYPT_COMMAND("bench", 95, [](CLI::App& app) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Storage, crypto and contention benchmarks and the crypto placement model");
  bench->require_subcommand(1);
  setup_storage(bench);
  setup_crypto(bench);
  setup_contention(bench);
  setup_model(bench);
});

}  // namespace ublkcrypt

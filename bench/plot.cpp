#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <vector>

#include "bench/report.h"

namespace ublkcrypt {

namespace {

// A string literal for gnuplot (double-quoted; backslash and quote escaped).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' || c == '\\' ? std::string{'\\', c} : std::string{c};
  return out + "\"";
}

std::string extension_of(const std::string& path) {
  return std::filesystem::path(path).extension().string();
}

// A target's name short enough for an axis label under a 1/3-wide panel: its file name
// ("tmpfs.img", "zram1"), or with its directory ("shm/bench.img") where another target of
// the run has the same file name.
std::string target_label(const std::string& target, const std::vector<std::string>& all) {
  std::filesystem::path p(target);
  const std::string name = p.filename().string();
  for (const std::string& other : all)
    if (other != target && std::filesystem::path(other).filename() == name) {
      const std::string dir = p.parent_path().filename().string();
      return dir.empty() ? name : dir + "/" + name;
    }
  return name;
}

const char* kStyle =
    "set style data histograms\n"
    "set style histogram clustered gap 1\n"
    "set style fill solid 0.85 border -1\n"
    "set boxwidth 0.9\n"
    "set grid ytics\n"
    "set key outside top center horizontal\n"
    "set xtics noenhanced\n";

// Draws `body` into `path` through gnuplot, or for FILE.gp writes the whole script there,
// drawing FILE.svg wherever it is run (the test VM's initramfs has no gnuplot). Made under a
// temporary name, renamed into place once complete.
Status run_gnuplot(const std::string& body, const std::string& path, int width, int height) {
  const std::string ext = extension_of(path), temp = path + ".tmp" + ext;
  std::string script =
      ext == ".png"
          ? fmt::format("set terminal pngcairo size {},{} font 'sans,11'\n", width, height)
          : fmt::format("set terminal svg size {},{} dynamic font 'sans,12' background "
                        "'#ffffff'\n", width, height);
  const std::string svg = std::filesystem::path(path).replace_extension(".svg").filename();
  script += "set output " + quoted(ext == ".gp" ? svg : temp) + "\n" + body + "unset output\n";
  Status s;
  if (ext == ".gp") {
    std::ofstream out(temp);
    if (!(out << script).flush()) s = Status(Errc::io_error, "plot " + path + ": write failed");
  } else if (FILE* gnuplot = ::popen("gnuplot", "w"); gnuplot == nullptr) {
    s = errno_status("plot " + path + ": run gnuplot", errno);
  } else {
    std::fwrite(script.data(), 1, script.size(), gnuplot);
    if (const int status = ::pclose(gnuplot); !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      s = Status(Errc::io_error, fmt::format("plot {}: gnuplot failed (exit status {})", path,
                                             WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  if (s.ok() && ::rename(temp.c_str(), path.c_str()) != 0) s = errno_status("plot " + path, errno);
  if (!s.ok()) ::unlink(temp.c_str());
  return s;
}

}  // namespace

Status check_plot_path(const std::string& path) {
  const std::string ext = extension_of(path);
  if (ext != ".svg" && ext != ".png" && ext != ".gp")
    return Status(Errc::invalid_argument,
                  fmt::format("plot {}: the name must end in .svg, .png or .gp", path));
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  // As root access() grants W_OK on anything, so a file where the directory should be
  // has to be caught by its type.
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status(Errc::not_found,
                  fmt::format("plot {}: {} is not a directory", path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0)
    return errno_status(fmt::format("plot {}: directory {}", path, dir.string()), errno);
  if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0)
    return errno_status("plot " + path, errno);
  if (ext != ".gp" && std::system("command -v gnuplot >/dev/null 2>&1") != 0)
    return Status(Errc::not_found,
                  fmt::format("plot {}: gnuplot not found (install gnuplot-nox, or write FILE.gp to "
                              "draw elsewhere)", path));
  return Status::Ok();
}

std::string contention_script(const ContentionReport& r) {
  std::string s = kStyle;
  std::vector<std::string> targets;
  for (const ContentionCell& c : r.cells) targets.push_back(c.target);
  // Panel data: one line per cell.
  s += "$cells << EOD\n";
  for (const ContentionCell& c : r.cells)
    s += fmt::format("{} {:.4f} {:.4f} {:.1f} {:.1f} {:.1f} {} {:.1f} {}\n",
                     quoted(target_label(c.target, targets)), c.storage_ratio(), c.crypto_ratio(),
                     c.storage_alone.mbs(), c.encrypted.mbs(), c.prediction.ceiling_mbs,
                     quoted(c.provider), c.datapath.mbs(),
                     quoted(c.prediction.ceiling_mbs > 0
                                ? fmt::format("model {:+.0f}%", (c.model_ratio() - 1) * 100)
                                : std::string("no model")));
  s += "EOD\n";
  // Ceilings per placement from each target's first cell's figures.
  s += "$placements << EOD\n";
  std::string last_target;
  for (const ContentionCell& c : r.cells) {
    if (c.target == last_target) continue;
    last_target = c.target;
    s += quoted(target_label(c.target, targets));
    for (const PlacementPrediction& p : predict_all(c.figures))
      s += fmt::format(" {:.1f}", p.ceiling_mbs);
    s += "\n";
  }
  s += "EOD\n";
  // Room under each panel for the tick labels (target over provider, and the model's error).
  s += "set bmargin 6\n";
  s += fmt::format(
      "set multiplot layout 1,3 title {} font ',13'\n",
      quoted(fmt::format("ublkcrypt bench contention: {} {} x QD{}, {:.1f} s per phase, {} CPUs",
                         r.options.storage.rw, size_label(r.options.storage.block_bytes),
                         r.options.storage.iodepth, r.options.phase_seconds, r.cpus)));
  // Two-line tick labels: the target's file name over the provider.
  const char* tick = "xticlabels(strcol(1).\"\\n\".strcol(7))";
  double top = 1.2;
  for (const ContentionCell& c : r.cells)
    top = std::max({top, c.storage_ratio() * 1.1, c.crypto_ratio() * 1.1});
  s += fmt::format(
      "set title 'Throughput together / alone (1.0 = no contention)'\n"
      "set yrange [0:{:.2f}]\nset ylabel 'together / alone'\n"
      "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2\n"
      "plot $cells using 2:{} title 'storage traffic', '' using 3 title 'crypto traffic'\n"
      "unset arrow 1\n",
      top, tick);
  // Under each cluster: target, provider and measured / predicted - 1.
  // A host cipher's tens of MB/s beside an NVMe disk's thousands vanish on a linear axis:
  // a logarithmic one where the bars span more than 20x, so every measured-vs-model pair
  // can be read.
  double low = 0, high = 0;
  for (const ContentionCell& c : r.cells)
    for (double v : {c.storage_alone.mbs(), c.datapath.mbs(), c.encrypted.mbs(),
                     c.prediction.ceiling_mbs})
      if (v > 0) {
        low = low > 0 ? std::min(low, v) : v;
        high = std::max(high, v);
      }
  const bool logarithmic = low > 0 && high / low > 20;
  s += "set title 'Encrypted storage: measured vs model (error under each pair)'\n";
  s += logarithmic ? fmt::format("set logscale y\nset yrange [{:.3g}:*]\n", low / 2)
                   : std::string("set yrange [0:*]\n");
  s += "set ylabel 'MB/s (million bytes/s)'\n"
       "plot $cells using 4:xticlabels(strcol(1).\"\\n\".strcol(7).\"\\n\".strcol(9)) "
       "title 'raw storage', "
       "'' using 8 title 'engine, cipher_null' noenhanced, "
       "'' using 5 title 'encrypted (measured)', '' using 6 title 'model prediction'\n";
  if (logarithmic) s += "unset logscale y\n";
  s += "set title 'Model ceiling per placement (resources known on this machine)'\n"
       "set yrange [0:*]\n"
       "plot $placements using 2:xtic(1) title 'host-cpu', '' using 3 title 'lookaside-card', "
       "'' using 4 title 'inline-device'\n";
  s += "unset multiplot\n";
  return s;
}

namespace {

Status chart(const ContentionReport& r, const std::string& path) {
  // Each cluster needs room for its two-line label (file name over provider): with six
  // cells (two targets, three placements, as in the VM) at 1650 px the labels overlapped.
  const int width = std::max<int>(1650, 3 * (150 + 130 * int(r.cells.size())));
  return run_gnuplot(contention_script(r), path, width, 640);
}

Status chart(const CryptoSweepReport& r, const std::string& path) {
  std::string s = "set grid\nset logscale x 2\nset key top left noenhanced\n"
                  "set xlabel 'request size (bytes)'\nset ylabel 'MB/s (million bytes/s)'\n";
  s += fmt::format("set title {}\n",
                   quoted(fmt::format("ublkcrypt bench crypto: {} {}-bit, {} per request size",
                                      r.options.load.cipher, r.options.load.key_bits,
                                      r.options.load.direction == Direction::encrypt
                                          ? "encrypt" : "decrypt")));
  std::string plots;
  int index = 0;
  const size_t sizes = r.options.request_sizes.size();
  for (size_t i = 0; i + sizes <= r.rows.size(); i += sizes, ++index) {
    s += fmt::format("$s{} << EOD\n", index);
    for (size_t k = 0; k < sizes; ++k)
      s += fmt::format("{} {:.1f}\n", r.rows[i + k].request_bytes, r.rows[i + k].result.mbs());
    s += "EOD\n";
    plots += fmt::format("{}$s{} using 1:2 with linespoints lw 2 title {}", plots.empty() ? "" : ", ",
                         index,
                         quoted(fmt::format("{} QD{}", r.rows[i].provider, r.rows[i].depth)));
  }
  s += "plot " + plots + "\n";
  return run_gnuplot(s, path, 1000, 600);
}

Status chart(const StorageBenchmarkReport& r, const std::string& path) {
  std::string s = kStyle;
  s += "$t << EOD\n";
  auto row = [&](const std::string& target, const WorkloadResult& w) {
    s += fmt::format("{} {:.1f} {:.1f}\n",
                     quoted(target_label(target, {r.options.target, r.options.compare})), w.mbs(),
                     double(w.latency().percentile(99)) / 1e3);
  };
  row(r.options.target, r.target);
  if (!r.options.compare.empty()) row(r.options.compare, r.compare);
  s += "EOD\n";
  s += fmt::format("set multiplot layout 1,2 title {}\n",
                   quoted("ublkcrypt bench storage: " + r.options.workload.rw + " " +
                          size_label(r.options.workload.block_bytes) + " x QD" +
                          std::to_string(r.options.workload.iodepth)));
  s += "set title 'Throughput'\nset ylabel 'MB/s'\nset yrange [0:*]\n"
       "plot $t using 2:xtic(1) notitle\n"
       "set title 'p99 latency'\nset ylabel 'microseconds'\n"
       "plot $t using 3:xtic(1) notitle\nunset multiplot\n";
  return run_gnuplot(s, path, 1100, 500);
}

Status chart(const ModelReport& r, const std::string& path) {
  std::string s = kStyle;
  s += "$p << EOD\n";
  for (const PlacementPrediction& p : r.predictions) {
    double measured = 0;
    for (const ModelMeasurement& m : r.measured)
      if (m.placement == p.placement) measured = m.measured_mbs;  // the last one measured
    s += fmt::format("{} {:.1f} {:.1f}\n", quoted(placement_name(p.placement)), p.ceiling_mbs,
                     measured);
  }
  s += "EOD\n";
  s += "set title 'ublkcrypt bench model: throughput ceiling per placement'\n"
       "set ylabel 'MB/s (million bytes/s)'\nset yrange [0:*]\n"
       "plot $p using 2:xtic(1) title 'model ceiling', '' using 3 title 'measured here'\n";
  return run_gnuplot(s, path, 1000, 560);
}

}  // namespace

Status plot(const BenchReport& r, const std::string& path) {
  return std::visit([&](const auto& x) { return chart(x, path); }, r);
}

}  // namespace ublkcrypt

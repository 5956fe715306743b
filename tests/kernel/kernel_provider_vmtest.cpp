// kernel_provider_vmtest: the kernel provider against real AF_ALG, run inside the VM (the
// host kernel has none). No ublk needed: it drives Sessions from the builtin registry.
//
//   kernel_provider_vmtest check [BACKEND]...        bit-identity with software, round trip
//   kernel_provider_vmtest failover BACKEND [--signal-after N --signal CMD] [--seconds S]
//   kernel_provider_vmtest bench BACKEND [--seconds S] [--depth D]
//
// check: for each backend and cipher it fits, encrypts random sectors through the kernel
// provider and through software and requires identical ciphertext (migration between them
// must be invisible), decrypts software's ciphertext through the kernel provider, and
// prints the kernel provider's byte counters.
// failover: encrypts and verifies batches through a failover-enabled session on BACKEND;
// after N batches runs CMD (the scenario pulls the card then); requires zero errors, zero
// mismatches and exactly one failover to software.
// bench: throughput and CPU time per byte of BACKEND and software side by side, encrypting
// with D requests in flight, at 512 B, 4 KiB, 64 KiB and 1 MiB requests.
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "backends/registry.h"

using namespace ublkcrypt;
using Clock = std::chrono::steady_clock;

namespace {

std::mt19937_64 rng(20261126);

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

// Collects completions of many requests submitted at once.
struct Batch final : CryptoCompletion {
  std::mutex m;
  std::condition_variable cv;
  size_t outstanding = 0;
  size_t failed = 0;
  std::string first_error;
  std::deque<CryptoRequest*> done;  // for the bench: finished, ready to resubmit

  void crypto_done(CryptoRequest* request, Status status) override {
    std::lock_guard lock(m);
    if (!status.ok()) {
      if (failed++ == 0) first_error = status.message();
    }
    --outstanding;
    done.push_back(request);
    cv.notify_all();
  }
  void wait_all() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return outstanding == 0; });
  }
};

// Runs `requests` runs of `sectors` sectors each, all in flight at once, in one direction.
Status run_many(Session& session, Direction direction, const uint8_t* src, uint8_t* dst,
                uint64_t first_sector, uint32_t sector_size, size_t requests,
                uint32_t sectors) {
  std::vector<CryptoRequest> rs(requests);
  std::vector<CryptoRequest*> ptrs;
  Batch batch;
  batch.outstanding = requests;
  for (size_t i = 0; i < requests; ++i) {
    size_t offset = i * size_t{sectors} * sector_size;
    rs[i].run = SectorRun{direction, src + offset, dst + offset, first_sector + i * sectors,
                          sectors};
    rs[i].completion = &batch;
    ptrs.push_back(&rs[i]);
  }
  session.submit(ptrs);
  batch.wait_all();
  if (batch.failed) return Status(Errc::io_error, batch.first_error);
  return Status::Ok();
}

Status open(const std::string& backend, const std::string& cipher, uint32_t key_bits,
            uint32_t sector_size, std::span<const uint8_t> key, bool failover,
            std::unique_ptr<Session>* out) {
  CipherSpec spec;
  if (Status s = CipherSpec::parse(cipher, key_bits, sector_size, &spec); !s.ok()) return s;
  SessionOptions options;
  options.backend = backend;
  options.failover = failover;
  return builtin_registry().open_session(spec, key, options, out);
}

std::string counters_line(const char* name) {
  Provider* p = builtin_registry().find(name);
  if (p == nullptr) return fmt::format("{}: not built in", name);
  const ProviderCounters& c = p->counters();
  return fmt::format("{}: requests={} payload={} to_device={} from_device={} copies={} errors={}",
                     name, c.requests.load(), c.payload_bytes.load(), c.bytes_to_device.load(),
                     c.bytes_from_device.load(), c.copy_bytes.load(), c.errors.load());
}

struct CheckCase {
  const char* cipher;
  uint32_t key_bits;
};

int check(std::vector<std::string> backends) {
  // What each backend must serve; a backend given on the command line is tried with every
  // cipher and skipped, saying why, where it does not fit (the card has no XTS).
  struct Plan {
    std::string backend;
    CheckCase cipher;
  };
  const CheckCase essiv256{"aes-cbc-essiv:sha256", 256}, essiv128{"aes-cbc-essiv:sha256", 128},
      xts512{"aes-xts-plain64", 512}, xts256{"aes-xts-plain64", 256};
  std::vector<Plan> plans;
  if (backends.empty()) {
    for (const char* b : {"kernel:virtio_crypto_aes_cbc", "kernel:essiv(cbc(aes),sha256)",
                          "kernel:cbc(aes)"})
      for (CheckCase c : {essiv256, essiv128}) plans.push_back({b, c});
    for (const char* b : {"kernel", "kernel:xts(ecb(aes-generic))"})
      for (CheckCase c : {xts512, xts256}) plans.push_back({b, c});
  } else {
    for (const std::string& b : backends)
      for (CheckCase c : {essiv256, essiv128, xts512, xts256}) plans.push_back({b, c});
  }
  const bool strict = backends.empty();
  int failures = 0, passes = 0;
  for (const Plan& plan : plans) {
    const std::string& backend = plan.backend;
    const CheckCase& c = plan.cipher;
    {
      for (uint32_t sector_size : {512u, 4096u}) {
        std::vector<uint8_t> key = random_bytes(c.key_bits / 8);
        std::unique_ptr<Session> kernel, software;
        const std::string what = fmt::format("{} {}-bit sector {} {}", c.cipher, c.key_bits,
                                             sector_size, backend);
        Status s = open(backend, c.cipher, c.key_bits, sector_size, key, false, &kernel);
        if (!s.ok()) {
          if (!strict && s.code() == Errc::unsupported) {
            fmt::print("skip: {}: {}\n", what, s.message());
            continue;
          }
          fmt::print("FAIL: {}: {}\n", what, s.message());
          ++failures;
          continue;
        }
        if (Status t = open("software", c.cipher, c.key_bits, sector_size, key, false, &software);
            !t.ok()) {
          fmt::print("FAIL: {}: software: {}\n", what, t.message());
          ++failures;
          continue;
        }
        // 32 requests of 8 sectors in flight at once, at a random place in a large device.
        const size_t requests = 32;
        const uint32_t sectors = 8;
        const size_t bytes = requests * sectors * sector_size;
        const uint64_t first = rng() % (uint64_t{1} << 40);
        std::vector<uint8_t> plain = random_bytes(bytes), by_kernel(bytes), by_software(bytes),
                             back(bytes);
        Status e1 = run_many(*kernel, Direction::encrypt, plain.data(), by_kernel.data(), first,
                             sector_size, requests, sectors);
        Status e2 = run_many(*software, Direction::encrypt, plain.data(), by_software.data(),
                             first, sector_size, requests, sectors);
        Status d1 = run_many(*kernel, Direction::decrypt, by_software.data(), back.data(), first,
                             sector_size, requests, sectors);
        if (!e1.ok() || !e2.ok() || !d1.ok()) {
          fmt::print("FAIL: {}: {}{}{}\n", what, e1.message(), e2.message(), d1.message());
          ++failures;
          continue;
        }
        const bool same = by_kernel == by_software;
        const bool round_trip = back == plain;
        const bool encrypted = by_kernel != plain;
        if (!same || !round_trip || !encrypted) {
          size_t at = 0;
          while (at < bytes && by_kernel[at] == by_software[at]) ++at;
          fmt::print("FAIL: {}: ciphertext {} (first difference at byte {}), decrypt {}\n",
                     what, same ? "identical" : "DIFFERS", at, round_trip ? "ok" : "WRONG");
          ++failures;
          continue;
        }
        SessionState state = kernel->state();
        fmt::print("ok: {}: {} sectors bit-identical to software, decrypt ok (bound {}{}{})\n",
                   what, requests * sectors * 2, state.provider, state.variant.empty() ? "" : ":",
                   state.variant);
        ++passes;
      }
    }
  }
  fmt::print("{}\n{}\n", counters_line("kernel"), counters_line("software"));
  fmt::print("CARD-CHECK {}: {} passed, {} failed\n", failures ? "FAIL" : "PASS", passes,
             failures);
  return failures == 0 && passes > 0 ? 0 : 1;
}

int failover(const std::string& backend, int signal_after, const std::string& signal_cmd,
             int seconds) {
  const uint32_t sector_size = 4096;
  std::vector<uint8_t> key = random_bytes(32);
  std::unique_ptr<Session> session, reference;
  if (Status s = open(backend, "aes-cbc-essiv:sha256", 256, sector_size, key, true, &session);
      !s.ok()) {
    fmt::print("FAIL: open {}: {}\n", backend, s.message());
    return 1;
  }
  if (Status s = open("software", "aes-cbc-essiv:sha256", 256, sector_size, key, false,
                      &reference);
      !s.ok()) {
    fmt::print("FAIL: open software: {}\n", s.message());
    return 1;
  }
  const size_t requests = 16;
  const uint32_t sectors = 8;
  const size_t bytes = requests * sectors * sector_size;
  int batches = 0, errors = 0, mismatches = 0, after_failover = 0;
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  const auto started = Clock::now();
  double failover_seen_at = -1;
  while (Clock::now() < end && after_failover < 20) {
    const uint64_t first = rng() % (uint64_t{1} << 30);
    std::vector<uint8_t> plain = random_bytes(bytes), ct(bytes), expect(bytes), back(bytes);
    Status e = run_many(*session, Direction::encrypt, plain.data(), ct.data(), first,
                        sector_size, requests, sectors);
    Status r = run_many(*reference, Direction::encrypt, plain.data(), expect.data(), first,
                        sector_size, requests, sectors);
    Status d = run_many(*session, Direction::decrypt, ct.data(), back.data(), first,
                        sector_size, requests, sectors);
    ++batches;
    if (!e.ok() || !d.ok() || !r.ok()) {
      ++errors;
      fmt::print("error in batch {}: {} {} {}\n", batches, e.message(), d.message(), r.message());
    } else if (ct != expect || back != plain) {
      ++mismatches;
      fmt::print("mismatch in batch {}\n", batches);
    }
    if (batches == signal_after && !signal_cmd.empty()) {
      fmt::print("batch {}: running '{}'\n", batches, signal_cmd);
      std::fflush(stdout);
      if (std::system(signal_cmd.c_str()) != 0) fmt::print("warning: '{}' failed\n", signal_cmd);
    }
    if (session->state().failovers > 0) {
      if (failover_seen_at < 0)
        failover_seen_at = std::chrono::duration<double>(Clock::now() - started).count();
      ++after_failover;
    }
  }
  SessionState state = session->state();
  fmt::print("batches={} sectors={} errors={} mismatches={}\n", batches,
             size_t(batches) * requests * sectors * 2, errors, mismatches);
  fmt::print("state: provider={}{}{} failovers={} last_failover=\"{}\" (seen after {:.1f} s)\n",
             state.provider, state.variant.empty() ? "" : ":", state.variant, state.failovers,
             state.last_failover, failover_seen_at);
  fmt::print("{}\n{}\n", counters_line("kernel"), counters_line("software"));
  const bool pass = errors == 0 && mismatches == 0 && state.failovers == 1 &&
                    state.provider == "software" && after_failover > 0;
  // Closing must not hang although the dead card still holds requests.
  session.reset();
  reference.reset();
  fmt::print("sessions closed\n");
  fmt::print("CARD-FAILOVER {}\n", pass ? "PASS" : "FAIL");
  std::fflush(stdout);
  return pass ? 0 : 1;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct BenchResult {
  double mb_per_s = 0;
  double cpu_ns_per_byte = 0;
  uint64_t bytes = 0;
  std::string error;
};

// Keeps `depth` requests of `request_bytes` in flight for `seconds`, resubmitting each as
// it completes.
BenchResult bench_one(const std::string& backend, uint32_t request_bytes, uint32_t sector_size,
                      int depth, double seconds) {
  BenchResult result;
  std::vector<uint8_t> key = random_bytes(32);
  std::unique_ptr<Session> session;
  if (Status s = open(backend, "aes-cbc-essiv:sha256", 256, sector_size, key, false, &session);
      !s.ok()) {
    result.error = s.message();
    return result;
  }
  const uint32_t sectors = request_bytes / sector_size;
  std::vector<uint8_t> src = random_bytes(size_t(depth) * request_bytes);
  std::vector<uint8_t> dst(src.size());
  std::vector<CryptoRequest> rs(depth);
  Batch batch;
  for (int i = 0; i < depth; ++i) {
    rs[i].run = SectorRun{Direction::encrypt, src.data() + size_t(i) * request_bytes,
                          dst.data() + size_t(i) * request_bytes, uint64_t(i) * sectors, sectors};
    rs[i].completion = &batch;
  }
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t completed = 0;
  {
    std::vector<CryptoRequest*> all;
    for (auto& r : rs) all.push_back(&r);
    batch.outstanding = all.size();
    session->submit(all);
  }
  bool stopping = false;
  while (true) {
    std::vector<CryptoRequest*> again;
    {
      std::unique_lock lock(batch.m);
      batch.cv.wait(lock, [&] { return !batch.done.empty() || batch.outstanding == 0; });
      completed += batch.done.size();
      if (!stopping && Clock::now() >= end) stopping = true;
      if (!stopping) {
        again.assign(batch.done.begin(), batch.done.end());
        batch.outstanding += again.size();
      }
      batch.done.clear();
      if (stopping && batch.outstanding == 0) break;
    }
    if (!again.empty()) session->submit(again);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  if (batch.failed) result.error = batch.first_error;
  result.bytes = completed * request_bytes;
  result.mb_per_s = double(result.bytes) / wall / 1e6;
  result.cpu_ns_per_byte = cpu * 1e9 / double(result.bytes);
  return result;
}

int bench(const std::string& backend, double seconds, int depth) {
  fmt::print("benchmark: aes-cbc-essiv:sha256 256-bit encrypt, {} requests in flight, {:.1f} s "
             "per cell, CPU = this process's user+sys (getrusage)\n",
             depth, seconds);
  fmt::print("{:<30} {:>8} {:>7} {:>10} {:>12} {:>10}\n", "backend", "request", "sector",
             "MB/s", "CPU ns/byte", "MB moved");
  const uint32_t sizes[] = {512, 4096, 65536, 1 << 20};
  double at4k = 0, at64k = 0;
  for (const std::string& b : {backend, std::string("software")}) {
    for (uint32_t size : sizes) {
      const uint32_t sector = std::min<uint32_t>(size, 4096);
      BenchResult r = bench_one(b, size, sector, depth, seconds);
      if (!r.error.empty()) {
        fmt::print("{:<30} {:>8} {:>7} error: {}\n", b, size, sector, r.error);
        continue;
      }
      fmt::print("{:<30} {:>8} {:>7} {:>10.1f} {:>12.2f} {:>10.1f}\n", b, size, sector,
                 r.mb_per_s, r.cpu_ns_per_byte, double(r.bytes) / 1e6);
      std::fflush(stdout);
      if (b == backend && size == 4096) at4k = r.mb_per_s;
      if (b == backend && size == 65536) at64k = r.mb_per_s;
    }
  }
  fmt::print("{}\n{}\n", counters_line("kernel"), counters_line("software"));
  fmt::print("{}: 4 KiB throughput is {:.0f}% of 64 KiB (goal >= 50%)\n", backend,
             at64k > 0 ? 100 * at4k / at64k : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    fmt::print(stderr, "usage: kernel_provider_vmtest check|failover|bench ...\n");
    return 2;
  }
  const std::string mode = args[0];
  std::vector<std::string> positional;
  int signal_after = 10, seconds = 60, depth = 32;
  double bench_seconds = 2;
  std::string signal_cmd;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--signal-after" && i + 1 < args.size()) signal_after = std::atoi(args[++i].c_str());
    else if (args[i] == "--signal" && i + 1 < args.size()) signal_cmd = args[++i];
    else if (args[i] == "--seconds" && i + 1 < args.size()) {
      seconds = std::atoi(args[i + 1].c_str());
      bench_seconds = std::atof(args[++i].c_str());
    } else if (args[i] == "--depth" && i + 1 < args.size()) depth = std::atoi(args[++i].c_str());
    else positional.push_back(args[i]);
  }
  if (mode == "check") return check(positional);
  if (mode == "failover" && positional.size() == 1)
    return failover(positional[0], signal_after, signal_cmd, seconds);
  if (mode == "bench" && positional.size() == 1) return bench(positional[0], bench_seconds, depth);
  fmt::print(stderr, "kernel_provider_vmtest: bad arguments for '{}'\n", mode);
  return 2;
}

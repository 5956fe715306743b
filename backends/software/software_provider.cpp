#include "backends/software/software_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

#include "backends/software/sector_cipher.h"
#include "backends/software/worker_pool.h"

namespace ublkcrypt {

namespace {

// Runs at least this long are cut across workers. Below it the handoff to a second
// worker costs about what it saves, and a lone small run stays on one worker whole.
constexpr size_t kSplitBytes = 64 * 1024;

constexpr size_t kMaxSlice = WorkerPool::kMaxSlice;

// The slices of one request cut across workers; the last slice to finish completes it.
struct SplitRun {
  std::atomic<uint32_t> pending{0};
  std::atomic<bool> failed{false};
  Status error;  // written by the first failing slice only
};

// A session's keyed state, one SectorCipher per worker. Reference counted by the queued
// tasks, so a ProviderSession may be dropped while its last tasks still run.
class SessionCore final : public SectorWork {
 public:
  SessionCore(const CipherSpec& spec, ProviderCounters* counters)
      : spec_(spec), counters_(counters) {}

  const CipherSpec& spec() const { return spec_; }
  std::vector<std::unique_ptr<SectorCipher>>& ciphers() { return ciphers_; }

  // How many bytes of a run one thread's cipher turns within `budget`: the best of three
  // timed passes over a 16 KiB scratch run (the first also warms it). Uses the first
  // lane's cipher, so only before the session's first task.
  uint64_t bytes_within(std::chrono::nanoseconds budget) {
    constexpr uint32_t kProbeBytes = 16 * 1024;
    std::vector<uint8_t> scratch(kProbeBytes);
    const SectorRun probe{Direction::encrypt, scratch.data(), scratch.data(), 0,
                          kProbeBytes / spec_.sector_size};
    const SectorSlice slice{&probe, 0, probe.sector_count};
    Status result;
    auto best = std::chrono::nanoseconds::max();
    for (int pass = 0; pass < 3; ++pass) {
      const auto start = std::chrono::steady_clock::now();
      ciphers_[0]->crypt(std::span(&slice, 1), &result);
      best = std::min(best, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start));
    }
    if (!result.ok()) return 0;
    if (best.count() <= 0) return UINT64_MAX;
    return static_cast<uint64_t>(double(kProbeBytes) * double(budget.count()) / double(best.count()));
  }

  void hold(uint64_t n) { refs_.fetch_add(n, std::memory_order_relaxed); }
  void release(uint64_t n = 1) {
    if (refs_.fetch_sub(n, std::memory_order_acq_rel) == n) delete this;
  }

  // Runs a worker's tasks a slice at a time: every cipher pass first, then the counters
  // once, then the callbacks, then the references the tasks held (which may free this
  // core: last).
  void run(std::span<const SectorTask> tasks, unsigned worker) override {
    // The pool hands at most kMaxSlice tasks; a longer span still works, slice by slice
    // (the references of the later slices keep this core alive meanwhile).
    for (; tasks.size() > kMaxSlice; tasks = tasks.subspan(kMaxSlice))
      run_slice(tasks.first(kMaxSlice), worker);
    run_slice(tasks, worker);
  }

  // Completes a request on the submitter's thread (refused, or nothing to do).
  void complete(CryptoRequest* request, ProviderCallback* callback, Status status) {
    const bool ok = status.ok();
    account(1, ok ? payload_of(*request) : 0, ok ? 0 : 1);
    callback->provider_done(request, std::move(status));
  }

 private:
  ~SessionCore() = default;

  void run_slice(std::span<const SectorTask> tasks, unsigned worker) {
    // Finished requests in order; a failed one's Status waits in `failures` (rare), so
    // the common slice builds no Status at all.
    struct Done {
      CryptoRequest* request;
      ProviderCallback* callback;
      bool ok;
    };
    std::array<Done, kMaxSlice> done;
    std::vector<Status> failures;
    size_t finished = 0;
    uint64_t payload = 0;
    // One cipher pass over the whole slice: it may interleave sectors of different tasks
    // (CBC encryption's only parallelism when requests are single 4 KiB sectors).
    std::array<SectorSlice, kMaxSlice> slices;
    std::array<Status, kMaxSlice> results;
    for (size_t i = 0; i < tasks.size(); ++i)
      slices[i] = SectorSlice{&tasks[i].request->run, tasks[i].skip, tasks[i].count};
    ciphers_[worker]->crypt(std::span(slices.data(), tasks.size()), results.data());
    for (size_t i = 0; i < tasks.size(); ++i) {
      const SectorTask& task = tasks[i];
      Status status = std::move(results[i]);
      if (auto* split = static_cast<SplitRun*>(task.split)) {
        if (!status.ok() && !split->failed.exchange(true)) split->error = status;
        if (split->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        if (split->failed.load()) status = split->error;
        delete split;
      }
      const bool ok = status.ok();
      if (ok)
        payload += payload_of(*task.request);
      else
        failures.push_back(std::move(status));
      done[finished++] = Done{task.request, task.callback, ok};
    }
    account(finished, payload, failures.size());
    auto failure = failures.begin();
    for (size_t i = 0; i < finished; ++i)
      done[i].callback->provider_done(done[i].request,
                                      done[i].ok ? Status::Ok() : std::move(*failure++));
    release(tasks.size());
  }

  uint64_t payload_of(const CryptoRequest& request) const {
    return uint64_t{request.run.sector_count} * spec_.sector_size;
  }

  void account(uint64_t requests, uint64_t payload, uint64_t errors) {
    if (requests != 0) counters_->requests.fetch_add(requests, std::memory_order_relaxed);
    if (payload != 0) counters_->payload_bytes.fetch_add(payload, std::memory_order_relaxed);
    if (errors != 0) counters_->errors.fetch_add(errors, std::memory_order_relaxed);
  }

  CipherSpec spec_;
  ProviderCounters* counters_;
  std::vector<std::unique_ptr<SectorCipher>> ciphers_;
  std::atomic<uint64_t> refs_{1};  // the ProviderSession's own reference
};

// A request the provider refuses before any work: same message anywhere, so no failover.
Status check_run(const SectorRun& run, uint32_t sector_size) {
  if (run.sector_count == 0 || run.src == nullptr || run.dst == nullptr)
    return Status(Errc::invalid_argument,
                  fmt::format("sector run at {}: empty or without buffers", run.first_sector));
  const size_t bytes = size_t{run.sector_count} * sector_size;
  const bool overlap = run.src != run.dst && run.src < run.dst + bytes && run.dst < run.src + bytes;
  if (overlap)
    return Status(Errc::invalid_argument,
                  fmt::format("sector run at {}: source and destination overlap partly",
                              run.first_sector));
  return Status::Ok();
}

class SoftwareSession final : public ProviderSession {
 public:
  SoftwareSession(SessionCore* core, WorkerPool* pool, std::chrono::nanoseconds inline_budget)
      : core_(core), pool_(pool), inline_budget_(inline_budget) {}
  ~SoftwareSession() override { core_->release(); }

  void submit(std::span<CryptoRequest* const> requests, ProviderCallback* callback) override {
    // One pool slice's worth: posted together, and small, since it is built per submit.
    std::array<SectorTask, kMaxSlice> tasks;
    size_t queued = 0;
    auto flush = [&] {
      core_->hold(queued);
      pool_->post(std::span(tasks.data(), queued));
      queued = 0;
    };
    // Runs small enough to do here (set_inline_run_bytes), done after the rest is posted,
    // so the workers start on those first; in a helper slot, else posted after all.
    std::array<SectorTask, kMaxSlice> here;
    size_t kept = 0;
    auto run_kept = [&] {
      core_->hold(kept);
      if (!pool_->run_here(std::span(here.data(), kept))) pool_->post(std::span(here.data(), kept));
      kept = 0;
    };
    const uint64_t inline_bytes = inline_run_bytes_.load(std::memory_order_relaxed);
    const uint32_t sector_size = core_->spec().sector_size;
    const unsigned workers = pool_->parallelism();
    for (CryptoRequest* request : requests) {
      const SectorRun& run = request->run;
      if (Status s = check_run(run, sector_size); !s.ok()) {
        core_->complete(request, callback, std::move(s));
        continue;
      }
      // cipher_null in place has nothing to do: handing a small run to a worker (a wakeup,
      // and a wakeup back) would be the whole cost of the request, so it is done here, on
      // the caller's thread, which the interface allows. Large runs keep the worker path
      // (same bound as the split): only small runs were measured to gain
      // (tests/vm/bench-datapath.sh).
      if (core_->spec().mode == CipherMode::null && run.src == run.dst &&
          size_t{run.sector_count} * sector_size < kSplitBytes) {
        core_->complete(request, callback, Status::Ok());
        continue;
      }
      if (size_t{run.sector_count} * sector_size <= inline_bytes) {
        if (kept == here.size()) run_kept();
        here[kept++] = SectorTask{core_, request, callback, nullptr, 0, run.sector_count};
        continue;
      }
      const uint32_t pieces =
          size_t{run.sector_count} * sector_size >= kSplitBytes
              ? std::min({workers, run.sector_count, static_cast<uint32_t>(kMaxSlice)})
              : 1;
      if (queued + pieces > tasks.size()) flush();
      if (pieces == 1) {
        tasks[queued++] = SectorTask{core_, request, callback, nullptr, 0, run.sector_count};
        continue;
      }
      auto* split = new SplitRun;
      split->pending.store(pieces, std::memory_order_relaxed);
      uint32_t skip = 0;
      for (uint32_t p = 0; p < pieces; ++p) {
        // Spread the remainder one sector each over the first slices.
        uint32_t count = run.sector_count / pieces + (p < run.sector_count % pieces ? 1 : 0);
        tasks[queued++] = SectorTask{core_, request, callback, split, skip, count};
        skip += count;
      }
    }
    if (queued > 0) flush();
    if (kept > 0) run_kept();
  }

  bool help() override { return pool_->help(); }

  void set_inline_run_bytes(uint32_t bytes) override {
    // Never a run the pool would cut across workers: that one gains from the other cores.
    uint64_t inline_bytes = std::min<uint64_t>(bytes, kSplitBytes - 1);
    // Nor one whose cipher costs more than the handoff it saves: where AES is slow (no AES
    // instructions, or emulated), a queue thread running it would serialize every small
    // request's cipher on itself while the workers' cores idle. cipher_null copies at most.
    if (inline_bytes > 0 && core_->spec().mode != CipherMode::null)
      inline_bytes = std::min(inline_bytes, core_->bytes_within(inline_budget_));
    inline_run_bytes_.store(inline_bytes, std::memory_order_relaxed);
  }

 private:
  SessionCore* core_;
  WorkerPool* pool_;
  std::chrono::nanoseconds inline_budget_;
  std::atomic<uint64_t> inline_run_bytes_{0};
};

class SoftwareProvider final : public Provider {
 public:
  SoftwareProvider(unsigned threads, unsigned helper_slots, std::chrono::nanoseconds inline_budget)
      : inline_budget_(inline_budget), pool_(threads, helper_slots) {
    info_.name = "software";
    info_.description = fmt::format("AES by {}, {} worker thread{} and the submitting thread",
                                    aes_implementation_name(default_aes_implementation()),
                                    pool_.workers(), pool_.workers() == 1 ? "" : "s");
    info_.placement = Placement::host_cpu;
    info_.asynchronous = true;
    info_.priority = 100;
  }

  const ProviderInfo& info() const override { return info_; }

  Status supports(const CipherSpec& spec, std::string_view variant) const override {
    if (!variant.empty())
      return Status(Errc::unsupported,
                    fmt::format("software: no variant {} (it takes none)", variant));
    if (spec.mode == CipherMode::generic)
      return Status(Errc::unsupported,
                    fmt::format("software: {} is for the kernel crypto API (software runs "
                                "aes-xts-plain64, aes-cbc-essiv:sha256 and cipher_null)",
                                spec.name()));
    const uint32_t k = spec.key_bytes;
    const bool key_ok = spec.mode == CipherMode::aes_xts_plain64        ? k == 32 || k == 64
                        : spec.mode == CipherMode::aes_cbc_essiv_sha256 ? k == 16 || k == 24 || k == 32
                                                                        : k == 0;
    if (!key_ok)
      return Status(Errc::unsupported,
                    fmt::format("software: {} with a {}-bit key unsupported", spec.name(), k * 8));
    const uint32_t s = spec.sector_size;
    if (s < 512 || s > 4096 || (s & (s - 1)) != 0)
      return Status(Errc::unsupported,
                    fmt::format("software: sector size {} unsupported", s));
    return Status::Ok();
  }

  Status open_session(const CipherSpec& spec, std::span<const uint8_t> key,
                      std::string_view variant,
                      std::unique_ptr<ProviderSession>* out) override {
    if (Status s = supports(spec, variant); !s.ok()) return s;
    auto* core = new SessionCore(spec, &counters());
    for (unsigned i = 0; i < pool_.lanes(); ++i) {
      std::unique_ptr<SectorCipher> cipher;
      if (Status s = SectorCipher::make(spec, key, &cipher); !s.ok()) {
        core->release();
        return s;
      }
      core->ciphers().push_back(std::move(cipher));
    }
    *out = std::make_unique<SoftwareSession>(core, &pool_, inline_budget_);
    return Status::Ok();
  }

 private:
  ProviderInfo info_;
  std::chrono::nanoseconds inline_budget_;
  WorkerPool pool_;  // last: its workers stop before the rest is torn down
};

}  // namespace

std::unique_ptr<Provider> make_software_provider(unsigned threads,
                                                std::chrono::nanoseconds inline_budget) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (threads == 0) threads = cores;
  // Every queue thread, and a benchmark's submitter, may help at once.
  return std::make_unique<SoftwareProvider>(threads, std::max(4u, cores), inline_budget);
}

}  // namespace ublkcrypt

#include "bench/provider_load.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "backends/cipher_spec.h"
#include "backends/helping_wait.h"
#include "backends/registry.h"
#include "bench/median.h"
#include "bench/page_buffer.h"
#include "bench/progress.h"
#include "bench/scratch_volume.h"

namespace ublkcrypt {

namespace {

class ProviderLoad final : private ProviderCallback {
 public:
  // Allocates and fills the working set, before any clock starts. The options have passed
  // check_crypto_options.
  ProviderLoad(ProviderSession& session, const CipherSpec& spec, const ProviderLoadOptions& o)
      : session_(session), o_(o), in_place_(o.in_place || spec.mode == CipherMode::null) {
    sectors_ = o.request_bytes / spec.sector_size;
    // Each slot owns `per_slot` bytes of the sources, at least one request's worth.
    const uint64_t per_slot = std::max<uint64_t>(
        o.request_bytes, o.working_set_bytes / o.depth / o.request_bytes * o.request_bytes);
    steps_ = per_slot / o.request_bytes;
    sources_ = PageBuffer(per_slot * o.depth, o.depth);
    if (!in_place_) targets_ = PageBuffer(uint64_t{o.request_bytes} * o.depth, 0);
    batches_ = std::vector<Batch>(o.depth / o.batch);
    slots_.resize(o.depth);
    for (unsigned i = 0; i < o.depth && sources_.data() != nullptr; ++i) {
      Slot& s = slots_[i];
      s.index = i;
      s.source = sources_.data() + i * per_slot;
      s.target = in_place_ || !targets_.data() ? nullptr : targets_.data() + i * o.request_bytes;
      s.batch = &batches_[i / o.batch];
      s.batch->requests.push_back(&s);
    }
  }

  // Submits the first batches; completions resubmit until `deadline` or the budget.
  Status start(BenchClock::time_point deadline) {
    if (sources_.data() == nullptr || (!in_place_ && targets_.data() == nullptr))
      return Status(Errc::no_memory, "provider load: working set");
    move_deadline(deadline);
    std::vector<Batch*> first;
    for (Batch& b : batches_)
      if (claim(b)) first.push_back(&b);
    {
      std::lock_guard lock(mutex_);
      outstanding_ = unsigned(first.size());
    }
    for (Batch* b : first) submit(*b);
    return Status::Ok();
  }

  // Helps the provider until `t`, or until nothing is in flight.
  void help_until(BenchClock::time_point t) {
    helping_wait([this] { return session_.help(); }, mutex_, idle_,
                 [&] { return outstanding_ == 0 || BenchClock::now() >= t; });
  }

  // Helps until nothing is in flight; the first failure.
  Status wait() {
    help_until(BenchClock::time_point::max());
    std::lock_guard lock(mutex_);
    return error_;
  }

  // Completions resubmit until `deadline` from now on. Moved when the warmup ends, so the
  // batches in flight then still count however long the warmup overran on a loaded host.
  void move_deadline(BenchClock::time_point deadline) {
    deadline_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
  }

  // Requests completed so far, counted a batch at a time (one shared atomic per request
  // would be the load's overhead, not the provider's, in a figure set beside openssl's).
  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }

 private:
  struct Batch;
  struct Slot : CryptoRequest {
    Batch* batch = nullptr;
    uint8_t* source = nullptr;  // its slice of the working set
    uint8_t* target = nullptr;  // where an out-of-place run writes
    uint64_t step = 0;
    unsigned index = 0;
  };
  struct Batch {
    std::vector<CryptoRequest*> requests;
    // Its own cache line: every worker counts into it.
    alignas(64) std::atomic<unsigned> done{0};
  };

  // Whether `b` goes (again), and if so its requests' next places: each slot's next request
  // of its slice, at sector numbers no other request of the run uses.
  bool claim(Batch& b) {
    if (failed_.load(std::memory_order_relaxed) ||
        BenchClock::now().time_since_epoch().count() >= deadline_.load(std::memory_order_relaxed))
      return false;
    if (o_.requests != 0 &&
        claimed_.fetch_add(1, std::memory_order_relaxed) >= o_.requests / o_.batch)
      return false;
    for (CryptoRequest* r : b.requests) {
      Slot& s = *static_cast<Slot*>(r);
      uint8_t* at = s.source + (s.step % steps_) * o_.request_bytes;
      s.run = SectorRun{o_.direction, at, s.target ? s.target : at,
                        (s.step * o_.depth + s.index) * sectors_, sectors_};
      ++s.step;
    }
    return true;
  }

  // A provider may complete a request inside submit, on this thread (cipher_null in place,
  // an inline device): the resubmission from that completion is deferred to the outer
  // submit's loop instead of recursing, which would grow the stack for the whole run.
  void submit(Batch& b) {
    thread_local const ProviderLoad* submitting = nullptr;
    thread_local std::vector<Batch*> deferred;
    if (submitting == this) {
      deferred.push_back(&b);
      return;
    }
    submitting = this;
    session_.submit(b.requests, this);
    while (!deferred.empty()) {
      Batch* next = deferred.back();
      deferred.pop_back();
      session_.submit(next->requests, this);
    }
    submitting = nullptr;
  }

  void provider_done(CryptoRequest* request, Status status) override {
    if (!status.ok()) {
      std::lock_guard lock(mutex_);
      if (error_.ok()) error_ = std::move(status);
      failed_.store(true);
    }
    Batch& b = *static_cast<Slot*>(request)->batch;
    if (b.done.fetch_add(1, std::memory_order_acq_rel) + 1 < b.requests.size()) return;
    b.done.store(0, std::memory_order_relaxed);
    completed_.fetch_add(b.requests.size(), std::memory_order_relaxed);
    if (claim(b)) return submit(b);
    std::lock_guard lock(mutex_);
    if (--outstanding_ == 0) idle_.notify_all();
  }

  ProviderSession& session_;
  const ProviderLoadOptions o_;
  const bool in_place_;
  uint32_t sectors_ = 0;
  uint64_t steps_ = 1;      // requests per slot's slice
  PageBuffer sources_, targets_;
  std::vector<Slot> slots_;
  std::vector<Batch> batches_;  // built in place: a Batch's atomic does not move
  std::atomic<BenchClock::rep> deadline_{0};  // read by every worker, moved after the warmup
  std::atomic<uint64_t> claimed_{0};  // batches
  std::atomic<uint64_t> completed_{0};
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::condition_variable idle_;
  unsigned outstanding_ = 0;  // batches in flight
  Status error_;
};

}  // namespace

CryptoLoadOptions with_null_cipher(CryptoLoadOptions c) {
  c.cipher = "cipher_null-ecb";
  c.key_bits = 0;
  return c;
}

CounterDelta CounterDelta::read(const ProviderCounters& c) {
  return {c.requests.load(),          c.payload_bytes.load(), c.bytes_to_device.load(),
          c.bytes_from_device.load(), c.copy_bytes.load(),    c.errors.load()};
}

CounterDelta CounterDelta::operator-(const CounterDelta& a) const {
  return {requests - a.requests,       payload_bytes - a.payload_bytes,
          bytes_to_device - a.bytes_to_device, bytes_from_device - a.bytes_from_device,
          copy_bytes - a.copy_bytes,   errors - a.errors};
}

Status check_crypto_options(const Provider& provider, const CryptoLoadOptions& o,
                            CipherSpec* spec) {
  CipherSpec parsed;
  if (spec == nullptr) spec = &parsed;
  if (Status s = CipherSpec::parse(o.cipher, o.key_bits, o.sector_size, spec); !s.ok())
    return s;
  if (o.request_bytes == 0 || o.request_bytes % o.sector_size != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("bench crypto: request size {} is not a positive multiple of the "
                              "{}-byte sector", o.request_bytes, o.sector_size));
  if (o.depth == 0 || o.depth > 4096)
    return Status(Errc::invalid_argument,
                  fmt::format("bench crypto: depth {} is outside 1..4096", o.depth));
  if (o.batch == 0 || o.depth % o.batch != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("bench crypto: depth {} is not a whole number of batches of {}",
                              o.depth, o.batch));
  if (!(o.seconds > 0) && o.requests == 0)
    return Status(Errc::invalid_argument, "bench crypto: duration of zero (give --runtime above 0)");
  if (Status s = provider.supports(*spec, o.variant); !s.ok())
    return Status(s.code(), fmt::format("bench crypto: provider {} cannot run {}: {}",
                                        provider.info().name, spec->name(), s.message()));
  return Status::Ok();
}

Status select_providers(const std::string& verb, const std::vector<std::string>& names,
                        const std::string& cipher,
                        const std::function<Status(const Provider&)>& check,
                        std::vector<Provider*>* providers, std::vector<std::string>* skipped) {
  providers->clear();
  skipped->clear();
  if (names.empty()) {
    for (Provider* p : builtin_registry().providers()) {
      Status s = check(*p);
      if (s.code() == Errc::invalid_argument) return s;
      if (s.ok()) providers->push_back(p);
      else skipped->push_back(s.message());
    }
  } else {
    for (const std::string& name : names) {
      Provider* p = builtin_registry().find(name);
      if (p == nullptr)
        return Status(Errc::not_found,
                      fmt::format("{}: provider {} is not present in this build", verb, name));
      if (Status s = check(*p); !s.ok()) return s;
      providers->push_back(p);
    }
  }
  if (providers->empty())
    return Status(Errc::unsupported, fmt::format("{}: no provider can run {}", verb, cipher));
  return Status::Ok();
}

Status run_crypto_load(Provider& provider, const CryptoLoadOptions& options, CryptoResult* out) {
  CipherSpec spec;
  if (Status s = check_crypto_options(provider, options, &spec); !s.ok()) return s;
  // A session of the provider alone (no registry, no failover) under a random key.
  SecureBytes key;
  std::unique_ptr<ProviderSession> session;
  Status opened = random_key(spec, &key);
  if (opened.ok()) opened = provider.open_session(spec, key.view(), options.variant, &session);
  if (!opened.ok()) return opened.in("bench crypto: " + provider.info().name);
  ProviderLoad load(*session, spec, options);  // its working set filled before the clock
  Stopwatch clock;
  CounterDelta before = CounterDelta::read(provider.counters());
  auto run_end = [&] {
    return options.seconds > 0 ? deadline_after(options.seconds) : BenchClock::time_point::max();
  };
  Status s = load.start(options.warmup_seconds > 0 ? BenchClock::time_point::max() : run_end());
  uint64_t warm = 0;
  if (s.ok() && options.warmup_seconds > 0) {
    load.help_until(deadline_after(options.warmup_seconds));
    warm = load.completed();
    before = CounterDelta::read(provider.counters());
    clock = Stopwatch();
    load.move_deadline(run_end());
  }
  if (s.ok()) s = load.wait();
  if (!s.ok()) return s.in("bench crypto: " + provider.info().name);
  out->seconds = clock.wall_seconds();
  out->cpu_seconds = clock.cpu_seconds();
  out->requests = load.completed() - warm;
  out->bytes = out->requests * options.request_bytes;
  out->counters = CounterDelta::read(provider.counters()) - before;
  return Status::Ok();
}

Status run_crypto_sweep(const CryptoSweepOptions& o, CryptoSweepReport* out) {
  if (o.request_sizes.empty() || o.depths.empty())
    return Status(Errc::invalid_argument, "bench crypto: empty --sizes or --depths");
  // "dpdk:crypto_openssl", "kernel:DRIVER": the provider, and the variant its sessions get.
  std::vector<std::string> names;
  std::map<std::string, std::string, std::less<>> variants;
  for (const std::string& given : o.providers) {
    auto [name, variant] = split_backend(given);
    names.emplace_back(name);
    variants[std::string(name)] = std::string(variant);
  }
  auto variant_of = [&](const Provider& p) {
    auto it = variants.find(p.info().name);
    return it == variants.end() ? std::string() : it->second;
  };
  auto cell = [&](const Provider& p, uint32_t size, unsigned depth) {
    CryptoLoadOptions c = o.load;
    c.variant = variant_of(p);
    c.request_bytes = size;
    c.depth = depth;
    return c;
  };
  auto check_all = [&](const Provider& p) {
    for (uint32_t size : o.request_sizes)
      for (unsigned depth : o.depths)
        if (Status s = check_crypto_options(p, cell(p, size, depth)); !s.ok()) return s;
    return Status::Ok();
  };
  std::vector<Provider*> providers;
  if (Status s = select_providers("bench crypto", names, o.load.cipher, check_all, &providers,
                                  &out->skipped);
      !s.ok())
    return s;
  out->options = o;
  out->rows.clear();
  std::vector<Provider*> row_providers;
  for (Provider* p : providers) {
    const std::string variant = variant_of(*p);
    const std::string label =
        variant.empty() ? p->info().name : fmt::format("{}:{}", p->info().name, variant);
    for (unsigned depth : o.depths)
      for (uint32_t size : o.request_sizes) {
        out->rows.emplace_back(label, p->info().placement, size, depth);
        row_providers.push_back(p);
      }
  }
  const unsigned rounds = std::max(1u, o.rounds);
  std::vector<std::vector<CryptoResult>> results(out->rows.size());
  for (unsigned round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < out->rows.size(); ++i) {
      CryptoSweepRow& row = out->rows[i];
      show_phase(fmt::format("{}: {} B x {} in flight{}", row.provider, row.request_bytes, row.depth,
                             rounds == 1 ? "" : fmt::format(", round {} of {}", round + 1, rounds)),
                 o.load.seconds);
      CryptoResult& result = results[i].emplace_back();
      if (Status s = run_crypto_load(*row_providers[i], cell(*row_providers[i], row.request_bytes, row.depth),
                                     &result);
          !s.ok())
        return s;
      row.round_mbs.push_back(result.mbs());
    }
  }
  for (size_t i = 0; i < out->rows.size(); ++i)
    out->rows[i].result =
        results[i][median_index(results[i], [](const CryptoResult& r) { return r.mbs(); })];
  return Status::Ok();
}

}  // namespace ublkcrypt

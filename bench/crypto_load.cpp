#include "bench/crypto_load.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "backends/cipher_spec.h"
#include "backends/helping_wait.h"
#include "backends/registry.h"
#include "base/secure_bytes.h"
#include "bench/cpu_clock.h"

namespace ublkcrypt {

CounterDelta CounterDelta::read(const ProviderCounters& c) {
  CounterDelta d;
  d.requests = c.requests.load();
  d.payload_bytes = c.payload_bytes.load();
  d.bytes_to_device = c.bytes_to_device.load();
  d.bytes_from_device = c.bytes_from_device.load();
  d.copy_bytes = c.copy_bytes.load();
  d.errors = c.errors.load();
  return d;
}

CounterDelta CounterDelta::between(const CounterDelta& a, const CounterDelta& b) {
  return {b.requests - a.requests,           b.payload_bytes - a.payload_bytes,
          b.bytes_to_device - a.bytes_to_device, b.bytes_from_device - a.bytes_from_device,
          b.copy_bytes - a.copy_bytes,       b.errors - a.errors};
}

double CryptoResult::mbs() const { return mb_per_second(bytes, seconds); }

namespace {

Status parse_spec(const CryptoLoadOptions& o, CipherSpec* spec) {
  if (Status s = CipherSpec::parse(o.cipher, o.key_bits, o.sector_size, spec); !s.ok())
    return s;
  if (o.request_bytes == 0 || o.request_bytes % o.sector_size != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("bench crypto: request size {} is not a positive multiple of the "
                              "{}-byte sector",
                              o.request_bytes, o.sector_size));
  if (o.depth == 0 || o.depth > 4096)
    return Status(Errc::invalid_argument,
                  fmt::format("bench crypto: depth {} is outside 1..4096", o.depth));
  if (!(o.seconds > 0))
    return Status(Errc::invalid_argument, "bench crypto: duration of zero (give --runtime above 0)");
  return Status::Ok();
}

class Load final : private ProviderCallback {
 public:
  Load(ProviderSession& session, const CipherSpec& spec, const CryptoLoadOptions& o,
       const std::atomic<bool>* stop)
      : session_(session), o_(o), stop_(stop), out_of_place_(spec.mode != CipherMode::null) {
    sectors_ = o.request_bytes / spec.sector_size;
    // Each slot owns `per_slot` bytes of the arena, at least one request's worth.
    const uint64_t per_slot =
        std::max<uint64_t>(o.request_bytes, o.working_set_bytes / o.depth / o.request_bytes *
                                                o.request_bytes);
    steps_ = per_slot / o.request_bytes;
    const uint64_t arena_bytes = per_slot * o.depth;
    arena_ = static_cast<uint8_t*>(std::aligned_alloc(4096, arena_bytes));
    if (arena_ != nullptr) {
      // Every page written before the clock starts. Untouched, the cipher's in-place pass
      // faulted each page in inside the measurement (the read maps the shared zero page,
      // the write copies it and flushes the other CPUs' TLBs), and at TCG speed a phase
      // never got past its fresh pages: in the VM the software provider alone measured
      // 1-17 MB/s (ESSIV, 128 KiB, QD16) while the encrypted engine phase, over buffers
      // it reuses, ran the same cipher at 43-54 MB/s; written first, 56-107 MB/s.
      const uint64_t seed_bytes = std::min<uint64_t>(arena_bytes, 1 << 20);
      RAND_bytes(arena_, int(seed_bytes));
      for (uint64_t at = seed_bytes; at < arena_bytes; at += seed_bytes)
        std::memcpy(arena_ + at, arena_, std::min(seed_bytes, arena_bytes - at));
    }
    // Out of place into a buffer per slot, as the engine encrypts into its bounce buffers
    // (cipher_null in place, as there too).
    if (out_of_place_) {
      targets_ = static_cast<uint8_t*>(std::aligned_alloc(4096, o.request_bytes * o.depth));
      if (targets_ != nullptr) std::memset(targets_, 0, o.request_bytes * o.depth);
    }
    slots_.resize(o.depth);
    for (unsigned i = 0; i < o.depth; ++i) {
      slots_[i].base = arena_ == nullptr ? nullptr : arena_ + i * per_slot;
      slots_[i].target = targets_ == nullptr ? nullptr : targets_ + i * o.request_bytes;
      slots_[i].index = i;
    }
  }
  ~Load() {
    std::free(arena_);
    std::free(targets_);
  }

  Status run(BenchClock::time_point deadline) {
    deadline_ = deadline;
    if (arena_ == nullptr || (targets_ == nullptr && out_of_place_))
      return Status(Errc::no_memory, "bench crypto: working set");
    std::vector<CryptoRequest*> first;
    for (Slot& s : slots_) {
      prepare(s);
      first.push_back(&s.request);
    }
    outstanding_ = first.size();
    submit(first);
    helping_wait([this] { return session_.help(); }, mutex_, idle_,
                 [this] { return outstanding_ == 0; });
    return error_;
  }

  uint64_t completed() const { return completed_.load(); }

 private:
  struct Slot {
    CryptoRequest request;
    uint8_t* base = nullptr;
    uint8_t* target = nullptr;  // out of place: where the cipher writes
    uint64_t step = 0;
    unsigned index = 0;
  };

  // A provider may complete a request inside submit, on this thread (cipher_null in place,
  // an inline device): the resubmission from that completion is deferred to the outer
  // submit's loop instead of recursing, which would grow the stack for the whole run.
  void submit(std::span<CryptoRequest* const> requests) {
    thread_local const Load* submitting = nullptr;
    thread_local std::vector<CryptoRequest*> deferred;
    if (submitting == this) {
      deferred.insert(deferred.end(), requests.begin(), requests.end());
      return;
    }
    submitting = this;
    session_.submit(requests, this);
    while (!deferred.empty()) {
      std::vector<CryptoRequest*> batch;
      batch.swap(deferred);
      session_.submit(batch, this);
    }
    submitting = nullptr;
  }

  void prepare(Slot& s) {
    uint8_t* at = s.base + (s.step % steps_) * o_.request_bytes;
    // Sector numbers distinct per slot and step.
    s.request.run = SectorRun{o_.direction, at, s.target != nullptr ? s.target : at,
                              (s.step * o_.depth + s.index) * sectors_, sectors_};
    ++s.step;
  }

  void provider_done(CryptoRequest* request, Status status) override {
    Slot& s = *reinterpret_cast<Slot*>(request);  // request is the first member
    bool again = status.ok() && BenchClock::now() < deadline_ &&
                 !(stop_ && stop_->load(std::memory_order_relaxed));
    if (status.ok()) completed_.fetch_add(1, std::memory_order_relaxed);
    if (again) {
      prepare(s);
      CryptoRequest* one[] = {&s.request};
      submit(one);
      return;
    }
    std::lock_guard lock(mutex_);
    if (!status.ok() && error_.ok()) error_ = std::move(status);
    if (--outstanding_ == 0) idle_.notify_all();
  }

  ProviderSession& session_;
  const CryptoLoadOptions& o_;
  BenchClock::time_point deadline_;
  const std::atomic<bool>* stop_;
  const bool out_of_place_;
  uint32_t sectors_ = 0;
  uint64_t steps_ = 1;
  uint8_t* arena_ = nullptr;
  uint8_t* targets_ = nullptr;
  std::vector<Slot> slots_;
  std::atomic<uint64_t> completed_{0};
  std::mutex mutex_;
  std::condition_variable idle_;
  size_t outstanding_ = 0;
  Status error_;
};

}  // namespace

Status check_crypto_options(const Provider& provider, const CryptoLoadOptions& options) {
  CipherSpec spec;
  if (Status s = parse_spec(options, &spec); !s.ok()) return s;
  if (Status s = provider.supports(spec, ""); !s.ok())
    return Status(s.code(), fmt::format("bench crypto: provider {} cannot run {}: {}",
                                        provider.info().name, spec.name(), s.message()));
  return Status::Ok();
}

Status select_providers(const std::string& verb, const std::vector<std::string>& names,
                        const std::string& cipher,
                        const std::function<Status(const Provider&)>& check,
                        std::vector<Provider*>* providers, std::vector<std::string>* skipped) {
  providers->clear();
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

Status run_crypto_load(Provider& provider, const CryptoLoadOptions& options,
                       const std::atomic<bool>* stop, CryptoResult* out) {
  if (Status s = check_crypto_options(provider, options); !s.ok()) return s;
  CipherSpec spec;
  (void)parse_spec(options, &spec);
  SecureBytes key;
  if (Status s = SecureBytes::allocate(spec.key_bytes, &key); !s.ok()) return s;
  if (spec.key_bytes > 0 && RAND_bytes(key.data(), int(key.size())) != 1)
    return Status(Errc::unsupported, "bench crypto: no random bytes for a test key");
  std::unique_ptr<ProviderSession> session;
  if (Status s = provider.open_session(spec, key.view(), "", &session); !s.ok())
    return s.in("bench crypto: " + provider.info().name);
  key.reset();

  Load load(*session, spec, options, stop);  // its working set resident before the clock
  const CounterDelta before = CounterDelta::read(provider.counters());
  const Stopwatch clock;
  if (Status s = load.run(deadline_after(options.seconds)); !s.ok())
    return s.in("bench crypto: " + provider.info().name);
  out->seconds = clock.wall_seconds();
  out->cpu_seconds = clock.cpu_seconds();
  out->requests = load.completed();
  out->bytes = out->requests * options.request_bytes;
  out->counters = CounterDelta::between(before, CounterDelta::read(provider.counters()));
  return Status::Ok();
}

}  // namespace ublkcrypt

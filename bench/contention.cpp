#include "bench/contention.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <thread>

#include "backends/registry.h"
#include "base/secure_bytes.h"
#include "bench/io_port.h"
#include "bench/target_guard.h"

namespace ublkcrypt {

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

Status open_engine(const std::string& target, Provider& provider, const CryptoLoadOptions& c,
                   std::unique_ptr<Engine>* out) {
  CipherSpec spec;
  if (Status s = CipherSpec::parse(c.cipher, c.key_bits, c.sector_size, &spec); !s.ok())
    return s;
  SecureBytes key;
  if (Status s = SecureBytes::allocate(spec.key_bytes, &key); !s.ok()) return s;
  if (spec.key_bytes > 0 && RAND_bytes(key.data(), int(key.size())) != 1)
    return Status(Errc::unsupported, "bench: no random bytes for a test key");
  std::unique_ptr<Storage> storage;
  if (Status s = open_file_storage(target, {}, &storage); !s.ok()) return s;
  SessionOptions options;
  options.backend = provider.info().name;
  options.failover = false;  // measuring this provider, not whichever is left
  std::unique_ptr<Session> session;
  if (Status s = builtin_registry().open_session(spec, key.view(), options, &session); !s.ok())
    return s;
  return Engine::create({}, std::move(storage), std::move(session), out);
}

Status run_cell(const ContentionOptions& o, const std::string& target, Provider& provider,
                const MemoryBandwidth& memory, unsigned cpus, ProgressDisplay& progress,
                ContentionCell* cell) {
  cell->target = target;
  cell->provider = provider.info().name;
  cell->placement = provider.info().placement;
  Workload w = o.storage;
  w.runtime_seconds = o.phase_seconds;
  CryptoLoadOptions c = o.crypto;
  c.seconds = o.phase_seconds;
  c.request_bytes = w.block_bytes;
  const std::string where = fmt::format("{} / {}", target, cell->provider);

  std::unique_ptr<Storage> storage;
  FileStorageOptions storage_options;
  storage_options.read_only = !w.writes();
  if (Status s = open_file_storage(target, storage_options, &storage); !s.ok()) return s;
  const uint64_t region = workload_region(w, storage->info().size_bytes);
  const PortFactory raw = storage_ports(*storage);

  progress.phase(where + ": storage alone", o.phase_seconds);
  if (Status s = run_workload(raw, w, region, nullptr, &cell->storage_alone); !s.ok()) return s;

  progress.phase(where + ": crypto alone", o.phase_seconds);
  if (Status s = run_crypto_load(provider, c, nullptr, &cell->crypto_alone); !s.ok()) return s;

  progress.phase(where + ": storage + crypto together", o.phase_seconds);
  Status crypto_status;
  std::thread crypto([&] {
    crypto_status = run_crypto_load(provider, c, nullptr, &cell->crypto_together);
  });
  Status storage_status = run_workload(raw, w, region, nullptr, &cell->storage_together);
  crypto.join();
  if (!storage_status.ok()) return storage_status;
  if (!crypto_status.ok()) return crypto_status;
  storage.reset();

  progress.phase(where + ": encrypted (engine)", o.phase_seconds);
  {
    std::unique_ptr<Engine> engine;
    if (Status s = open_engine(target, provider, o.crypto, &engine); !s.ok())
      return s.in("bench " + target);
    const CounterDelta before = CounterDelta::read(provider.counters());
    if (Status s = run_workload(engine_ports(*engine), w, region, nullptr, &cell->encrypted);
        !s.ok())
      return s;
    cell->encrypted_counters =
        CounterDelta::between(before, CounterDelta::read(provider.counters()));
  }

  cell->figures = figures_from(cell->storage_alone, cell->crypto_alone, memory, cpus);
  cell->prediction = predict_placement(cell->placement, cell->figures);
  return Status::Ok();
}

}  // namespace

double ContentionCell::storage_ratio() const {
  return ratio(storage_together.mbs(), storage_alone.mbs());
}
double ContentionCell::crypto_ratio() const {
  return ratio(crypto_together.mbs(), crypto_alone.mbs());
}
double ContentionCell::encrypted_ratio() const {
  return ratio(encrypted.mbs(), storage_alone.mbs());
}
double ContentionCell::model_ratio() const {
  return ratio(encrypted.mbs(), prediction.ceiling_mbs);
}
double ContentionCell::copies_per_byte() const {
  return ratio(double(encrypted_counters.copy_bytes), double(encrypted_counters.payload_bytes));
}
double ContentionCell::bus_per_byte() const {
  return ratio(double(encrypted_counters.bytes_to_device + encrypted_counters.bytes_from_device),
               double(encrypted_counters.payload_bytes));
}
double ContentionCell::storage_dma_per_byte() const {
  // The engine writes (or reads) exactly the user's bytes, as ciphertext, to the backing.
  return encrypted.bytes() ? 1.0 : 0.0;
}
double ContentionCell::memory_per_byte() const {
  for (const ResourceLimit& l : prediction.limits)
    if (l.resource == "memory") return l.per_user_byte;
  return 0;
}

MachineFigures figures_from(const WorkloadResult& storage_alone, const CryptoResult& crypto_alone,
                            const MemoryBandwidth& memory, unsigned cpus) {
  MachineFigures m;
  // The cores this process actually got while the cipher ran alone: on a shared machine
  // fewer than it has, and the cipher's figure is per core it got.
  m.cores = std::min<double>(cpus, crypto_alone.cores());
  if (m.cores <= 0) m.cores = cpus;
  m.cipher_mbs_per_core = crypto_alone.mbs() / m.cores;
  m.memory_mbs = memory.traffic_mbs();
  m.storage_mbs = storage_alone.mbs();
  m.storage_core_s_per_mb =
      storage_alone.bytes() ? storage_alone.cpu_seconds / (double(storage_alone.bytes()) / 1e6) : 0;
  return m;
}

Status check_contention(const ContentionOptions& o, std::vector<Provider*>* providers,
                        std::vector<std::string>* skipped) {
  if (!(o.phase_seconds > 0))
    return Status(Errc::invalid_argument,
                  "bench contention: duration of zero (give --runtime above 0 per phase)");
  if (o.targets.empty())
    return Status(Errc::invalid_argument, "bench contention: no target (give --target PATH)");
  Workload w = o.storage;
  w.runtime_seconds = o.phase_seconds;
  for (const std::string& t : o.targets) {
    StorageInfo info;
    if (Status s = check_target(t, w, o.force, o.crypto.sector_size, &info); !s.ok()) return s;
  }
  CryptoLoadOptions c = o.crypto;
  c.request_bytes = w.block_bytes;
  c.seconds = o.phase_seconds;
  providers->clear();
  if (o.providers.empty()) {
    for (Provider* p : builtin_registry().providers()) {
      if (Status s = check_crypto_options(*p, c); s.ok()) providers->push_back(p);
      else skipped->push_back(s.message());
    }
  } else {
    for (const std::string& name : o.providers) {
      Provider* p = builtin_registry().find(name);
      if (p == nullptr)
        return Status(Errc::not_found,
                      fmt::format("bench contention: provider {} is not present in this build",
                                  name));
      if (Status s = check_crypto_options(*p, c); !s.ok()) return s;
      providers->push_back(p);
    }
  }
  if (providers->empty())
    return Status(Errc::unsupported,
                  fmt::format("bench contention: no provider can run {}", c.cipher));
  return Status::Ok();
}

Status run_contention(const ContentionOptions& o, ProgressDisplay& progress,
                      ContentionReport* out) {
  std::vector<Provider*> providers;
  out->skipped.clear();
  if (Status s = check_contention(o, &providers, &out->skipped); !s.ok()) return s;
  out->options = o;
  out->options.storage.runtime_seconds = o.phase_seconds;  // what each phase ran
  out->cpus = std::max(1u, std::thread::hardware_concurrency());
  progress.phase("memory bandwidth (memcpy)", 0.6);
  if (Status s = measure_memory_bandwidth(0.3, 64ull << 20, &out->memory); !s.ok()) return s;
  out->cells.clear();
  for (const std::string& target : o.targets) {
    for (Provider* p : providers) {
      ContentionCell cell;
      if (Status s = run_cell(o, target, *p, out->memory, out->cpus, progress, &cell); !s.ok())
        return s;
      out->cells.push_back(std::move(cell));
    }
  }
  progress.done();
  return Status::Ok();
}

}  // namespace ublkcrypt

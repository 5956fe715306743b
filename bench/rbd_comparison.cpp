#include "bench/rbd_comparison.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "bench/median.h"
#include "bench/progress.h"
#include "bench/scratch_volume.h"
#include "bench/wire_bytes.h"
#include "engine/rbd_storage.h"

namespace ublkcrypt {

namespace {

// One row's door for one round: opened before it and closed after, so that only one
// librbd handle at a time holds the image's exclusive lock (handles that share an image
// pass the lock back and forth on every write).
struct RowTarget {
  std::unique_ptr<Storage> storage;  // the raw rows
  std::unique_ptr<Engine> engine;    // the ublkcrypt rows
  PortFactory ports() { return engine ? engine_ports(*engine) : storage_ports(*storage); }
};

using RowOpener = std::function<Status(RowTarget*)>;

}  // namespace

double RbdComparisonReport::null_vs_raw() const {
  const double raw = rows[librbd].result.mbs();
  return raw > 0 ? rows[ublkcrypt_null].result.mbs() / raw : 0;
}

double RbdComparisonReport::ublkcrypt_vs_librbd_luks() const {
  const double luks = rows[librbd_luks].result.mbs();
  return luks > 0 ? rows[ublkcrypt].result.mbs() / luks : 0;
}

std::vector<EncryptionPlacementCost> RbdComparisonReport::placements() const {
  const auto ns = [&](Row r) { return rows[r].result.cpu_ns_per_byte(); };
  // The cipher's own cost on this CPU: what a dm-crypt OSD of the same CPU spends per byte
  // of each replica it stores.
  const double cipher = cipher_ns_per_byte();
  // msgr2's secure mode on one hop, at one end; both ends pay it on every hop, and a write
  // crosses `replicas` hops (client to primary, primary to each other replica).
  const double secure_hop_end = std::max(0.0, ns(librbd_secure) - ns(librbd));
  const double copies = double(std::max(1u, replicas));
  return {
      {"client (ublkcrypt)", std::max(0.0, ns(ublkcrypt) - ns(librbd)), 0, true},
      {"storage hosts (dmcrypt OSDs), at rest", 0, copies * cipher, false},
      {"storage hosts (dmcrypt OSDs) + msgr2 secure", secure_hop_end,
       copies * cipher + (2 * copies - 1) * secure_hop_end, true},
  };
}

Status run_rbd_comparison(const RbdComparisonOptions& o, RbdComparisonReport* out) {
  if (!is_rbd_name(o.image) || !is_rbd_name(o.luks_image))
    return Status(Errc::invalid_argument,
                  fmt::format("bench rbd: --image {} and --luks-image {} must both be rbd:POOL/IMAGE",
                              o.image, o.luks_image));
  if (o.image == o.luks_image)
    return Status(Errc::invalid_argument,
                  "bench rbd: --image and --luks-image name the same image " + o.image +
                      " (the raw rows would write over librbd's header)");
  if (o.luks_passphrase.empty())
    return Status(Errc::invalid_argument, "bench rbd: no passphrase for " + o.luks_image + " (give --key-file)");
  if (!(o.runtime_seconds > 0) || o.rounds == 0 || o.rounds > 100)
    return Status(Errc::invalid_argument,
                  fmt::format("bench rbd: --runtime {} s over {} rounds: give more than 0 s and 1..100 rounds",
                              o.runtime_seconds, o.rounds));
  Workload w = o.workload;
  w.runtime_seconds = o.runtime_seconds / o.rounds;
  if (Status s = check_target(o.image, w, o.force, o.crypto.sector_size); !s.ok()) return s;

  // The LUKS image opens (its passphrase is right) and is large enough; the region is what
  // both images hold.
  std::unique_ptr<Storage> probe;
  Status s = open_rbd_storage(o.luks_image, {.librbd_luks_passphrase = o.luks_passphrase}, &probe);
  if (!s.ok()) return s.in("bench");
  const uint64_t luks_bytes = probe->info().size_bytes;
  probe.reset();
  if (s = open_rbd_storage(o.image, {}, &probe); !s.ok()) return s.in("bench");
  out->replicas = rbd_pool_replicas(*probe);
  const uint64_t image_bytes = probe->info().size_bytes;
  probe.reset();
  const uint64_t target_bytes = std::min(image_bytes, luks_bytes);
  if (s = validate_workload(w, o.luks_image, target_bytes, o.crypto.sector_size); !s.ok()) return s;
  const uint64_t region = workload_region(w, target_bytes);

  const auto raw = [](const std::string& image, RbdStorageOptions options) {
    return [=](RowTarget* t) { return open_rbd_storage(image, options, &t->storage); };
  };
  const auto engine = [](const std::string& image, CryptoLoadOptions c) {
    // "": the provider the registry picks for the cipher, as open does.
    return [=](RowTarget* t) { return open_scratch_engine(image, c, "", {}, &t->engine); };
  };
  const std::string cipher = o.crypto.cipher;
  struct RowPlan {
    std::string name, encrypts;
    RowOpener open;
  };
  const std::vector<RowPlan> plan = {
      {"librbd", "nothing", raw(o.image, {})},
      {"librbd, msgr2 secure", "the wire", raw(o.image, {.ceph_overrides = {{"ms_client_mode", "secure"}}})},
      {"ublkcrypt cipher_null", "nothing (datapath only)", engine(o.image, with_null_cipher(o.crypto))},
      {"ublkcrypt " + cipher, "client (ublkcrypt)", engine(o.image, o.crypto)},
      {"librbd LUKS", "client (librbd)", raw(o.luks_image, {.librbd_luks_passphrase = o.luks_passphrase})},
  };

  // A read workload reads what a write pass left on both images first: librbd reads the
  // holes of a fresh image without asking the OSD for them (sparse reads, the object map),
  // which the wire column shows as well under one byte per user byte.
  if (w.reads_percent() > 0) {
    const Workload fill{.rw = "write", .block_bytes = 1u << 20, .iodepth = 8, .iodepth_batch = 0,
                        .runtime_seconds = 0, .size_bytes = region};
    for (size_t i : {size_t{0}, plan.size() - 1}) {  // the raw image, the LUKS image
      show_phase("fill " + (i == 0 ? o.image : o.luks_image) + " (one untimed write pass)", 0);
      RowTarget target;
      WorkloadResult ignored;
      if (s = plan[i].open(&target); !s.ok()) return s.in("bench");
      if (s = run_workload(target.ports(), fill, region - region % fill.block_bytes, &ignored); !s.ok()) return s;
    }
  }

  std::vector<std::vector<WorkloadResult>> results(plan.size());
  std::vector<std::vector<int64_t>> wire(plan.size());
  for (unsigned round = 0; round < o.rounds; ++round) {
    // Odd rounds run the rows backwards: a drift over the run (the cluster warming, the
    // OSD's caches filling) then falls on every row alike.
    for (size_t k = 0; k < plan.size(); ++k) {
      const size_t i = round % 2 ? plan.size() - 1 - k : k;
      show_phase(fmt::format("round {}/{}: {}", round + 1, o.rounds, plan[i].name), w.runtime_seconds);
      RowTarget target;
      if (s = plan[i].open(&target); !s.ok()) return s.in("bench");
      const int64_t wire_before = wire_bytes();
      WorkloadResult& r = results[i].emplace_back();
      if (s = run_workload(target.ports(), w, region, &r); !s.ok()) return s;
      const int64_t wire_after = wire_bytes();
      wire[i].push_back(wire_before >= 0 && wire_after >= 0 ? wire_after - wire_before : -1);
    }
  }

  // The cipher alone, on the provider the ublkcrypt row ran, at the workload's request size
  // and depth.
  std::unique_ptr<Engine> scratch;
  if (s = open_scratch_engine(o.image, o.crypto, "", {}, &scratch); !s.ok()) return s.in("bench");
  Provider& provider = *scratch->session().provider();
  CryptoLoadOptions alone = o.crypto;
  alone.direction = w.writes() ? Direction::encrypt : Direction::decrypt;
  alone.request_bytes = w.block_bytes;
  alone.depth = w.iodepth;
  alone.seconds = std::min(1.0, w.runtime_seconds);
  show_phase("the cipher alone (" + provider.info().name + ")", alone.seconds);
  if (s = run_crypto_load(provider, alone, &out->cipher_alone); !s.ok()) return s;
  out->provider = provider.info().name;
  scratch.reset();
  clear_phase();

  out->options = o;
  out->options.workload = w;
  out->options.luks_passphrase = {};
  out->rows.clear();
  for (size_t i = 0; i < plan.size(); ++i) {
    RbdRow& row = out->rows.emplace_back();
    row.name = plan[i].name;
    row.encrypts = plan[i].encrypts;
    for (const WorkloadResult& r : results[i]) row.round_mbs.push_back(r.mbs());
    const size_t m = median_index(row.round_mbs, [](double mbs) { return mbs; });
    row.result = results[i][m];
    row.wire_bytes = wire[i][m];
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

// `bench rbd`: where should a Ceph RBD volume be encrypted? One workload, one cluster, one
// run, five rows in interleaved rounds (each figure is its row's median round):
//   librbd                 the raw image: the ceiling
//   librbd, msgr2 secure   the raw image with the wire encrypted (ms_client_mode=secure):
//                          what storage-side encryption pays to keep data private in flight
//   ublkcrypt cipher_null  the shipped engine on librbd, no cipher: the datapath's own cost
//   ublkcrypt CIPHER       the shipped engine on librbd, encrypting on this host
//   librbd LUKS            librbd's own client-side encryption (`rbd encryption format`) on
//                          a second image in the same pool
// Each row reports throughput, latency, this process's CPU per byte and the bytes the
// machine's interfaces carried per user byte; the cipher's own cost comes from the
// ublkcrypt row's provider alone, measured after the rounds. From them, the placement choice the cluster
// offers: encrypt on the client (ublkcrypt) or on the storage hosts (Ceph's dmcrypt OSDs,
// which encrypt every replica, and need msgr2's secure mode on every hop for the data to be
// private in flight); docs/placement-model.md gives the arithmetic.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "bench/provider_load.h"
#include "bench/workload.h"
#include "bench/workload_run.h"

namespace ublkcrypt {

struct RbdComparisonOptions {
  std::string image;       // rbd:POOL/IMAGE, written over: the librbd and ublkcrypt rows
  std::string luks_image;  // rbd:POOL/IMAGE with librbd's LUKS header: the librbd LUKS row
  std::span<const uint8_t> luks_passphrase;  // its passphrase (the caller keeps it)
  Workload workload{.rw = "randwrite", .block_bytes = 4096, .iodepth = 32};
  CryptoLoadOptions crypto;  // ublkcrypt's cipher, key and sector size (4096, as librbd's)
  double runtime_seconds = 6;  // per row, all rounds together
  unsigned rounds = 3;
  bool force = false;  // write over a LUKS header found on `image`
};

struct RbdRow {
  std::string name;
  std::string encrypts;  // what the row encrypts where: "nothing", "the wire", "client", ...
  WorkloadResult result;           // the median round
  int64_t wire_bytes = -1;         // the machine's interfaces over that round; -1 unknown
  std::vector<double> round_mbs;   // every round, in order
  double wire_per_user_byte() const {
    return wire_bytes >= 0 && result.bytes() ? double(wire_bytes) / double(result.bytes()) : -1;
  }
};

// Extra CPU per user byte, cluster-wide, for encryption placed one way (ns per byte).
struct EncryptionPlacementCost {
  std::string where;
  double client_ns_per_byte = 0;   // on the client host
  double storage_ns_per_byte = 0;  // on the storage hosts, all replicas and hops together
  bool private_in_flight = false;
  double total() const { return client_ns_per_byte + storage_ns_per_byte; }
};

struct RbdComparisonReport {
  RbdComparisonOptions options;  // as run (runtime per round); the passphrase left out
  unsigned replicas = 0;         // the pool's size: copies a dmcrypt OSD set encrypts
  std::vector<RbdRow> rows;      // in the order above
  // The ublkcrypt row's provider alone, kept busy at the workload's block size and depth:
  // the cipher's own CPU per byte on this machine. The engine rows' CPU also holds the
  // handoffs to and from a pool that small requests leave half idle.
  std::string provider;
  CryptoResult cipher_alone;
  double cipher_ns_per_byte() const {
    return cipher_alone.mbs_per_cpu() > 0 ? 1e3 / cipher_alone.mbs_per_cpu() : 0;
  }
  enum Row { librbd, librbd_secure, ublkcrypt_null, ublkcrypt, librbd_luks };
  // The two ratios: the datapath against raw librbd, and ublkcrypt against
  // librbd's own encryption.
  double null_vs_raw() const;
  double ublkcrypt_vs_librbd_luks() const;
  // Client-side (ublkcrypt), storage-side at rest only, storage-side at rest and in
  // flight: the model's inputs are the rows and the pool's replica count.
  std::vector<EncryptionPlacementCost> placements() const;
};

// Refuses bad input before any I/O (names, images, the LUKS image's passphrase, the
// workload), then runs the rounds.
Status run_rbd_comparison(const RbdComparisonOptions& options, RbdComparisonReport* out);

}  // namespace ublkcrypt

// PlacementModel: where should crypto live? For each placement of the cipher, the
// resources one user byte of encrypted storage traffic consumes, and the ceiling each
// resource puts on throughput; the smallest ceiling is the prediction and its resource the
// bottleneck. This is the OCF paper's argument as arithmetic: offloading the cipher frees
// the cores but multiplies the bytes crossing memory and the bus.
//
// Byte flow per user byte written (reads are the mirror image):
//
//   host-cpu        the core reads the plaintext (1) and writes the ciphertext (1) in
//                   memory, then the storage controller DMAs the ciphertext out (1):
//                   memory 3, bus 1 (storage DMA), cores: cipher + storage submission.
//   lookaside-card  the card DMAs the plaintext in over the bus (1) and the ciphertext back
//                   (1), then storage DMAs it out (1): bus 3, memory 3, plus the copies
//                   the path makes on the host (AF_ALG copies into and out of the kernel:
//                   2 copies, each a read and a write: memory +4); cores: storage
//                   submission and the copies' system calls, not the cipher.
//   inline-device   the drive encrypts as the data streams through it: storage DMA only,
//                   memory 1, bus 1; the drive's cipher runs at its line rate.
//
// Cores are a resource like the others. One user byte costs the host CPU
//
//   core-s/MB = cipher + datapath
//     cipher    host-cpu: 1 / (cipher MB/s per core), from the provider alone;
//               lookaside-card: the host CPU the card path burns per MB alone (system
//               calls, AF_ALG copies), measured the same way; inline-device: 0.
//     datapath  the engine's own cost with no cipher at all: the same workload through the
//               engine over the same storage with cipher_null in place (the software
//               provider completes those runs inline, doing nothing), process CPU seconds
//               per MB. It holds the storage I/O's CPU and what the engine adds (requests,
//               completions, the eventfd wakeups). Unknown, the raw storage's CPU per MB
//               stands in for it.
//
//   cores ceiling = cores / (cipher + datapath)
//
// where cores is the CPU the process got while storage traffic and the cipher ran at once
// (the together phase: the datapath's mix of threads; on a shared machine fewer than it
// has, and the share swings, which is why the bench measures in interleaved rounds). Cipher and datapath add because they run on the
// same cores; that is why a fast disk behind a host-cpu cipher tops out below both. The
// null-cipher engine's throughput is a ceiling of its own ("datapath": the engine cannot
// move bytes faster with a cipher than without one), beside the raw storage's.
//
// Every figure is measured separately from the encrypted run the model predicts; nothing is
// fitted to it.
#pragma once

#include <string>
#include <vector>

#include "backends/provider.h"

namespace ublkcrypt {

// The machine, in MB/s (10^6 bytes) and cores. A figure <= 0 means unknown: that resource
// is left out of the prediction and the output says so.
struct MachineFigures {
  double cores = 0;                  // cores available to the datapath
  double cipher_mbs_per_core = 0;    // host cipher rate: MB per CPU-second
  double memory_mbs = 0;             // memory traffic (read + write) the machine sustains
  double bus_mbs = 0;                // the I/O bus between host, card and drive
  double bus_share = 1;              // fraction of the bus this datapath may use
  double storage_mbs = 0;            // the storage device alone
  double storage_core_s_per_mb = 0;  // host CPU seconds per MB of storage I/O
  double datapath_mbs = 0;           // the engine with cipher_null over this storage
  double datapath_core_s_per_mb = 0; // its host CPU seconds per MB (replaces storage's)
  double card_core_s_per_mb = 0;     // host CPU seconds per MB the card path costs
  double card_mbs = 0;               // the card's cipher rate
  double card_copies_per_byte = 2;   // host copies per byte on the card path (AF_ALG)
};

struct ResourceLimit {
  std::string resource;   // "cores", "memory", "bus", "storage", "datapath", "card"
  double capacity = 0;    // MB/s, or cores for "cores"
  double per_user_byte = 0;  // bytes (or core-seconds per MB) one user byte needs
  double ceiling_mbs = 0;    // capacity / per_user_byte
};

struct PlacementPrediction {
  Placement placement = Placement::host_cpu;
  double ceiling_mbs = 0;      // 0 when no resource was known
  std::string bottleneck;      // resource with the smallest ceiling
  std::vector<ResourceLimit> limits;  // every resource that was known
};

PlacementPrediction predict_placement(Placement placement, const MachineFigures& m);

// The three placements, host-cpu first.
std::vector<PlacementPrediction> predict_all(const MachineFigures& m);

}  // namespace ublkcrypt

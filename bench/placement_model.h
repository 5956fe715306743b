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
//               engine over the same storage with cipher_null in place, process CPU seconds
//               per MB. It holds the storage I/O's CPU and what the engine adds (requests,
//               completions, handoffs to the worker pool and back). Unknown, the raw
//               storage's CPU per MB stands in for it.
//
//   cores ceiling = cores / (cipher + datapath)
//
// where cores is the machine's CPUs: a ceiling is what the resource could carry. What
// other processes on a shared machine take shows in every measured phase instead (they run
// in the same interleaved rounds), and in 'cores left' below. Cipher and datapath add
// because they run on the same cores. The null-cipher engine's throughput is a ceiling of
// its own ("datapath": the engine cannot move bytes faster with a cipher than without one),
// beside the raw storage's.
//
// The ceilings are capacities: what each resource could carry if nothing else held the
// requests back. The workload does not run open-loop, though: it keeps N = iodepth x jobs
// requests of B bytes in flight and sends the next only when one completes, so a request's
// time, not only a resource's capacity, sets the rate. That is the latency term
// (per-request service-time composition; Little's law X = N*B / R on each phase):
//
//   R_dp    = N*B / datapath MB/s   time a request spends in the engine and the storage
//                                   (the cipher_null phase at the same N and B)
//   R_busy  = the core time the datapath's serial part needs per request: its queue
//             thread's CPU seconds per MB (the cipher_null phase) times N*B, at most R_dp
//             (the process's, where the thread's is unknown). The rest, R_dp - R_busy, is
//             the device working (DMA, a disk's own latency) or threads beside the queue
//             (io-wq running zram's compression) with that thread free.
//   R_ciph  = N*B / provider MB/s   time it spends in the cipher (the provider alone at
//                                   N requests of B bytes in flight)
//   fill    = min(1, cores the provider alone used / cores left): how much of the machine
//             the cipher holds while it runs (a host-cpu pool: all of it; a card: little);
//             cores left = CPUs less what other processes took during the together phase
//             (/proc/stat), or all CPUs where that is unknown
//
//   R       = max(R_dp, R_ciph, R_busy + fill x R_ciph)
//   latency = N*B / R
//
// A write is encrypted, then written; a read is read, then decrypted. With N in flight the
// two stages overlap across requests, so a request costs at least the slower stage
// (R_dp or R_ciph); but the work both need the host's cores for cannot overlap: while a
// host cipher fills every core, the threads that feed the storage wait, so their busy
// times add (R_busy + fill x R_ciph). On tmpfs the datapath is all queue-thread time (the
// page-cache copy); the sum binds. zram compresses in io-wq workers beside the queue
// thread: their work is core time but not the serial part, and the cipher hides under it.
// On a disk with O_DIRECT most of R_dp is the device's, the cipher hides under it and R_dp
// binds. Unknown R_busy counts as all of R_dp, unknown fill as 1 (no overlap: the lower
// prediction).
//
//   prediction = min(latency, every known ceiling); the limit column names the smallest.
//
// Where it does not hold: when other processes take the cores in bursts (a shared
// machine under load), the handoffs between the submitting thread and the cipher's
// workers wait on the scheduler, which no phase alone shows; the prediction then errs
// high, and the per-round error range in the table shows the swing.
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
  double cores = 0;                  // cores the machine has for the datapath
  double cores_left = 0;             // of those, what other processes left (0 = unknown)
  double cipher_mbs_per_core = 0;    // host cipher rate: MB per CPU-second
  double memory_mbs = 0;             // memory traffic (read + write) the machine sustains
  double bus_mbs = 0;                // the I/O bus between host, card and drive
  double bus_share = 1;              // fraction of the bus this datapath may use
  double storage_mbs = 0;            // the storage device alone
  double storage_core_s_per_mb = 0;  // host CPU seconds per MB of storage I/O
  double datapath_mbs = 0;           // the engine with cipher_null over this storage
  double datapath_core_s_per_mb = 0; // its host CPU seconds per MB (replaces storage's)
  double datapath_serial_core_s_per_mb = 0;  // of those, its queue thread's; 0 unknown
  double card_core_s_per_mb = 0;     // host CPU seconds per MB the card path costs
  double card_mbs = 0;               // the card's cipher rate
  double card_copies_per_byte = 2;   // host copies per byte on the card path (AF_ALG)
  // The latency term: the provider alone (wall MB/s, at `inflight` requests of
  // `request_bytes` each), for the placement it was measured at; the datapath's rate is
  // datapath_mbs above.
  double provider_mbs = 0;
  double provider_cores = 0;         // cores the provider alone used (CPU / wall); 0 unknown
  Placement provider_placement = Placement::host_cpu;
  double inflight = 0;               // N: requests in flight (iodepth x jobs)
  double request_bytes = 0;          // B
};

struct ResourceLimit {
  // "latency", "cores", "memory", "bus", "storage", "datapath", "card". For "latency":
  // capacity is the MB in flight (N*B, or 1 when N and B are unknown), per_user_byte the
  // seconds one request takes (R), ceiling their ratio.
  std::string resource;
  double capacity = 0;    // MB/s, or cores for "cores"
  double per_user_byte = 0;  // bytes (or core-seconds per MB) one user byte needs
  double ceiling_mbs = 0;    // capacity / per_user_byte
};

struct PlacementPrediction {
  Placement placement = Placement::host_cpu;
  double ceiling_mbs = 0;      // 0 when no resource was known
  std::string bottleneck;      // resource with the smallest ceiling
  std::vector<ResourceLimit> limits;  // every resource that was known
  // The latency term's parts, seconds per request (0 when not known).
  double datapath_latency_s = 0;  // R_dp
  double busy_latency_s = 0;      // R_busy
  double cipher_latency_s = 0;    // R_ciph
  double cipher_fill = 0;         // fill
};

PlacementPrediction predict_placement(Placement placement, const MachineFigures& m);

// The three placements, host-cpu first.
std::vector<PlacementPrediction> predict_all(const MachineFigures& m);

}  // namespace ublkcrypt

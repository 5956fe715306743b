#include <doctest/doctest.h>

#include "bench/placement_model.h"

namespace ublkcrypt {

namespace {

const ResourceLimit* limit(const PlacementPrediction& p, const char* name) {
  for (const ResourceLimit& l : p.limits)
    if (l.resource == name) return &l;
  return nullptr;
}

// A machine given by hand, as `bench model` takes one: 2 cores of AES-256-XTS each, memcpy
// and its traffic, a disk, and a PCIe 4.0 x8 bus for the card (the figures below).
MachineFigures facts_machine() {
  MachineFigures m;
  m.cores = 2;
  m.cipher_mbs_per_core = 6000;
  m.memory_mbs = 24000;
  m.bus_mbs = 15750;
  m.storage_mbs = 1000;
  m.card_mbs = 5000;
  return m;
}

}  // namespace

TEST_CASE("host-cpu on a slow disk: the disk is the bottleneck") {
  PlacementPrediction p = predict_placement(Placement::host_cpu, facts_machine());
  CHECK(p.bottleneck == "storage");
  CHECK(p.ceiling_mbs == doctest::Approx(1000));
  // By hand: cores 2 / (1/6000) = 12000; memory 24000 / 3 = 8000; bus 15750 / 1.
  CHECK(limit(p, "cores")->ceiling_mbs == doctest::Approx(12000));
  CHECK(limit(p, "memory")->ceiling_mbs == doctest::Approx(8000));
  CHECK(limit(p, "bus")->ceiling_mbs == doctest::Approx(15750));
}

TEST_CASE("host-cpu on a fast device: memory (3 bytes per user byte) limits first") {
  MachineFigures m = facts_machine();
  m.storage_mbs = 20000;
  PlacementPrediction p = predict_placement(Placement::host_cpu, m);
  CHECK(p.bottleneck == "memory");
  CHECK(p.ceiling_mbs == doctest::Approx(8000));
}

TEST_CASE("cipher and storage CPU cost add on shared cores") {
  MachineFigures m;
  m.cores = 2;
  m.cipher_mbs_per_core = 1000;       // 0.001 core-s per MB
  m.storage_core_s_per_mb = 0.001;    // storage I/O as costly as the cipher
  m.storage_mbs = 5000;
  PlacementPrediction p = predict_placement(Placement::host_cpu, m);
  CHECK(p.bottleneck == "cores");
  CHECK(p.ceiling_mbs == doctest::Approx(2 / 0.002));  // 1000, not 2000
}

TEST_CASE("the engine's cipher_null datapath cost replaces the storage's, and caps too") {
  MachineFigures m;
  m.cores = 1.5;
  m.cipher_mbs_per_core = 2000;         // 0.0005 core-s per MB
  m.storage_core_s_per_mb = 0.0001;     // raw storage alone
  m.datapath_core_s_per_mb = 0.00025;   // engine with cipher_null: storage + the engine
  m.storage_mbs = 4000;
  m.datapath_mbs = 3500;
  PlacementPrediction host = predict_placement(Placement::host_cpu, m);
  // By hand: cores 1.5 / (0.0005 + 0.00025) = 2000; storage 4000; datapath 3500.
  CHECK(limit(host, "cores")->per_user_byte == doctest::Approx(0.00075));
  CHECK(host.bottleneck == "cores");
  CHECK(host.ceiling_mbs == doctest::Approx(2000));
  // The drive encrypts: only the datapath's CPU, 1.5 / 0.00025 = 6000 -> datapath 3500.
  PlacementPrediction drive = predict_placement(Placement::inline_device, m);
  CHECK(limit(drive, "cores")->ceiling_mbs == doctest::Approx(6000));
  CHECK(drive.bottleneck == "datapath");
  CHECK(drive.ceiling_mbs == doctest::Approx(3500));
  // A card path's host CPU (system calls, copies) adds to the datapath's like a cipher.
  m.card_core_s_per_mb = 0.00025;
  PlacementPrediction card = predict_placement(Placement::lookaside_card, m);
  CHECK(limit(card, "cores")->ceiling_mbs == doctest::Approx(3000));
}

TEST_CASE("lookaside card: three bus crossings and the host copies") {
  MachineFigures m = facts_machine();
  m.storage_mbs = 20000;
  m.bus_share = 0.5;
  PlacementPrediction p = predict_placement(Placement::lookaside_card, m);
  // Bus: 15750 * 0.5 / 3 = 2625; memory: 24000 / (3 + 2*2) = 3428.6; card 5000.
  CHECK(limit(p, "bus")->ceiling_mbs == doctest::Approx(2625));
  CHECK(limit(p, "memory")->per_user_byte == doctest::Approx(7));
  CHECK(limit(p, "memory")->ceiling_mbs == doctest::Approx(24000.0 / 7));
  CHECK(limit(p, "card")->ceiling_mbs == doctest::Approx(5000));
  CHECK(p.bottleneck == "bus");
  CHECK(p.ceiling_mbs == doctest::Approx(2625));
}

TEST_CASE("inline device: storage DMA only, so the drive's own rate is the ceiling") {
  MachineFigures m = facts_machine();
  PlacementPrediction p = predict_placement(Placement::inline_device, m);
  CHECK(limit(p, "memory")->per_user_byte == doctest::Approx(1));
  CHECK(limit(p, "bus")->per_user_byte == doctest::Approx(1));
  CHECK(p.ceiling_mbs == doctest::Approx(1000));
  CHECK(p.bottleneck == "storage");
}

// 16 x 128 KiB in flight: N*B = 2.097152 MB.
MachineFigures pipeline(double datapath_core_s_per_mb) {
  MachineFigures m;
  m.cores = 2;
  m.cipher_mbs_per_core = 5000;  // 200 us per MB
  m.datapath_core_s_per_mb = datapath_core_s_per_mb;
  m.storage_mbs = 3000;
  m.datapath_mbs = 2000;
  m.provider_mbs = 6000;
  m.provider_cores = 2;  // the pool filled both cores
  m.inflight = 16;
  m.request_bytes = 131072;
  return m;
}

TEST_CASE("latency term, tmpfs-like: the datapath is all core time, so the cipher adds") {
  PlacementPrediction p = predict_placement(Placement::host_cpu, pipeline(0.0005));
  // By hand: R_dp = 2.097152 / 2000 = 1048.576 us; R_busy = 0.0005 x 2.097152 = 1048.576
  // us (all of R_dp); R_ciph = 2.097152 / 6000 = 349.525 us; fill = min(1, 2 / 2) = 1.
  // R = max(1048.576, 349.525, 1048.576 + 349.525) = 1398.101 us -> 2.097152 MB /
  // 1398.101 us = 1500 MB/s. Cores: 2 / (0.0002 + 0.0005) = 2857; storage 3000.
  CHECK(p.datapath_latency_s * 1e6 == doctest::Approx(1048.576));
  CHECK(p.busy_latency_s * 1e6 == doctest::Approx(1048.576));
  CHECK(p.cipher_latency_s * 1e6 == doctest::Approx(349.525).epsilon(1e-5));
  CHECK(p.cipher_fill == doctest::Approx(1));
  const ResourceLimit* lat = limit(p, "latency");
  REQUIRE(lat != nullptr);
  CHECK(lat->capacity == doctest::Approx(2.097152));
  CHECK(lat->per_user_byte * 1e6 == doctest::Approx(1398.101).epsilon(1e-5));
  CHECK(limit(p, "cores")->ceiling_mbs == doctest::Approx(2857.14).epsilon(1e-4));
  CHECK(p.bottleneck == "latency");
  CHECK(p.ceiling_mbs == doctest::Approx(1500));
}

TEST_CASE("latency term, disk-like: the device's time hides the cipher") {
  PlacementPrediction p = predict_placement(Placement::host_cpu, pipeline(0.0001));
  // R_busy = 0.0001 x 2.097152 = 209.715 us of R_dp 1048.576 us (the rest is the device);
  // R = max(1048.576, 349.525, 209.715 + 349.525 = 559.241) = R_dp -> 2000 MB/s, the
  // datapath's own rate: the cipher costs this workload nothing.
  CHECK(p.busy_latency_s * 1e6 == doctest::Approx(209.715).epsilon(1e-5));
  CHECK(limit(p, "latency")->per_user_byte * 1e6 == doctest::Approx(1048.576));
  CHECK(limit(p, "latency")->ceiling_mbs == doctest::Approx(2000));
  CHECK(p.ceiling_mbs == doctest::Approx(2000));
}

TEST_CASE("latency term, zram-like: work beside the queue thread is not its busy time") {
  // The process's CPU says the datapath is all core time (0.0005 s/MB, as tmpfs), but its
  // queue thread ran only 0.0001 s/MB of it (io-wq workers compressed the rest): busy is
  // the thread's, 209.715 us, and R = max(1048.576, 349.525, 559.241) = R_dp -> 2000 MB/s.
  MachineFigures m = pipeline(0.0005);
  m.datapath_serial_core_s_per_mb = 0.0001;
  PlacementPrediction p = predict_placement(Placement::host_cpu, m);
  CHECK(p.busy_latency_s * 1e6 == doctest::Approx(209.715).epsilon(1e-5));
  CHECK(limit(p, "latency")->ceiling_mbs == doctest::Approx(2000));
  // The cores ceiling still counts all of the process's CPU: 2 / (0.0002 + 0.0005).
  CHECK(limit(p, "cores")->ceiling_mbs == doctest::Approx(2857.14).epsilon(1e-4));
}

TEST_CASE("latency term: fill is the share of the cores left the cipher held") {
  MachineFigures m = pipeline(0.0005);
  m.provider_cores = 1;  // the provider alone ran on one core
  m.cores_left = 2;
  // fill = 1 / 2: R = max(1048.576, 349.525, 1048.576 + 174.763 = 1223.339) -> 1714.29.
  PlacementPrediction p = predict_placement(Placement::host_cpu, m);
  CHECK(p.cipher_fill == doctest::Approx(0.5));
  CHECK(p.ceiling_mbs == doctest::Approx(1714.29).epsilon(1e-5));
  // Other processes left one core, and the provider held all of it: fill 1, 1500 again.
  m.cores_left = 1;
  CHECK(predict_placement(Placement::host_cpu, m).ceiling_mbs == doctest::Approx(1500));
}

TEST_CASE("latency term beside a cores ceiling that binds") {
  MachineFigures m = pipeline(0.0005);
  m.cores = 0.25;  // a machine with a quarter of a core
  PlacementPrediction p = predict_placement(Placement::host_cpu, m);
  // fill = min(1, 2 / 0.25) = 1: latency 1500 as above; cores 0.25 / 0.0007 = 357.1.
  CHECK(p.cipher_fill == 1);
  CHECK(limit(p, "latency")->ceiling_mbs == doctest::Approx(1500));
  CHECK(p.bottleneck == "cores");
  CHECK(p.ceiling_mbs == doctest::Approx(357.14).epsilon(1e-4));
}

TEST_CASE("latency term: a card holds few host cores; only for the provider's placement") {
  MachineFigures m;
  m.cores = 2;
  m.datapath_mbs = 2400;
  m.datapath_core_s_per_mb = 0.0004;
  m.provider_mbs = 800;  // the card alone: slower than the datapath
  m.provider_cores = 0.2;
  m.provider_placement = Placement::lookaside_card;
  // N and B unknown: N*B = 1 MB. R_dp = 416.67 us, R_busy = 400 us, R_ciph = 1250 us,
  // fill = 0.2 / 2 = 0.1: R = max(416.67, 1250, 400 + 125) = 1250 us -> 800 MB/s, the
  // card's own rate. Latencies are not reported without N and B.
  PlacementPrediction card = predict_placement(Placement::lookaside_card, m);
  CHECK(card.cipher_fill == doctest::Approx(0.1));
  CHECK(card.bottleneck == "latency");
  CHECK(card.ceiling_mbs == doctest::Approx(800));
  CHECK(card.datapath_latency_s == 0);
  CHECK(card.cipher_latency_s == 0);
  // With no fill known the busy times add in full: max(416.67, 1250, 1650) -> 606.06.
  m.provider_cores = 0;
  CHECK(predict_placement(Placement::lookaside_card, m).ceiling_mbs ==
        doctest::Approx(1e6 / 1650).epsilon(1e-4));
  // The host-cpu and inline placements were not measured with this provider.
  CHECK(limit(predict_placement(Placement::host_cpu, m), "latency") == nullptr);
  PlacementPrediction drive = predict_placement(Placement::inline_device, m);
  CHECK(limit(drive, "latency") == nullptr);
  CHECK(drive.bottleneck == "datapath");
  CHECK(drive.ceiling_mbs == doctest::Approx(2400));
}

TEST_CASE("unknown figures are left out, and nothing known means no prediction") {
  MachineFigures m;
  m.storage_mbs = 700;
  PlacementPrediction host = predict_placement(Placement::host_cpu, m);
  CHECK(host.limits.size() == 1);
  CHECK(host.bottleneck == "storage");
  PlacementPrediction none = predict_placement(Placement::host_cpu, MachineFigures{});
  CHECK(none.ceiling_mbs == 0);
  CHECK(none.bottleneck.empty());
  CHECK(predict_all(m).size() == 3);
}

}  // namespace ublkcrypt

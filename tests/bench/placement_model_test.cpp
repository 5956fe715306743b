#include <doctest/doctest.h>

#include "bench/placement_model.h"

namespace ublkcrypt {

namespace {

const ResourceLimit* limit(const PlacementPrediction& p, const char* name) {
  for (const ResourceLimit& l : p.limits)
    if (l.resource == name) return &l;
  return nullptr;
}

// FACTS.md's machine: 2 cores at 6000 MB/s AES-256-XTS each, memcpy 12 GB/s (24 GB/s of
// traffic), a 1000 MB/s disk, and a PCIe 4.0 x8 bus for the card.
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

TEST_CASE("latency term: N requests in flight, each through the datapath then the cipher") {
  // tmpfs-like: 16 x 128 KiB in flight; the engine with cipher_null 2000 MB/s, the
  // provider alone at the same depth 6000 MB/s; the cores would carry more.
  MachineFigures m;
  m.cores = 2;
  m.cipher_mbs_per_core = 5000;        // 200 us per MB
  m.datapath_core_s_per_mb = 0.0003;   // 300 us per MB
  m.storage_mbs = 3000;
  m.datapath_mbs = 2000;
  m.provider_mbs = 6000;
  m.inflight = 16;
  m.request_bytes = 131072;
  PlacementPrediction p = predict_placement(Placement::host_cpu, m);
  // By hand: N*B = 2.097152 MB. R_dp = 2.097152 / 2000 = 1048.576 us, R_ciph = 2.097152 /
  // 6000 = 349.525 us, latency = 2.097152 MB / 1398.101 us = 1500 MB/s (= 1/(1/2000 +
  // 1/6000)). Cores: 2 / (0.0002 + 0.0003) = 4000. Storage 3000, datapath 2000.
  CHECK(p.datapath_latency_s * 1e6 == doctest::Approx(1048.576));
  CHECK(p.cipher_latency_s * 1e6 == doctest::Approx(349.525).epsilon(1e-5));
  const ResourceLimit* lat = limit(p, "latency");
  REQUIRE(lat != nullptr);
  CHECK(lat->capacity == doctest::Approx(2.097152));
  CHECK(lat->per_user_byte * 1e6 == doctest::Approx(1398.101).epsilon(1e-5));
  CHECK(lat->ceiling_mbs == doctest::Approx(1500));
  CHECK(limit(p, "cores")->ceiling_mbs == doctest::Approx(4000));
  CHECK(p.bottleneck == "latency");
  CHECK(p.ceiling_mbs == doctest::Approx(1500));

  // Other processes leave a quarter of a core: 0.25 / 0.0005 = 500 < 1500, cores limit.
  m.cores = 0.25;
  p = predict_placement(Placement::host_cpu, m);
  CHECK(p.bottleneck == "cores");
  CHECK(p.ceiling_mbs == doctest::Approx(500));
}

TEST_CASE("latency term: only for the provider's own placement; N*B cancels when unknown") {
  MachineFigures m;
  m.datapath_mbs = 2400;
  m.provider_mbs = 800;   // a card: slower than the datapath
  m.provider_placement = Placement::lookaside_card;
  // Unknown N and B: 1 / (1/2400 + 1/800) = 600, latencies unknown.
  PlacementPrediction card = predict_placement(Placement::lookaside_card, m);
  CHECK(card.bottleneck == "latency");
  CHECK(card.ceiling_mbs == doctest::Approx(600));
  CHECK(card.datapath_latency_s == 0);
  CHECK(card.cipher_latency_s == 0);
  // The host-cpu and inline placements were not measured with this provider.
  CHECK(limit(predict_placement(Placement::host_cpu, m), "latency") == nullptr);
  PlacementPrediction drive = predict_placement(Placement::inline_device, m);
  CHECK(limit(drive, "latency") == nullptr);
  CHECK(drive.bottleneck == "datapath");
  CHECK(drive.ceiling_mbs == doctest::Approx(2400));
  // Depth 4 of 64 KiB: R_dp = 0.262144 / 2400 = 109.2 us, R_ciph = 0.262144 / 800 = 327.7 us.
  m.inflight = 4;
  m.request_bytes = 65536;
  card = predict_placement(Placement::lookaside_card, m);
  CHECK(card.datapath_latency_s * 1e6 == doctest::Approx(109.227).epsilon(1e-5));
  CHECK(card.cipher_latency_s * 1e6 == doctest::Approx(327.68));
  CHECK(card.ceiling_mbs == doctest::Approx(600));
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

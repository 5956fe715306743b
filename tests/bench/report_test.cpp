#include <doctest/doctest.h>

#include "bench/report.h"

namespace ublkcrypt {

namespace {

// A report as the run would fill it, with figures chosen by hand.
ContentionReport sample_report() {
  ContentionReport r;
  r.options.targets = {"/dev/shm/a.img"};
  r.options.storage.rw = "write";
  r.cpus = 2;
  r.memory.copy_mbs_one_thread = 10000;
  r.memory.copy_mbs_all_threads = 12000;
  r.memory.threads = 2;
  ContentionCell c;
  c.target = "/dev/shm/a.img";
  c.provider = "software";
  c.storage_alone.write_bytes = 2000000000;
  c.storage_alone.write_ops = 100;
  c.storage_alone.seconds = 1;
  c.storage_together.write_bytes = 1000000000;
  c.storage_together.seconds = 1;
  c.crypto_alone.bytes = 4000000000;
  c.crypto_alone.seconds = 1;
  c.crypto_alone.cpu_seconds = 2;
  c.crypto_together.bytes = 3000000000;
  c.crypto_together.seconds = 1;
  c.encrypted.write_bytes = 1500000000;
  c.encrypted.seconds = 1;
  c.datapath.write_bytes = 1800000000;
  c.datapath.seconds = 1;
  c.datapath.cpu_seconds = 0.9;
  c.round_predicted_mbs = {1800, 1700};
  c.round_measured_mbs = {1500, 1600};
  c.storage_together.cpu_seconds = 2;
  r.options.storage.iodepth = 16;
  r.options.storage.block_bytes = 128 * 1024;
  c.other_cores = 0.5;  // other processes took half a core in the together phase
  c.figures = figures_from(c.placement, r.options.storage, c, r.memory, r.cpus);
  c.prediction = predict_placement(c.placement, c.figures);
  r.cells.push_back(c);
  return r;
}

}  // namespace

TEST_CASE("contention JSON keeps its schema") {
  nlohmann::json j = to_json(sample_report());
  for (const char* key : {"kind", "unit", "cpus", "phase_seconds", "workload", "cipher",
                          "key_bits", "sector_size", "crypto_depth", "memory", "cells", "skipped"})
    CHECK_MESSAGE(j.contains(key), key);
  for (const char* key : {"source", "copy_mbs_one_thread", "copy_mbs_all_threads", "traffic_mbs"})
    CHECK_MESSAGE(j["memory"].contains(key), key);
  const nlohmann::json& cell = j["cells"][0];
  for (const char* key : {"target", "provider", "placement", "storage_alone", "crypto_alone",
                          "storage_together", "crypto_together", "encrypted", "storage_ratio",
                          "crypto_ratio", "encrypted_ratio", "bytes_per_user_byte",
                          "encrypted_counters", "model", "cipher", "datapath"})
    CHECK_MESSAGE(cell.contains(key), key);
  for (const char* key : {"mbs", "iops", "cpu_ns_per_byte", "latency_ns"})
    CHECK_MESSAGE(cell["storage_alone"].contains(key), key);
  for (const char* key : {"p50", "p99", "p99_9"})
    CHECK_MESSAGE(cell["storage_alone"]["latency_ns"].contains(key), key);
  for (const char* key : {"memory_model", "copies", "bus_to_device_and_back", "storage_dma"})
    CHECK_MESSAGE(cell["bytes_per_user_byte"].contains(key), key);
  for (const char* key : {"ceiling_mbs", "bottleneck", "limits", "inputs", "measured_mbs",
                          "measured_over_predicted", "rounds_predicted_mbs",
                          "rounds_measured_mbs"})
    CHECK_MESSAGE(cell["model"].contains(key), key);
  CHECK(cell["storage_ratio"].get<double>() == doctest::Approx(0.5));
  CHECK(cell["crypto_ratio"].get<double>() == doctest::Approx(0.75));
  CHECK(cell["encrypted_ratio"].get<double>() == doctest::Approx(0.75));
}

TEST_CASE("model inputs from the alone phases, by hand") {
  ContentionReport r = sample_report();
  const MachineFigures& m = r.cells[0].figures;
  CHECK(m.cores == 2);                                  // the machine's CPUs
  CHECK(m.cores_left == doctest::Approx(1.5));          // others took 0.5
  CHECK(m.cipher_mbs_per_core == doctest::Approx(2000));  // 4000 MB for 2 CPU-s
  CHECK(m.memory_mbs == doctest::Approx(24000));        // 2 x 12000 MB/s copied
  CHECK(m.storage_mbs == doctest::Approx(2000));
  CHECK(m.datapath_mbs == doctest::Approx(1800));
  CHECK(m.datapath_core_s_per_mb == doctest::Approx(0.0005));  // 0.9 CPU-s for 1800 MB
  CHECK(m.provider_mbs == doctest::Approx(4000));       // 4000 MB in 1 s, wall
  CHECK(m.inflight == 16);
  CHECK(m.request_bytes == 131072);
  const PlacementPrediction& p = r.cells[0].prediction;
  // Latency: N*B = 16 x 131072 B = 2.097152 MB in flight; R_dp = 2.097152 / 1800 s =
  // 1165.08 us, of which busy 0.0005 x 2.097152 = 1048.58 us; R_ciph = 2.097152 / 4000 s =
  // 524.29 us; fill = min(1, 2 cores used / 1.5 left) = 1. R = max(1165.08, 524.29,
  // 1048.58 + 524.29 = 1572.86) -> 2.097152 MB / 1572.86 us = 1333.3 MB/s.
  CHECK(p.datapath_latency_s * 1e6 == doctest::Approx(1165.08).epsilon(1e-4));
  CHECK(p.busy_latency_s * 1e6 == doctest::Approx(1048.576));
  CHECK(p.cipher_latency_s * 1e6 == doctest::Approx(524.288).epsilon(1e-4));
  CHECK(p.cipher_fill == 1);
  // Ceilings: cores 2 / (1/2000 + 0.0005) = 2000, memory 8000, storage 2000, datapath
  // 1800; latency 1333.3 is the smallest.
  CHECK(p.bottleneck == "latency");
  CHECK(p.ceiling_mbs == doctest::Approx(1333.33).epsilon(1e-4));
  CHECK(r.cells[0].model_ratio() == doctest::Approx(1.125));
  // Unknown other load: cores left unknown (fill then relative to all CPUs).
  ContentionCell c = r.cells[0];
  c.other_cores = -1;
  CHECK(figures_from(c.placement, r.options.storage, c, r.memory, r.cpus).cores_left == 0);
}

TEST_CASE("table and JSON name every cell") {
  ContentionReport r = sample_report();
  const std::string table = format_table(r);
  CHECK(table.find("/dev/shm/a.img") != std::string::npos);
  CHECK(table.find("memcpy") != std::string::npos);
  CHECK(table.find("-17..-6%") != std::string::npos);  // rounds: 1500/1800, 1600/1700
  // Model row: R_dp 1165, busy 1049, R_ciph 524, fill 1.00; latency 1333 is the limit,
  // measured 1500: +12.5%, within 20%.
  CHECK(table.find("1165   1049 |      4000    524 1.00 |    1333   2000   8000 | latency") !=
        std::string::npos);
  CHECK(table.find("latency       1333     1500") != std::string::npos);
  CHECK(table.find(" ok\n") != std::string::npos);
  // The JSON carries the same cells, and the model's ceiling for every placement.
  const nlohmann::json cell = to_json(r)["cells"][0];
  CHECK(cell["storage_ratio"].get<double>() == doctest::Approx(0.5));
  CHECK(cell["crypto_ratio"].get<double>() == doctest::Approx(0.75));
  CHECK(cell["model"]["measured_over_predicted"].get<double>() == doctest::Approx(1.125));
  REQUIRE(cell["every_placement"].size() == 3);
  CHECK(cell["every_placement"][0]["ceiling_mbs"].get<double>() ==
        doctest::Approx(r.cells[0].prediction.ceiling_mbs));
  CHECK(cell["every_placement"][2]["placement"] == "inline-device");
}

TEST_CASE("storage and model JSON keep their schema") {
  StorageBenchmarkReport s;
  s.options.target = "/dev/vdb";
  s.options.compare = "/dev/ublkb0";
  s.target.read_bytes = 100;
  s.target.seconds = 1;
  s.compare.read_bytes = 80;
  s.compare.seconds = 1;
  nlohmann::json j = to_json(s);
  for (const char* key : {"kind", "workload", "target", "result", "compare", "compare_result",
                          "compare_ratio"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["compare_ratio"].get<double>() == doctest::Approx(0.8));
  for (const char* key :
       {"rw", "rwmixread", "bs", "iodepth", "iodepth_batch", "numjobs", "runtime_s", "size"})
    CHECK_MESSAGE(j["workload"].contains(key), key);

  ContentionReport measured = sample_report();
  const MachineFigures& f = measured.cells[0].figures;
  nlohmann::json m = to_json(ModelReport{f, predict_all(f), measured.cells});
  for (const char* key : {"kind", "figures", "predictions", "measured"})
    CHECK_MESSAGE(m.contains(key), key);
  CHECK(m["predictions"].size() == 3);
  CHECK(m["measured"][0]["error"].get<double>() == doctest::Approx(0.125));
}

TEST_CASE("bench rbd: the placement arithmetic by hand, and its JSON and table") {
  RbdComparisonReport r;
  r.options.image = "rbd:rbd/a";
  r.options.luks_image = "rbd:rbd/b";
  r.replicas = 3;
  // Each row moves 10^9 bytes in a second; CPU seconds give its ns per byte.
  const double mbs[] = {1000, 900, 950, 800, 500};
  const double cpu[] = {1.0, 1.5, 1.2, 2.0, 2.5};
  const char* names[] = {"librbd", "librbd, msgr2 secure", "ublkcrypt cipher_null", "ublkcrypt aes-xts-plain64",
                         "librbd LUKS"};
  for (int i = 0; i < 5; ++i) {
    RbdRow& row = r.rows.emplace_back();
    row.name = names[i];
    row.result.write_bytes = uint64_t(mbs[i] * 1e6);
    row.result.seconds = 1;
    row.result.cpu_seconds = cpu[i] * double(row.result.write_bytes) / 1e9;
    row.wire_bytes = int64_t(row.result.write_bytes) + 1000000;
    row.round_mbs = {mbs[i]};
  }
  r.provider = "software";
  r.cipher_alone.bytes = 4000000000;  // 4000 MB in a CPU second: 0.25 ns per byte
  r.cipher_alone.seconds = 1;
  r.cipher_alone.cpu_seconds = 1;
  CHECK(r.null_vs_raw() == doctest::Approx(0.95));
  CHECK(r.ublkcrypt_vs_librbd_luks() == doctest::Approx(1.6));
  const std::vector<EncryptionPlacementCost> p = r.placements();
  REQUIRE(p.size() == 3);
  // Client side: ublkcrypt's CPU over raw librbd's, nothing on the storage hosts.
  CHECK(p[0].client_ns_per_byte == doctest::Approx(1.0));
  CHECK(p[0].storage_ns_per_byte == 0);
  // dm-crypt OSDs: the cipher alone, once per replica.
  CHECK(p[1].storage_ns_per_byte == doctest::Approx(3 * 0.25));
  CHECK_FALSE(p[1].private_in_flight);
  // ... and msgr2 secure at both ends of each of the 3 hops: the client's end, then 5 more.
  CHECK(p[2].client_ns_per_byte == doctest::Approx(0.5));
  CHECK(p[2].storage_ns_per_byte == doctest::Approx(3 * 0.25 + 5 * 0.5));
  CHECK(p[2].private_in_flight);

  nlohmann::json j = to_json(r);
  for (const char* key : {"kind", "workload", "image", "luks_image", "replicas", "null_vs_raw",
                          "ublkcrypt_vs_librbd_luks", "provider", "cipher_alone", "cipher_ns_per_byte", "rows",
                          "placements"})
    CHECK_MESSAGE(j.contains(key), key);
  CHECK(j["kind"] == "rbd");
  CHECK(j["rows"].size() == 5);
  CHECK(j["rows"][0]["wire_bytes_per_user_byte"].get<double>() == doctest::Approx(1.001));
  const std::string table = format_table(r);
  for (const char* name : names) CHECK_MESSAGE(table.find(name) != std::string::npos, name);
  CHECK(table.find("ublkcrypt aes-xts-plain64 / librbd LUKS: 1.600") != std::string::npos);
}

}  // namespace ublkcrypt

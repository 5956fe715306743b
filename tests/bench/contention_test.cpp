// A real contention run, short (a few hundred ms per phase) on a temp file with the
// software provider. Checks the report is complete and consistent — never its speed.
#include <doctest/doctest.h>

#include <algorithm>

#include "bench/contention.h"
#include "temp_file.h"

namespace ublkcrypt {

namespace {

ContentionOptions short_run(const std::string& target) {
  ContentionOptions o;
  o.targets = {target};
  o.providers = {"software"};
  o.storage.rw = "write";
  o.storage.block_bytes = 64 * 1024;
  o.storage.iodepth = 4;
  o.crypto.depth = 4;
  o.crypto.working_set_bytes = 8 << 20;
  o.phase_seconds = 0.3;
  o.rounds = 2;
  return o;
}

}  // namespace

TEST_CASE("a short contention run is complete and self-consistent") {
  TempFile file(16 << 20);
  ContentionReport r;
  Status s = run_contention(short_run(file.path()), &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(r.cells.size() == 1);
  const ContentionCell& c = r.cells[0];
  CHECK(c.provider == "software");
  CHECK(c.placement == Placement::host_cpu);
  CHECK(r.memory.copy_mbs_all_threads > 0);

  // Every phase moved bytes, and only the kind it was meant to.
  for (const WorkloadResult* w :
       {&c.storage_alone, &c.storage_together, &c.datapath, &c.encrypted}) {
    CHECK(w->write_bytes > 0);
    CHECK(w->read_bytes == 0);
    CHECK(w->write_latency.count() == w->write_ops);
    CHECK(w->seconds > 0);
  }
  CHECK(c.crypto_alone.bytes > 0);
  CHECK(c.crypto_together.bytes > 0);
  CHECK(c.crypto_alone.bytes == c.crypto_alone.requests * 64 * 1024);

  // Every ratio was measured (the formulas themselves: "a cell's ratios" below).
  CHECK(c.storage_ratio() > 0);
  CHECK(c.crypto_ratio() > 0);
  CHECK(c.encrypted_ratio() > 0);

  // The provider's counters: the crypto phase's payload is what the load counted, and in
  // the encrypted phase every user byte went through the cipher exactly once.
  CHECK(c.crypto_alone.counters.payload_bytes == c.crypto_alone.bytes);
  CHECK(c.encrypted_counters.payload_bytes == c.encrypted.bytes());
  CHECK(c.encrypted_counters.errors == 0);
  // Software: no card, no extra copies; memory 3 bytes per user byte; the backing moved
  // each user byte once (the engine's count of storage bytes against the workload's).
  CHECK(c.copies_per_byte() == 0);
  CHECK(c.bus_per_byte() == 0);
  CHECK(c.encrypted_storage_bytes == c.encrypted.bytes());
  CHECK(c.storage_dma_per_byte() == 1);
  CHECK(c.memory_per_byte() == 3);

  // The model ran on this cell's own inputs.
  CHECK(c.figures.cores > 0);
  CHECK(c.figures.storage_mbs == doctest::Approx(c.storage_alone.mbs()));
  CHECK(c.figures.datapath_mbs == doctest::Approx(c.datapath.mbs()));
  CHECK(c.figures.datapath_core_s_per_mb > 0);
  CHECK(c.prediction.ceiling_mbs > 0);
  CHECK_FALSE(c.prediction.bottleneck.empty());
  CHECK(c.cipher == "aes-xts-plain64");
  // The latency term: the provider alone at the workload's N x B, beside the datapath.
  CHECK(c.figures.provider_mbs == doctest::Approx(c.crypto_alone.mbs()));
  CHECK(c.figures.inflight == 4);
  CHECK(c.figures.request_bytes == 64 * 1024);
  CHECK(c.prediction.datapath_latency_s ==
        doctest::Approx(4 * 65536 / 1e6 / c.datapath.mbs()));
  CHECK(c.prediction.cipher_latency_s ==
        doctest::Approx(4 * 65536 / 1e6 / c.crypto_alone.mbs()));
  // Between full overlap of the two stages and none: min(datapath, provider) at most, the
  // serial sum 1 / (1/datapath + 1/provider) at least.
  double latency = 0;
  for (const ResourceLimit& l : c.prediction.limits)
    if (l.resource == "latency") latency = l.ceiling_mbs;
  CHECK(latency <= doctest::Approx(std::min(c.datapath.mbs(), c.crypto_alone.mbs())));
  CHECK(latency >= doctest::Approx(1 / (1 / c.datapath.mbs() + 1 / c.crypto_alone.mbs())));
  CHECK(c.prediction.ceiling_mbs <= doctest::Approx(latency));
  // One prediction and one measurement per round; the cell's measurement is one of them.
  REQUIRE(c.round_predicted_mbs.size() == 2);
  REQUIRE(c.round_measured_mbs.size() == 2);
  CHECK(std::count(c.round_measured_mbs.begin(), c.round_measured_mbs.end(),
                   c.encrypted.mbs()) >= 1);
}

TEST_CASE("a cell's ratios and per-byte figures, by hand") {
  ContentionCell c;
  c.storage_alone.write_bytes = 400'000'000;
  c.storage_alone.seconds = 2;  // 200 MB/s
  c.storage_together.write_bytes = 300'000'000;
  c.storage_together.seconds = 2;  // 150 MB/s
  c.crypto_alone.bytes = 900'000'000;
  c.crypto_alone.seconds = 1;  // 900 MB/s
  c.crypto_together.bytes = 600'000'000;
  c.crypto_together.seconds = 1;  // 600 MB/s
  c.encrypted.write_bytes = 100'000'000;
  c.encrypted.seconds = 1;  // 100 MB/s
  c.encrypted_counters.payload_bytes = 100'000'000;
  c.encrypted_counters.copy_bytes = 50'000'000;
  c.encrypted_counters.bytes_to_device = 100'000'000;
  c.encrypted_counters.bytes_from_device = 100'000'000;
  c.encrypted_storage_bytes = 200'000'000;  // written twice
  CHECK(c.storage_ratio() == doctest::Approx(0.75));
  CHECK(c.crypto_ratio() == doctest::Approx(2.0 / 3));
  CHECK(c.encrypted_ratio() == doctest::Approx(0.5));
  CHECK(c.copies_per_byte() == doctest::Approx(0.5));
  CHECK(c.bus_per_byte() == doctest::Approx(2.0));
  CHECK(c.storage_dma_per_byte() == doctest::Approx(2.0));
  // Nothing measured: no ratio rather than a division by zero.
  CHECK(ContentionCell{}.storage_ratio() == 0);
  CHECK(ContentionCell{}.storage_dma_per_byte() == 0);
}

TEST_CASE("an inline device runs with cipher_null: the drive encrypts") {
  TempFile file(16 << 20);
  ContentionReport r;
  ContentionOptions o = short_run(file.path());
  o.providers = {"opal"};
  o.rounds = 1;
  Status s = run_contention(o, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(r.cells.size() == 1);
  const ContentionCell& c = r.cells[0];
  CHECK(c.placement == Placement::inline_device);
  CHECK(c.cipher == "cipher_null-ecb");
  CHECK(c.encrypted_counters.payload_bytes == c.encrypted.bytes());
  CHECK(c.copies_per_byte() == 0);
  CHECK(c.storage_dma_per_byte() == 1);
  CHECK(c.memory_per_byte() == 1);
  CHECK(c.prediction.ceiling_mbs > 0);
}

TEST_CASE("the provider alone runs at the workload's depth unless told otherwise") {
  TempFile file(16 << 20);
  ContentionReport r;
  ContentionOptions o = short_run(file.path());
  o.crypto.depth = 0;
  o.storage.iodepth = 3;
  o.storage.jobs = 2;
  o.rounds = 1;
  Status s = run_contention(o, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(r.options.crypto.depth == 6);  // as run
  CHECK(r.cells[0].figures.inflight == 6);
  CHECK(ContentionOptions{}.crypto.depth == 0);
}

TEST_CASE("bad input is refused before any I/O") {
  TempFile file(16 << 20, 0x5A);
  ContentionReport r;
  ContentionOptions o = short_run(file.path());

  o.providers = {"quantum"};
  Status s = run_contention(o, &r);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "bench contention: provider quantum is not present in this build");

  o = short_run(file.path());
  o.phase_seconds = 0;
  CHECK(run_contention(o, &r).message().find("duration of zero") != std::string::npos);

  o = short_run(file.path());
  o.rounds = 0;
  CHECK(run_contention(o, &r).message().find("rounds is outside") != std::string::npos);

  o = short_run(file.path());
  o.storage.size_bytes = 32 << 20;
  CHECK(run_contention(o, &r).message().find("too small for the workload") !=
        std::string::npos);

  // Nothing was written by any refused run.
  const std::vector<char> head = file.read_at(0, 65536);
  CHECK(std::all_of(head.begin(), head.end(), [](char b) { return b == 0x5A; }));
}

}  // namespace ublkcrypt

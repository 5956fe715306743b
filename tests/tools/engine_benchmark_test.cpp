#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "backends/registry.h"
#include "bench/page_buffer.h"
#include "bench/provider_load.h"
#include "bench/report.h"
#include "bench/scratch_volume.h"
#include "bench/workload_run.h"
#include "tests/volume/scratch.h"

using namespace ublkcrypt;
using ublkcrypt::test::run;
using ublkcrypt::test::Scratch;

namespace {

constexpr uint64_t kImageBytes = 4 << 20;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::unique_ptr<Engine> scratch_engine(const std::string& path, const char* cipher,
                                       uint32_t key_bits) {
  CryptoLoadOptions c;
  c.cipher = cipher;
  c.key_bits = key_bits;
  std::unique_ptr<Engine> engine;
  REQUIRE(open_scratch_engine(path, c, "", {false, false}, &engine).ok());
  return engine;
}

// One pass over the whole image as engine-bench runs it (sequential, 128 KiB at QD 32),
// writing (then the flush) or reading.
Status bench_pass(Engine& engine, const char* rw, WorkloadResult* r) {
  Workload w;
  w.rw = rw;
  w.block_bytes = 128 * 1024;
  w.iodepth = 32;
  w.iodepth_batch = 0;
  w.runtime_seconds = 0;
  w.size_bytes = kImageBytes;
  w.end_fsync = w.writes();
  return run_workload(engine_ports(engine), w, kImageBytes, r);
}

// The word at byte `at` of the image's pattern: no two 8-byte places of it share one.
uint64_t pattern_word(uint64_t at) { return (at * 0x9E3779B97F4A7C15ull) ^ 0x5DEECE66D; }

// Writes the pattern over the whole image through an engine port, one request at a time
// and then a flush, or reads it back and checks it: the first word that differs fails the
// pass as corrupt, naming its offset. The requests are 1 MiB, twice the engine's largest:
// the port sends each as two, as the block layer splits one for the device.
Status pattern_pass(Engine& engine, bool write) {
  constexpr uint32_t kBlock = 1024 * 1024;
  std::unique_ptr<IoPort> port;
  if (Status s = engine_ports(engine)(1, kBlock, &port); !s.ok()) return s;
  PageBuffer buffer(kBlock, 1);
  auto* words = reinterpret_cast<uint64_t*>(buffer.data());
  auto one = [&](BlockOp op, uint64_t offset, uint32_t length) {
    Status status;
    bool done = false;
    port->submit(0, op, offset, length, buffer.data());
    port->kick();
    while (!done) {
      port->wait(50, [&](unsigned, Status s) {
        status = s;
        done = true;
      });
    }
    return status;
  };
  for (uint64_t offset = 0; offset < kImageBytes; offset += kBlock) {
    for (uint32_t i = 0; write && i < kBlock / 8; ++i) words[i] = pattern_word(offset + i * 8);
    if (Status s = one(write ? BlockOp::write : BlockOp::read, offset, kBlock); !s.ok()) return s;
    for (uint32_t i = 0; !write && i < kBlock / 8; ++i)
      if (words[i] != pattern_word(offset + i * 8))
        return Status(Errc::corrupt, fmt::format("read back at offset {}: data differs from "
                                                 "what was written", offset + i * 8));
  }
  return write ? one(BlockOp::flush, 0, 0) : Status::Ok();
}

// Writes the whole image through an engine for `cipher` as engine-bench does, reads it back,
// then writes the pattern and reads it back checked.
void write_and_verify(const std::string& path, const char* cipher, uint32_t key_bits) {
  REQUIRE(create_image(path, kImageBytes, false).ok());
  std::unique_ptr<Engine> engine = scratch_engine(path, cipher, key_bits);
  for (const char* rw : {"write", "read"}) {
    CAPTURE(rw);
    WorkloadResult r;
    const uint64_t memory_before = engine_memory_bytes(*engine);
    Status s = bench_pass(*engine, rw, &r);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(r.bytes() == kImageBytes);
    CHECK(r.seconds > 0);
    // Buffered I/O: each user byte passes once through the cipher and once through the
    // kernel's copy to or from the page cache, and no more (out of place costs no pass).
    CHECK(double(engine_memory_bytes(*engine) - memory_before) / double(r.bytes()) ==
          doctest::Approx(2.0));
  }
  for (bool write : {true, false}) {
    Status s = pattern_pass(*engine, write);
    REQUIRE_MESSAGE(s.ok(), s.message());
  }
}

}  // namespace

TEST_CASE("create_image allocates the size asked and refuses an existing file unless told") {
  Scratch scratch;
  const std::string path = scratch.path("img");
  REQUIRE(create_image(path, kImageBytes, false).ok());
  CHECK(size_of(path) == kImageBytes);
  Status s = create_image(path, kImageBytes, false);
  CHECK(!s.ok());
  CHECK(s.message().find(path) != std::string::npos);
  CHECK(create_image(path, 2 * kImageBytes, true).ok());
  CHECK(size_of(path) == 2 * kImageBytes);
}

TEST_CASE("a verified sequential pass: plaintext through cipher_null, ciphertext through aes") {
  Scratch scratch;
  write_and_verify(scratch.path("plain"), "cipher_null-ecb", 0);
  write_and_verify(scratch.path("aes"), "aes-xts-plain64", 512);
  {  // the check can fail: the aes image read through cipher_null is not the pattern
    const Status s =
        pattern_pass(*scratch_engine(scratch.path("aes"), "cipher_null-ecb", 0), false);
    CHECK(s.code() == Errc::corrupt);
    CHECK(s.message().find("data differs from what was written") != std::string::npos);
  }
  const std::string plain = contents(scratch.path("plain"));
  const std::string encrypted = contents(scratch.path("aes"));
  REQUIRE(plain.size() == kImageBytes);
  REQUIRE(encrypted.size() == kImageBytes);
  // The pattern is unique per offset, so no two sectors of it are alike; none of it may
  // reach the encrypted image, sector for sector.
  CHECK(plain.compare(0, 4096, plain, 4096, 4096) != 0);
  for (uint64_t at = 0; at < kImageBytes; at += 4096) {
    CAPTURE(at);
    REQUIRE(plain.compare(at, 4096, encrypted, at, 4096) != 0);
  }
}

TEST_CASE("the provider alone: every byte encrypted and decrypted, both timed") {
  Provider* software = builtin_registry().find("software");
  REQUIRE(software != nullptr);
  CryptoLoadOptions o;  // 128 KiB runs, 32 in flight, out of place, as engine-bench
  o.seconds = 0;
  o.working_set_bytes = 0;
  o.requests = (8 << 20) / o.request_bytes;
  for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
    o.direction = direction;
    CryptoResult r;
    REQUIRE(run_crypto_load(*software, o, &r).ok());
    CHECK(r.bytes == (8u << 20));
    CHECK(r.seconds > 0);
    CHECK(r.counters.payload_bytes == r.bytes);
    CHECK(r.counters.errors == 0);
  }
}

TEST_CASE("bench crypto --rounds: every cell once per round, its median round and range shown") {
  CryptoSweepOptions o;
  o.providers = {"software"};
  o.request_sizes = {4096, 65536};
  o.depths = {2};
  o.load.seconds = 0;
  o.load.working_set_bytes = 0;
  o.load.requests = 64;
  o.rounds = 3;
  CryptoSweepReport report;
  Status s = run_crypto_sweep(o, &report);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(report.rows.size() == 2);
  const std::string table = format_table(report);
  const nlohmann::json json = to_json(report);
  CHECK(table.find("# 3 rounds, each cell once per round") != std::string::npos);
  for (size_t i = 0; i < report.rows.size(); ++i) {
    const CryptoSweepRow& row = report.rows[i];
    CAPTURE(i);
    REQUIRE(row.round_mbs.size() == 3);
    std::vector<double> sorted = row.round_mbs;
    std::sort(sorted.begin(), sorted.end());
    CHECK(row.result.mbs() == sorted[1]);
    CHECK(row.result.requests == 64);
    CHECK(table.find(fmt::format("{:.1f} [{:.0f}-{:.0f}]", sorted[1], sorted[0], sorted[2])) !=
          std::string::npos);
    CHECK(json["rows"][i]["rounds_mbs"].size() == 3);
  }
  CHECK(json["rounds"] == 3);
}

TEST_CASE("the provider alone: a depth that is not whole batches is refused before any work") {
  Provider* software = builtin_registry().find("software");
  REQUIRE(software != nullptr);
  CryptoLoadOptions o;
  o.depth = 10;
  o.batch = 4;
  CryptoResult r;
  Status s = run_crypto_load(*software, o, &r);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "bench crypto: depth 10 is not a whole number of batches of 4");
  o.batch = 0;
  CHECK(run_crypto_load(*software, o, &r).code() == Errc::invalid_argument);
  CHECK(r.requests == 0);
}

TEST_CASE("ublkcrypt engine-bench prints every cell and the ratio, and leaves no image") {
  Scratch scratch;
  const std::string image = scratch.path("bench.img");
  auto r = run(std::string(UBLKCRYPT_BINARY) + " engine-bench --size 16M --rounds 1 --path " +
               image + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  // Every row has a figure for both directions. Throughputs, CPU costs and memory passes
  // are above zero; a ratio to the core ceiling may print as 0.00 when a loaded host
  // starves one phase, so ratios only have to be there.
  for (const std::string row : {"plain engine (cipher_null)", "provider alone (encrypt / decrypt)",
                                "encrypted engine", "encrypted / min(plain, provider)",
                                "memory passes per user byte", "both parts' CPU)",
                                "encrypted / core ceiling"}) {
    CAPTURE(row);
    const size_t at = r.output.find(row);
    REQUIRE(at != std::string::npos);
    std::istringstream line(r.output.substr(at + row.size()));
    double write = -1, read = -1;
    line >> write >> read;
    REQUIRE(line);
    const bool ratio = row.rfind("encrypted / ", 0) == 0;
    CHECK((ratio ? write >= 0 : write > 0));
    CHECK((ratio ? read >= 0 : read > 0));
  }
  CHECK(size_of(image) == 0);  // removed
}

TEST_CASE("engine-bench refuses bad input in one line") {
  Scratch scratch;
  const std::string tool = std::string(UBLKCRYPT_BINARY) + " ";
  auto r = run(tool + "engine-bench --size 16M --rounds 1 --path " + scratch.path("no/dir.img") +
               " 2>&1");
  CHECK(r.exit_code == 4);
  CHECK(r.output.find(scratch.path("no/dir.img")) != std::string::npos);
  CHECK(r.output.find('\n') == r.output.size() - 1);

  r = run(tool + "engine-bench --size 1000 --path " + scratch.path("small.img") + " 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("size 1000") != std::string::npos);
  CHECK(size_of(scratch.path("small.img")) == 0);  // nothing written

  r = run(tool + "engine-bench --size 16M -c twofish-cbc-random --path " +
          scratch.path("x.img") + " 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("twofish-cbc-random") != std::string::npos);
  CHECK(size_of(scratch.path("x.img")) == 0);
}

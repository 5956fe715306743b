// RbdStorage on a real cluster, through the shipped engine: what the engine writes to an
// image another librbd client reads back as the right ciphertext, flush and FUA make
// writes visible to that other client (whose view is the cluster's, past our cache), many
// requests in flight complete each once, and bad names fail in one line.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "engine/rbd_storage.h"
#include "tests/ceph/rbd_image.h"
#include "tests/engine/engine_fixture.h"

namespace ublkcrypt {
namespace {

using namespace testing;

constexpr uint64_t kDataOffset = 4u << 20;  // one 4 MiB object of header, as LUKS2 on rbd

std::unique_ptr<Storage> open_rbd(const std::string& spec, bool read_only = false) {
  std::unique_ptr<Storage> storage;
  Status s = open_rbd_storage(spec, {.read_only = read_only}, &storage);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return storage;
}

std::vector<uint8_t> decrypt(const std::vector<uint8_t>& cipher, const TestKey& key,
                             uint64_t offset) {
  std::vector<uint8_t> plain(cipher.size());
  auto session = open_session(key);
  Status s = session->run({Direction::decrypt, cipher.data(), plain.data(),
                           offset / key.spec.sector_size,
                           uint32_t(cipher.size() / key.spec.sector_size)});
  REQUIRE_MESSAGE(s.ok(), s.message());
  return plain;
}

TEST_CASE("rbd: writes through the engine land as ciphertext another client decrypts; reads return them") {
  TestImage image(64u << 20);
  const TestKey key = make_key(CipherMode::aes_xts_plain64, 64, 4096);
  auto engine = open_engine(open_rbd(image.spec()), key, {.data_offset = kDataOffset});
  auto queue = open_queue(*engine, 8);
  std::mt19937_64 rng(7);
  // Inside one object, across an object boundary, and a large write.
  const std::vector<std::pair<uint64_t, uint32_t>> extents = {
      {0, 4096}, {(4u << 20) - 8192, 65536}, {20u << 20, 512u << 10}};
  for (auto [offset, length] : extents) {
    AlignedBuffer data(length);
    fill_random(data.data, length, rng);
    REQUIRE(run_one(*queue, BlockOp::write, offset, length, data.data).ok());
    REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
    AlignedBuffer back(length);
    REQUIRE(run_one(*queue, BlockOp::read, offset, length, back.data).ok());
    CHECK(std::memcmp(back.data, data.data, length) == 0);
    const std::vector<uint8_t> cipher = image.read(kDataOffset + offset, length);
    CHECK(std::memcmp(cipher.data(), data.data, length) != 0);
    const std::vector<uint8_t> plain = decrypt(cipher, key, offset);
    CHECK(std::memcmp(plain.data(), data.data, length) == 0);
  }
  // The header area before the data offset is never touched.
  const std::vector<uint8_t> header = image.read(0, kDataOffset);
  CHECK(std::all_of(header.begin(), header.end(), [](uint8_t b) { return b == 0; }));
}

TEST_CASE("rbd: a FUA write and a flush reach the cluster before they complete") {
  TestImage image(16u << 20);
  const TestKey key = make_key(CipherMode::aes_xts_plain64, 64, 512);
  // librbd's cache as a user may configure it: write-back (Pacific defaults to
  // write-around, which sends each write at once), dirty data kept for 30 s. It stays
  // write-through until the first flush; after that only a flush sends a write out.
  REQUIRE(::setenv("CEPH_ARGS", "--rbd_cache_policy=writeback --rbd_cache_max_dirty_age=30", 1) == 0);
  auto storage = open_rbd(image.spec());
  REQUIRE(::unsetenv("CEPH_ARGS") == 0);
  auto engine = open_engine(std::move(storage), key, {.data_offset = kDataOffset});
  auto queue = open_queue(*engine, 4);
  std::mt19937_64 rng(11);
  AlignedBuffer first(4096);
  fill_random(first.data, first.size, rng);
  REQUIRE(run_one(*queue, BlockOp::write, 0, 4096, first.data).ok());
  REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
  CHECK(decrypt(image.read(kDataOffset, 4096), key, 0) ==
        std::vector<uint8_t>(first.data, first.data + 4096));

  SUBCASE("FUA") {
    AlignedBuffer data(8192);
    fill_random(data.data, data.size, rng);
    REQUIRE(run_one(*queue, BlockOp::write, 65536, 8192, data.data, /*fua=*/true).ok());
    CHECK(decrypt(image.read(kDataOffset + 65536, 8192), key, 65536) ==
          std::vector<uint8_t>(data.data, data.data + 8192));
  }
  SUBCASE("write then flush") {
    AlignedBuffer data(8192);
    fill_random(data.data, data.size, rng);
    REQUIRE(run_one(*queue, BlockOp::write, 131072, 8192, data.data).ok());
    REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
    CHECK(decrypt(image.read(kDataOffset + 131072, 8192), key, 131072) ==
          std::vector<uint8_t>(data.data, data.data + 8192));
  }
}

TEST_CASE("rbd: many requests in flight on two queues each complete once, with the right data") {
  TestImage image(64u << 20);
  const TestKey key = make_key(CipherMode::aes_xts_plain64, 64, 4096);
  auto engine = open_engine(open_rbd(image.spec()), key, {.data_offset = kDataOffset});
  constexpr unsigned kDepth = 32;
  constexpr uint32_t kLength = 65536;
  std::mt19937_64 rng(3);
  std::vector<std::unique_ptr<AlignedBuffer>> data;
  for (unsigned i = 0; i < 2 * kDepth; ++i) {
    data.push_back(std::make_unique<AlignedBuffer>(kLength));
    fill_random(data.back()->data, kLength, rng);
  }
  // Two queues on one image handle, as two ublk queue threads would have (driven in
  // turn from this thread: the contract is per queue, not per process).
  auto q0 = open_queue(*engine, kDepth);
  auto q1 = open_queue(*engine, kDepth);
  const auto run_all = [&](BlockOp op, std::vector<std::unique_ptr<AlignedBuffer>>& buffers) {
    CompletionLog log;
    std::vector<BlockRequest> requests(2 * kDepth);
    std::vector<BlockRequest*> half[2];
    for (unsigned i = 0; i < requests.size(); ++i) {
      requests[i].op = op;
      requests[i].offset = uint64_t(i) * kLength * 3;  // scattered over many objects
      requests[i].length = kLength;
      requests[i].buffer = buffers[i]->data;
      requests[i].completion = &log;
      half[i % 2].push_back(&requests[i]);
    }
    q0->submit(half[0]);
    q1->submit(half[1]);
    while (q0->in_flight() + q1->in_flight() > 0) {
      if (q0->in_flight() > 0) q0->drain();
      if (q1->in_flight() > 0) q1->drain();
    }
    REQUIRE(log.entries.size() == requests.size());
    for (auto& request : requests) {
      const CompletionLog::Entry* e = log.find(&request);
      REQUIRE(e != nullptr);
      CHECK_MESSAGE(e->status.ok(), e->status.message());
    }
  };
  run_all(BlockOp::write, data);
  std::vector<std::unique_ptr<AlignedBuffer>> back;
  for (unsigned i = 0; i < 2 * kDepth; ++i) back.push_back(std::make_unique<AlignedBuffer>(kLength));
  run_all(BlockOp::read, back);
  for (unsigned i = 0; i < 2 * kDepth; ++i)
    CHECK_MESSAGE(std::memcmp(back[i]->data, data[i]->data, kLength) == 0, "request ", i);
}

TEST_CASE("rbd: a discard of whole objects leaves zeros on the image") {
  TestImage image(32u << 20);
  const TestKey key = make_key(CipherMode::aes_xts_plain64, 64, 4096);
  auto engine = open_engine(open_rbd(image.spec()), key,
                            {.data_offset = kDataOffset, .allow_discards = true});
  auto queue = open_queue(*engine, 4);
  AlignedBuffer data(512u << 10);
  std::memset(data.data, 0x5A, data.size);
  for (uint64_t at = 4u << 20; at < (8u << 20); at += data.size)
    REQUIRE(run_one(*queue, BlockOp::write, at, uint32_t(data.size), data.data).ok());
  REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
  const std::vector<uint8_t> before = image.read(kDataOffset + (4u << 20), 4u << 20);
  REQUIRE(std::any_of(before.begin(), before.end(), [](uint8_t b) { return b != 0; }));
  REQUIRE(run_one(*queue, BlockOp::discard, 4u << 20, 4u << 20, nullptr).ok());
  REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
  const std::vector<uint8_t> after = image.read(kDataOffset + (4u << 20), 4u << 20);
  CHECK(std::all_of(after.begin(), after.end(), [](uint8_t b) { return b == 0; }));
}

TEST_CASE("rbd: bad names, a missing pool or image, and no cluster fail in one line naming the image") {
  std::unique_ptr<Storage> storage;
  for (const char* bad : {"rbd:", "rbd:pool", "rbd:/img", "rbd:pool/", "rbd:p/ns/img", "rbd:p/img@snap"}) {
    Status s = open_rbd_storage(bad, {}, &storage);
    CHECK(s.code() == Errc::invalid_argument);
    CHECK(s.message().find(bad) != std::string::npos);
    CHECK(s.message().find('\n') == std::string::npos);
  }
  Status s = open_rbd_storage("rbd:rbd/no-such-image", {}, &storage);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() ==
        "rbd:rbd/no-such-image: no image no-such-image in pool rbd: No such file or directory");
  s = open_rbd_storage("rbd:nopool/img", {}, &storage);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "rbd:nopool/img: no pool nopool: No such file or directory");
  s = open_rbd_storage("rbd:rbd/img", {.ceph_conf = "/nonexistent/ceph.conf"}, &storage);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message().find("/nonexistent/ceph.conf") != std::string::npos);

  // A monitor address nobody listens on: the open gives up after client_mount_timeout.
  TempDir dir("/var/tmp");
  const std::string conf = dir.file("dead.conf");
  {
    FILE* f = std::fopen(conf.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fprintf(f, "[global]\nmon_host = v2:127.0.0.1:9\nclient_mount_timeout = 2\n"
                    "auth_client_required = none\n");
    std::fclose(f);
  }
  s = open_rbd_storage("rbd:rbd/img", {.ceph_conf = conf}, &storage);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message().rfind("rbd:rbd/img: cannot connect to the Ceph cluster: ", 0) == 0);
  CHECK(storage == nullptr);
}

}  // namespace
}  // namespace ublkcrypt

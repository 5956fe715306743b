// The engine against real files, real io_uring and real OpenSSL (software provider).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <functional>
#include <random>

#include "engine/storage.h"
#include "tests/engine/engine_fixture.h"
#include "tests/engine/fault_injecting_storage.h"
#include "tests/engine/random_workload.h"

using namespace ublkcrypt;
using namespace ublkcrypt::testing;

namespace {

constexpr uint64_t kImageBytes = 8 << 20;

// An engine on a fresh image whose storage the test watches.
struct WatchedVolume {
  explicit WatchedVolume(const std::string& base_dir, EngineConfig config = {},
                         bool read_only_backing = false)
      : dir(base_dir), path(dir.file("image")) {
    make_image(path, kImageBytes);
    key = make_key();
    engine = open_engine(
        std::make_unique<FaultInjectingStorage>(open_file(path, read_only_backing), &probe),
        key, config);
    queue = open_queue(*engine, 8);
  }
  TempDir dir;
  std::string path;
  TestKey key;
  StorageProbe probe;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<RingQueue> queue;
};

}  // namespace

TEST_CASE("random reads, writes and flushes match a plaintext model; disk holds ciphertext") {
  SUBCASE("O_DIRECT file on disk, 512-byte sectors, data offset") {
    random_workload({.sector_size = 512, .data_offset = 16384});
  }
  SUBCASE("O_DIRECT file on disk, 4096-byte sectors") {
    random_workload({.sector_size = 4096});
  }
  SUBCASE("tmpfs file, 4096-byte sectors, data offset") {
    random_workload({.base_dir = "/dev/shm", .sector_size = 4096, .data_offset = 1 << 20});
  }
  SUBCASE("cipher_null (runs complete inline, on the queue's thread), O_DIRECT file") {
    random_workload({.sector_size = 512, .data_offset = 16384, .mode = CipherMode::null});
  }
  SUBCASE("cipher_null, tmpfs file") {
    random_workload({.base_dir = "/dev/shm", .sector_size = 4096, .mode = CipherMode::null});
  }
}

TEST_CASE("a sector written by the engine is the provider's encryption of it at its number") {
  TempDir dir("/var/tmp");
  const std::string path = dir.file("image");
  const uint64_t data_offset = 32768;
  make_image(path, data_offset + kImageBytes);
  for (uint32_t sector_size : {512u, 4096u}) {
    CAPTURE(sector_size);
    TestKey key = make_key(CipherMode::aes_xts_plain64, 32, sector_size, 3);
    EngineConfig config;
    config.data_offset = data_offset;
    auto engine = open_engine(open_file(path), key, config);
    REQUIRE(engine->storage_info().direct_io);
    auto queue = open_queue(*engine, 4);

    const uint64_t sector = 37;
    AlignedBuffer plain(sector_size), buffer(sector_size);
    std::mt19937_64 rng(sector_size);
    fill_random(plain.data, sector_size, rng);
    std::memcpy(buffer.data, plain.data, sector_size);
    REQUIRE(run_one(*queue, BlockOp::write, sector * sector_size, sector_size, buffer.data).ok());

    std::vector<uint8_t> expected(sector_size);
    auto reference = open_session(key);
    REQUIRE(reference->run({Direction::encrypt, plain.data, expected.data(), sector, 1}).ok());
    CHECK(read_file(path, data_offset + sector * sector_size, sector_size) == expected);
    // A write is encrypted out of place: the caller's buffer still holds the plaintext.
    CHECK(std::memcmp(buffer.data, plain.data, sector_size) == 0);
    // The same plaintext one sector later encrypts differently (the IV is the position).
    std::vector<uint8_t> next(sector_size);
    REQUIRE(reference->run({Direction::encrypt, plain.data, next.data(), sector + 1, 1}).ok());
    CHECK(next != expected);
  }
}

TEST_CASE("a flush completes after the writes before it, and their data is then in the file") {
  WatchedVolume v("/var/tmp");
  CompletionLog log;
  constexpr unsigned kWrites = 6;
  std::vector<std::unique_ptr<AlignedBuffer>> buffers;
  BlockRequest writes[kWrites], flush, later;
  std::vector<std::vector<uint8_t>> plain(kWrites);
  std::mt19937_64 rng(11);
  for (unsigned i = 0; i < kWrites; ++i) {
    buffers.push_back(std::make_unique<AlignedBuffer>(65536));
    plain[i].resize(65536);
    fill_random(plain[i].data(), 65536, rng);
    std::memcpy(buffers[i]->data, plain[i].data(), 65536);
    writes[i].op = BlockOp::write;
    writes[i].offset = uint64_t(i) * 65536;
    writes[i].length = 65536;
    writes[i].buffer = buffers[i]->data;
    writes[i].completion = &log;
  }
  flush.op = BlockOp::flush;
  flush.completion = &log;
  AlignedBuffer later_buffer(4096);
  later.op = BlockOp::write;
  later.offset = 1 << 20;
  later.length = 4096;
  later.buffer = later_buffer.data;
  later.completion = &log;

  SUBCASE("in one batch") {
    BlockRequest* batch[kWrites + 1];
    for (unsigned i = 0; i < kWrites; ++i) batch[i] = &writes[i];
    batch[kWrites] = &flush;
    v.queue->submit(batch);
    v.queue->drain();
    REQUIRE(log.entries.size() == kWrites + 1);
    CHECK(log.entries.back().request == &flush);
  }
  SUBCASE("a write held in the backing holds the flush, not a later write") {
    v.probe.hold_writes = true;
    v.queue->submit(&writes[0]);
    while (v.probe.held.empty()) v.queue->wait_and_process();
    v.queue->submit(&flush);
    v.queue->submit(&later);
    // The later write completes (its storage completion is held too, so release it alone
    // by letting only writes after the first through).
    while (v.probe.held.size() < 2) v.queue->wait_and_process();
    CHECK(v.probe.count(StorageOp::flush) == 0);  // no fdatasync before the held write
    auto held = v.probe.held;
    v.probe.held = {held[1]};  // keep the first write held, release the later one
    v.probe.hold_writes = false;
    while (log.entries.empty()) v.queue->wait_and_process();
    CHECK(log.entries[0].request == &later);
    v.queue->process();
    CHECK(log.find(&flush) == nullptr);
    CHECK(v.probe.count(StorageOp::flush) == 0);
    v.probe.held = {held[0]};
    v.queue->drain();
    REQUIRE(log.entries.size() == 3);
    CHECK(log.position(&writes[0]) < log.position(&flush));
    CHECK(v.probe.count(StorageOp::flush) == 1);
  }
  for (const auto& e : log.entries) CHECK_MESSAGE(e.status.ok(), e.status.message());
  // Read past the engine, through another descriptor: the flushed data is there.
  for (unsigned i = 0; i < kWrites; ++i)
    if (log.find(&writes[i]) != nullptr)
      CHECK(decrypt_from_disk(v.path, v.key, 0, writes[i].offset, 65536) == plain[i]);
}

TEST_CASE("a FUA write reaches the backing as a durable write") {
  WatchedVolume v("/var/tmp");
  AlignedBuffer buffer(8192);
  std::memset(buffer.data, 0x5A, 8192);
  REQUIRE(run_one(*v.queue, BlockOp::write, 8192, 8192, buffer.data, true).ok());
  REQUIRE(v.probe.issued.size() == 1);
  CHECK(v.probe.issued[0].fua);
  CHECK(v.probe.issued[0].offset == 8192);
  CHECK(decrypt_from_disk(v.path, v.key, 0, 8192, 8192) == std::vector<uint8_t>(8192, 0x5A));
}

TEST_CASE("write_zeroes reads back zeros and writes encrypted zeros") {
  for (const char* base : {"/var/tmp", "/dev/shm"}) {
    CAPTURE(base);
    WatchedVolume v(base);
    // More requests than the queue's bounce buffers, each longer than max_io_bytes.
    constexpr unsigned kRequests = 6;
    constexpr uint32_t kLength = 300 * 1024;
    CompletionLog log;
    BlockRequest requests[kRequests];
    for (unsigned i = 0; i < kRequests; ++i) {
      requests[i].op = BlockOp::write_zeroes;
      requests[i].offset = uint64_t(i) * (1 << 20) + 4096;
      requests[i].length = kLength;
      requests[i].completion = &log;
      v.queue->submit(&requests[i]);
    }
    v.queue->drain();
    REQUIRE(log.entries.size() == kRequests);
    for (const auto& e : log.entries) CHECK_MESSAGE(e.status.ok(), e.status.message());
    AlignedBuffer back(kLength);
    for (unsigned i = 0; i < kRequests; ++i) {
      std::memset(back.data, 0xFF, kLength);
      REQUIRE(run_one(*v.queue, BlockOp::read, requests[i].offset, kLength, back.data).ok());
      CHECK(std::all_of(back.data, back.data + kLength, [](uint8_t b) { return b == 0; }));
      std::vector<uint8_t> raw = read_file(v.path, requests[i].offset, kLength);
      CHECK(std::count(raw.begin(), raw.end(), 0) < kLength / 64);  // ciphertext, not zeros
    }
    // Neighbours untouched: the sector before each range still decrypts to the pattern's
    // plaintext, i.e. its ciphertext is still the 0xA5 fill.
    CHECK(read_file(v.path, 0, 4096) == std::vector<uint8_t>(4096, 0xA5));
    CHECK(read_file(v.path, 4096 + kLength, 4096) == std::vector<uint8_t>(4096, 0xA5));
  }
}

TEST_CASE("discard punches a hole when allowed and is refused when not") {
  SUBCASE("allowed") {
    EngineConfig config;
    config.allow_discards = true;
    WatchedVolume v("/var/tmp", config);
    REQUIRE(run_one(*v.queue, BlockOp::discard, 1 << 20, 1 << 20, nullptr).ok());
    CHECK(v.probe.count(StorageOp::discard) == 1);
    CHECK(read_file(v.path, 1 << 20, 1 << 20) == std::vector<uint8_t>(1 << 20, 0));
    CHECK(read_file(v.path, 2 << 20, 4096) == std::vector<uint8_t>(4096, 0xA5));
    struct stat st {};
    REQUIRE(::stat(v.path.c_str(), &st) == 0);
    CHECK(uint64_t(st.st_size) == kImageBytes);
  }
  SUBCASE("not allowed (the default)") {
    WatchedVolume v("/var/tmp");
    Status s = run_one(*v.queue, BlockOp::discard, 1 << 20, 1 << 20, nullptr);
    CHECK(s.code() == Errc::unsupported);
    CHECK(s.message().find("discards are not allowed") != std::string::npos);
    CHECK(v.probe.issued.empty());
    CHECK(read_file(v.path, 1 << 20, 4096) == std::vector<uint8_t>(4096, 0xA5));
  }
}

TEST_CASE("bad requests are refused with a clear error and no I/O; the file is unchanged") {
  EngineConfig config;
  config.max_io_bytes = 128 * 1024;
  WatchedVolume v("/var/tmp", config);
  const std::vector<uint8_t> before = whole_file(v.path);
  AlignedBuffer buffer(256 * 1024);
  struct Case {
    const char* what;
    BlockOp op;
    uint64_t offset;
    uint32_t length;
    uint8_t* buffer;
    const char* cause;
  };
  const Case cases[] = {
      {"misaligned offset", BlockOp::write, 4097, 4096, buffer.data, "multiple of the 512-byte"},
      {"misaligned length", BlockOp::write, 4096, 1000, buffer.data, "multiple of the 512-byte"},
      {"past the end", BlockOp::write, kImageBytes - 512, 1024, buffer.data, "beyond the end"},
      {"far past the end", BlockOp::read, ~uint64_t{0} - 511, 512, buffer.data, "beyond the end"},
      {"zero length", BlockOp::write, 0, 0, buffer.data, "zero length"},
      {"over max_io_bytes", BlockOp::write, 0, 256 * 1024, buffer.data, "maximum I/O"},
      {"unaligned buffer", BlockOp::write, 0, 4096, buffer.data + 512, "aligned"},
      {"no buffer", BlockOp::read, 0, 4096, nullptr, "no buffer"},
      {"write_zeroes past the end", BlockOp::write_zeroes, kImageBytes, 512, nullptr,
       "beyond the end"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Status s = run_one(*v.queue, c.op, c.offset, c.length, c.buffer);
    CHECK(s.code() == Errc::invalid_argument);
    CHECK_MESSAGE(s.message().find(c.cause) != std::string::npos, s.message());
    CHECK_MESSAGE(s.message().find(v.path) != std::string::npos, s.message());
  }
  CHECK(v.probe.issued.empty());
  CHECK(whole_file(v.path) == before);
}

TEST_CASE("a read-only volume refuses changes and still reads") {
  TempDir dir("/var/tmp");
  const std::string path = dir.file("image");
  make_image(path, kImageBytes);
  StorageProbe probe;
  EngineConfig config;
  config.read_only = true;
  config.allow_discards = true;
  auto engine = open_engine(
      std::make_unique<FaultInjectingStorage>(open_file(path, true), &probe), make_key(), config);
  auto queue = open_queue(*engine, 4);
  AlignedBuffer buffer(4096);
  for (BlockOp op : {BlockOp::write, BlockOp::write_zeroes, BlockOp::discard}) {
    Status s = run_one(*queue, op, 0, 4096, buffer.data);
    CHECK(s.code() == Errc::permission);
    CHECK(s.message().find("read-only") != std::string::npos);
  }
  CHECK(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
  CHECK(probe.issued.empty());
  CHECK(run_one(*queue, BlockOp::read, 0, 4096, buffer.data).ok());
  CHECK(probe.count(StorageOp::read) == 1);
}

TEST_CASE("a short read of a truncated backing is reported, not zero-filled") {
  WatchedVolume v("/dev/shm");
  AlignedBuffer buffer(65536);
  std::memset(buffer.data, 0x11, 65536);
  REQUIRE(run_one(*v.queue, BlockOp::write, kImageBytes - 65536, 65536, buffer.data).ok());
  REQUIRE(::truncate(v.path.c_str(), kImageBytes - 16384) == 0);
  std::memset(buffer.data, 0x77, 65536);
  Status s = run_one(*v.queue, BlockOp::read, kImageBytes - 65536, 65536, buffer.data);
  CHECK(s.code() == Errc::io_error);
  CHECK_MESSAGE(s.message().find("short read") != std::string::npos, s.message());
  CHECK_MESSAGE(s.message().find(v.path) != std::string::npos, s.message());
  // Fully past the new end: nothing read at all.
  s = run_one(*v.queue, BlockOp::read, kImageBytes - 8192, 8192, buffer.data);
  CHECK(s.code() == Errc::io_error);
}

TEST_CASE("a failing write fails only its own request") {
  WatchedVolume v("/var/tmp");
  v.probe.fail_write_number = 3;
  CompletionLog log;
  constexpr unsigned kWrites = 5;
  std::vector<std::unique_ptr<AlignedBuffer>> buffers;
  BlockRequest writes[kWrites];
  for (unsigned i = 0; i < kWrites; ++i) {
    buffers.push_back(std::make_unique<AlignedBuffer>(4096));
    std::memset(buffers[i]->data, int(i + 1), 4096);
    writes[i].op = BlockOp::write;
    writes[i].offset = uint64_t(i) * 4096;
    writes[i].length = 4096;
    writes[i].buffer = buffers[i]->data;
    writes[i].completion = &log;
    v.queue->submit(&writes[i]);
    v.queue->drain();  // one at a time, so "the third write" is writes[2]
  }
  REQUIRE(log.entries.size() == kWrites);
  for (unsigned i = 0; i < kWrites; ++i) {
    const Status& s = log.find(&writes[i])->status;
    if (i == 2) {
      CHECK(s.code() == Errc::io_error);
      CHECK(read_file(v.path, 2 * 4096, 4096) == std::vector<uint8_t>(4096, 0xA5));
    } else {
      CHECK_MESSAGE(s.ok(), s.message());
      CHECK(decrypt_from_disk(v.path, v.key, 0, i * 4096, 4096) ==
            std::vector<uint8_t>(4096, uint8_t(i + 1)));
    }
  }
}

TEST_CASE("a failed flush sticks: every later flush fails until the engine is closed") {
  WatchedVolume v("/var/tmp");
  v.probe.fail_flush_number = 1;
  AlignedBuffer buffer(4096);
  std::memset(buffer.data, 0x42, 4096);
  REQUIRE(run_one(*v.queue, BlockOp::write, 0, 4096, buffer.data).ok());
  Status first = run_one(*v.queue, BlockOp::flush, 0, 0, nullptr);
  CHECK(first.code() == Errc::io_error);
  CHECK(first.message() == "injected flush failure");
  // The backing's next fdatasync succeeds; the flush still fails, naming the first cause.
  REQUIRE(run_one(*v.queue, BlockOp::write, 4096, 4096, buffer.data).ok());
  for (int i = 0; i < 2; ++i) {
    Status later = run_one(*v.queue, BlockOp::flush, 0, 0, nullptr);
    CHECK(later.code() == Errc::io_error);
    CHECK(later.message() == "flush " + v.path + ": the backing failed earlier (injected "
                             "flush failure); writes may be lost, and every flush fails until "
                             "the volume is closed");
  }
  CHECK(v.probe.count(StorageOp::flush) == 3);  // each still reached the backing
  // Reads and writes go on; a new engine on the backing (the volume reopened) flushes.
  CHECK(run_one(*v.queue, BlockOp::read, 0, 4096, buffer.data).ok());
  v.queue.reset();
  v.engine = open_engine(open_file(v.path), v.key);
  auto queue = open_queue(*v.engine, 4);
  CHECK(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
}

TEST_CASE("a failed write of the backing makes every later flush fail") {
  WatchedVolume v("/var/tmp");
  v.probe.fail_write_number = 1;
  AlignedBuffer buffer(4096);
  CHECK(run_one(*v.queue, BlockOp::write, 0, 4096, buffer.data).code() == Errc::io_error);
  REQUIRE(run_one(*v.queue, BlockOp::write, 4096, 4096, buffer.data).ok());
  Status flush = run_one(*v.queue, BlockOp::flush, 0, 0, nullptr);
  CHECK(flush.code() == Errc::io_error);
  CHECK(flush.message().find("the backing failed earlier (injected write failure)") !=
        std::string::npos);
}

TEST_CASE("engine geometry is checked against the backing") {
  TempDir dir("/var/tmp");
  const std::string path = dir.file("image");
  make_image(path, 1 << 20);
  auto create = [&](EngineConfig config, bool read_only_backing = false,
                    uint32_t sector_size = 512) {
    std::unique_ptr<Engine> engine;
    TestKey key = make_key(CipherMode::aes_xts_plain64, 64, sector_size);
    return Engine::create(config, open_file(path, read_only_backing), open_session(key),
                          &engine);
  };
  EngineConfig config;
  config.data_offset = (1 << 20) - 256;
  Status s = create(config);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == path + ": data offset 1048320 is not a multiple of the backing's "
                              "512-byte logical block");
  config.data_offset = (1 << 20) - 2048;
  s = create(config, false, 4096);
  CHECK(s.message().find("backing too small") != std::string::npos);
  config = {};
  config.size_bytes = 1000;
  CHECK(create(config).message().find("not a multiple of the 512-byte sector") !=
        std::string::npos);
  config.size_bytes = 2 << 20;
  CHECK(create(config).message().find("beyond the backing") != std::string::npos);
  CHECK(create({}, true).code() == Errc::permission);
  config = {};
  config.read_only = true;
  CHECK(create(config, true).ok());
}

TEST_CASE("a resize follows the backing as it is now, keeps the data, and refuses what does not fit") {
  for (const char* base : {"/var/tmp", "/dev/shm"}) {  // O_DIRECT, and the mapped tmpfs file
    CAPTURE(base);
    constexpr uint64_t kOffset = 16384;
    EngineConfig config;
    config.data_offset = kOffset;
    WatchedVolume v(base, config);
    const uint64_t old_size = kImageBytes - kOffset;
    REQUIRE(v.engine->size_bytes() == old_size);
    AlignedBuffer tail(65536), grown(65536), back(65536);
    std::mt19937_64 rng(7);
    fill_random(tail.data, 65536, rng);
    fill_random(grown.data, 65536, rng);
    REQUIRE(run_one(*v.queue, BlockOp::write, old_size - 65536, 65536, tail.data).ok());
    v.queue.reset();  // a resize happens with no queue open (the disk is stopped)

    // The file grows: the volume follows it to its end, as a new open would.
    REQUIRE(::truncate(v.path.c_str(), kImageBytes + (4 << 20)) == 0);
    uint64_t planned = 0;
    REQUIRE(v.engine->resized_size(0, &planned).ok());
    CHECK(planned == old_size + (4 << 20));
    CHECK(v.engine->size_bytes() == old_size);  // planning changes nothing
    REQUIRE(v.engine->resize(0).ok());
    CHECK(v.engine->size_bytes() == planned);
    v.queue = open_queue(*v.engine, 8);
    REQUIRE(run_one(*v.queue, BlockOp::write, planned - 65536, 65536, grown.data).ok());
    REQUIRE(run_one(*v.queue, BlockOp::read, planned - 65536, 65536, back.data).ok());
    CHECK(std::memcmp(back.data, grown.data, 65536) == 0);
    REQUIRE(run_one(*v.queue, BlockOp::read, old_size - 65536, 65536, back.data).ok());
    CHECK(std::memcmp(back.data, tail.data, 65536) == 0);
    CHECK(decrypt_from_disk(v.path, v.key, kOffset, planned - 65536, 65536) ==
          std::vector<uint8_t>(grown.data, grown.data + 65536));

    // Sizes that do not fit are refused, naming the backing, and change nothing.
    v.queue.reset();
    Status s = v.engine->resize(planned + 512);
    CHECK(s.code() == Errc::invalid_argument);
    CHECK_MESSAGE(s.message().find(v.path + ": volume size") == 0, s.message());
    CHECK_MESSAGE(s.message().find("beyond the backing") != std::string::npos, s.message());
    s = v.engine->resize(1 << 20 | 100);
    CHECK_MESSAGE(s.message().find("not a multiple of the 512-byte sector") != std::string::npos, s.message());
    CHECK(v.engine->size_bytes() == planned);

    // Shrunk to 1 MiB: the end moves, the start still reads as written.
    REQUIRE(v.engine->resize(1 << 20).ok());
    CHECK(v.engine->size_bytes() == 1 << 20);
    v.queue = open_queue(*v.engine, 8);
    s = run_one(*v.queue, BlockOp::read, 1 << 20, 512, back.data);
    CHECK(s.code() == Errc::invalid_argument);
    CHECK_MESSAGE(s.message().find("beyond the end of the 1048576-byte volume") != std::string::npos, s.message());
    CHECK(run_one(*v.queue, BlockOp::read, (1 << 20) - 4096, 4096, back.data).ok());
  }
}

// A file backing that states a preferred request size, as an rbd image states its object.
class PreferringStorage final : public Storage {
 public:
  PreferringStorage(std::unique_ptr<Storage> inner, uint32_t preferred)
      : inner_(std::move(inner)), info_(inner_->info()) {
    info_.preferred_max_io_bytes = preferred;
  }
  const StorageInfo& info() const override { return info_; }
  Status open_queue(unsigned depth, IoRing* ring, std::unique_ptr<StorageQueue>* out) override {
    return inner_->open_queue(depth, ring, out);
  }

 private:
  std::unique_ptr<Storage> inner_;
  StorageInfo info_;
};

TEST_CASE("the largest request follows the backing's preference, within what a device takes") {
  TempDir dir("/var/tmp");
  const std::string path = dir.file("image");
  make_image(path, 4 << 20);
  auto max_io = [&](uint32_t preferred, uint32_t configured) -> uint32_t {
    EngineConfig config;
    config.max_io_bytes = configured;
    std::unique_ptr<Engine> engine;
    TestKey key = make_key(CipherMode::aes_xts_plain64, 64, 4096);
    Status s = Engine::create(
        config, std::make_unique<PreferringStorage>(open_file(path, false), preferred),
        open_session(key), &engine);
    REQUIRE_MESSAGE(s.ok(), s.message());
    return engine->config().max_io_bytes;
  };
  CHECK(max_io(0, 0) == kDefaultMaxIoBytes);
  CHECK(max_io(64 << 10, 0) == kDefaultMaxIoBytes);  // smaller objects: no reason to split more
  CHECK(max_io(768 << 10, 0) == 768u << 10);
  CHECK(max_io(4 << 20, 0) == kLargestMaxIoBytes);  // rbd's default object
  CHECK(max_io(4 << 20, 128 << 10) == 128u << 10);  // a configured size wins
}

// FileStorage on real files: what it refuses, what it reports, and a round trip.
#include <doctest/doctest.h>
#include <unistd.h>

#include "engine/io_ring.h"
#include "engine/storage.h"
#include "tests/engine/engine_fixture.h"

using namespace ublkcrypt;
using namespace ublkcrypt::testing;

namespace {

struct Done final : StorageCompletion {
  Status status;
  uint32_t bytes = 0;
  bool done = false;
  void storage_done(StorageIo*, Status s, uint32_t b) override {
    status = std::move(s);
    bytes = b;
    done = true;
  }
};

// Submits one I/O and waits on the ring, as a queue thread would: reap after the kick
// (an I/O done at once) and after every dispatch.
Done run_io(IoRing& ring, StorageQueue& queue, StorageIo& io) {
  Done done;
  io.completion = &done;
  queue.submit(&io);
  queue.kick();
  queue.reap();
  while (!done.done) {
    int r;
    do r = ring.submit(1);
    while (r == -EINTR);
    REQUIRE(r >= 0);
    ring.dispatch();
    queue.reap();
  }
  return done;
}

}  // namespace

TEST_CASE("open_file_storage refuses what cannot be a backing, in one line naming the path") {
  TempDir dir("/var/tmp");
  std::unique_ptr<Storage> storage;
  const std::string missing = dir.file("missing");
  Status s = open_file_storage(missing, {}, &storage);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "open " + missing + ": No such file or directory");

  const std::string tiny = dir.file("tiny");
  make_image(tiny, 511);
  s = open_file_storage(tiny, {}, &storage);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find(tiny + ": backing too small (511 bytes") == 0);

  s = open_file_storage("/var/tmp", {}, &storage);
  CHECK(s.code() != Errc::ok);
  CHECK(s.message().find("/var/tmp") != std::string::npos);
  CHECK(storage == nullptr);
}

TEST_CASE("file storage says how it opened the backing") {
  // On disk O_DIRECT bypasses the page cache; on tmpfs the page cache is the storage.
  for (auto [base, direct] : {std::pair{"/var/tmp", true}, std::pair{"/dev/shm", false}}) {
    CAPTURE(base);
    TempDir dir(base);
    const std::string path = dir.file("image");
    make_image(path, 1 << 20);
    std::unique_ptr<Storage> storage;
    REQUIRE(open_file_storage(path, {false, true}, &storage).ok());
    CHECK(storage->info().direct_io == direct);
    CHECK(storage->info().size_bytes == 1 << 20);
    CHECK_FALSE(storage->info().block_device);
    CHECK(storage->info().name == path);
    REQUIRE(open_file_storage(path, {true, false}, &storage).ok());
    CHECK_FALSE(storage->info().direct_io);
    CHECK(storage->info().read_only);
  }
}

TEST_CASE("file storage writes, reads, flushes and reports a read past the end as short") {
  // /dev/shm: through the shared mapping, and past its end (the file shrank) the system
  // call, which sees the short read.
  for (const char* base : {"/var/tmp", "/dev/shm"}) {
    CAPTURE(base);
    TempDir dir(base);
    const std::string path = dir.file("image");
    make_image(path, 1 << 20);
    std::unique_ptr<Storage> storage;
    REQUIRE(open_file_storage(path, {}, &storage).ok());
    IoRing ring;
    REQUIRE(ring.init(16, 0, /*cooperative=*/true).ok());
    std::unique_ptr<StorageQueue> queue;
    REQUIRE(storage->open_queue(4, &ring, &queue).ok());

    AlignedBuffer buffer(65536);
    std::memset(buffer.data, 0x3C, 65536);
    StorageIo write;
    write.op = StorageOp::write;
    write.offset = 4096;
    write.length = 65536;
    write.buffer = buffer.data;
    Done d = run_io(ring, *queue, write);
    CHECK(d.status.ok());
    CHECK(d.bytes == 65536);
    StorageIo flush;
    flush.op = StorageOp::flush;
    CHECK(run_io(ring, *queue, flush).status.ok());
    CHECK(read_file(path, 4096, 65536) == std::vector<uint8_t>(65536, 0x3C));

    StorageIo read;
    read.op = StorageOp::read;
    read.offset = (1 << 20) - 8192;
    read.length = 65536;
    read.buffer = buffer.data;
    d = run_io(ring, *queue, read);
    CHECK(d.status.ok());
    CHECK(d.bytes == 8192);  // what exists, reported as such; the caller decides

    // The file shrinks under the open storage: a read that reaches past the new end gets
    // what is left (no SIGBUS on /dev/shm, no zero fill); one inside it, the data.
    REQUIRE(::truncate(path.c_str(), 36864) == 0);
    read.offset = 4096;
    std::memset(buffer.data, 0, 65536);
    d = run_io(ring, *queue, read);
    CHECK(d.status.ok());
    CHECK(d.bytes == 32768);
    CHECK(std::vector<uint8_t>(buffer.data, buffer.data + 32768) ==
          std::vector<uint8_t>(32768, 0x3C));
    read.length = 4096;
    d = run_io(ring, *queue, read);
    CHECK(d.bytes == 4096);

    queue.reset();
  }
}

TEST_CASE("storage I/O into buffers declared to the ring goes through their registration") {
  TempDir dir("/var/tmp");  // O_DIRECT through the ring, as on a disk
  const std::string path = dir.file("image");
  make_image(path, 1 << 20);
  std::unique_ptr<Storage> storage;
  REQUIRE(open_file_storage(path, {}, &storage).ok());
  IoRing ring;
  REQUIRE(ring.init(16, 0, /*cooperative=*/true).ok());
  // Two regions, as a queue thread's request buffers and the engine's bounce buffers.
  constexpr size_t kStride = 65536;
  AlignedBuffer requests(4 * kStride), bounce(2 * kStride);
  ring.add_fixed_region(requests.data, kStride, 4);
  ring.add_fixed_region(bounce.data, kStride, 2);
  std::unique_ptr<StorageQueue> queue;
  REQUIRE(storage->open_queue(4, &ring, &queue).ok());

  // Each buffer has its own index; a range that leaves its buffer, or lies outside every
  // region, has none (a plain read or write serves it).
  CHECK(ring.fixed_buffer(requests.data, kStride) == 0);
  CHECK(ring.fixed_buffer(requests.data + 3 * kStride + 4096, 8192) == 3);
  CHECK(ring.fixed_buffer(bounce.data, 4096) == 4);
  CHECK(ring.fixed_buffer(requests.data + kStride + 4096, kStride) == -1);
  AlignedBuffer elsewhere(kStride);
  CHECK(ring.fixed_buffer(elsewhere.data, 4096) == -1);
  // Declared after the table was made: never registered.
  ring.add_fixed_region(elsewhere.data, kStride, 1);
  CHECK(ring.fixed_buffer(elsewhere.data, 4096) == -1);

  // A registration covers what I/O has used of its buffer: a 4 KiB read registers 4 KiB of
  // request buffer 2, and the whole-buffer write below must register it again, larger.
  StorageIo small;
  small.op = StorageOp::read;
  small.offset = 0;
  small.length = 4096;
  small.buffer = requests.data + 2 * kStride;
  Done d = run_io(ring, *queue, small);
  CHECK(d.status.ok());
  CHECK(std::vector<uint8_t>(small.buffer, small.buffer + 4096) == std::vector<uint8_t>(4096, 0xA5));

  // A write from request buffer 2 and a read into bounce buffer 1 move the right bytes:
  // an index naming another buffer would fail the I/O (the kernel checks the address lies
  // in the registered buffer) or land the data elsewhere.
  std::memset(requests.data + 2 * kStride, 0x5A, kStride);
  StorageIo write;
  write.op = StorageOp::write;
  write.offset = 8192;
  write.length = kStride;
  write.buffer = requests.data + 2 * kStride;
  d = run_io(ring, *queue, write);
  CHECK(d.status.ok());
  CHECK(d.bytes == kStride);
  CHECK(read_file(path, 8192, kStride) == std::vector<uint8_t>(kStride, 0x5A));

  StorageIo read;
  read.op = StorageOp::read;
  read.offset = 4096;
  read.length = 2 * 4096 + 4096;
  read.buffer = bounce.data + kStride + 4096;
  d = run_io(ring, *queue, read);
  CHECK(d.status.ok());
  CHECK(d.bytes == 3 * 4096);
  std::vector<uint8_t> expect(3 * 4096, 0x5A);
  std::memset(expect.data(), 0xA5, 4096);  // the image's own bytes before the write
  CHECK(std::vector<uint8_t>(read.buffer, read.buffer + 3 * 4096) == expect);
  CHECK(std::vector<uint8_t>(bounce.data, bounce.data + kStride) == std::vector<uint8_t>(kStride, 0));
  queue.reset();
}

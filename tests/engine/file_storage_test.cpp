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

// An OSD that stops answering mid-I/O (SIGSTOP: a hung daemon, the network path gone
// silent): the engine's write on an rbd image, or the flush after it, fails after the
// storage's deadline, in one line naming the image, instead of hanging; no later flush
// claims success; what was flushed before stays on the cluster; and reopened, the volume
// writes and flushes again. Runs alone (ctest RUN_SERIAL): it stops the OSD every other
// rbd test uses.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>

#include "engine/rbd_storage.h"
#include "tests/ceph/rbd_image.h"
#include "tests/engine/engine_fixture.h"

namespace ublkcrypt {
namespace {

using namespace testing;

constexpr uint64_t kDataOffset = 4u << 20;

// The test cluster's OSD stopped for the scope's life, continued however the scope ends:
// by the destructor, or, should this process die in between (ctest's timeout), by a child
// that continues it after 60 s, so the tests after this one find a cluster that answers.
class StoppedOsd {
 public:
  StoppedOsd() {
    const char* pid_file = std::getenv("CEPH_OSD_PID_FILE");
    REQUIRE_MESSAGE(pid_file != nullptr, "CEPH_OSD_PID_FILE names no OSD");
    std::ifstream in(pid_file);
    in >> pid_;
    REQUIRE(pid_ > 0);
    guard_ = ::fork();
    REQUIRE(guard_ >= 0);
    if (guard_ == 0) {
      ::sleep(60);
      ::kill(pid_, SIGCONT);
      ::_exit(0);
    }
    REQUIRE(::kill(pid_, SIGSTOP) == 0);
  }
  ~StoppedOsd() {
    ::kill(pid_, SIGCONT);
    ::kill(guard_, SIGKILL);
    ::waitpid(guard_, nullptr, 0);
  }
  StoppedOsd(const StoppedOsd&) = delete;
  StoppedOsd& operator=(const StoppedOsd&) = delete;

 private:
  pid_t pid_ = 0;
  pid_t guard_ = -1;
};

TEST_CASE("rbd: writes to an OSD that stopped answering fail after the deadline; flushed data stays") {
  TestImage image(16u << 20);
  const TestKey key = make_key(CipherMode::aes_xts_plain64, 64, 512);
  std::unique_ptr<Storage> storage;
  Status s = open_rbd_storage(image.spec(), {.osd_timeout_s = 3}, &storage);
  REQUIRE_MESSAGE(s.ok(), s.message());
  auto engine = open_engine(std::move(storage), key, {.data_offset = kDataOffset});
  auto queue = open_queue(*engine, 4);
  std::mt19937_64 rng(5);
  AlignedBuffer kept(8192), lost(8192), after(8192);
  fill_random(kept.data, kept.size, rng);
  fill_random(lost.data, lost.size, rng);
  fill_random(after.data, after.size, rng);
  REQUIRE(run_one(*queue, BlockOp::write, 65536, 8192, kept.data).ok());
  REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());

  {
    StoppedOsd stopped;
    // librbd's default cache (write-around) acknowledges a write while it is in flight, as a
    // disk's volatile cache does; the flush then waits for it. One of the two fails, and
    // returns at all only because the operation timed out: without the deadline it waits
    // for ever (ctest's timeout then fails the test).
    Status failed = run_one(*queue, BlockOp::write, 0, 8192, lost.data);
    const char* what = "write ";
    if (failed.ok()) {
      failed = run_one(*queue, BlockOp::flush, 0, 0, nullptr);
      what = "flush ";
    }
    CHECK_FALSE(failed.ok());
    INFO(failed.message());
    CHECK(failed.message().rfind(what + image.spec(), 0) == 0);
    CHECK(failed.message().find("Connection timed out") != std::string::npos);
    CHECK(failed.message().find('\n') == std::string::npos);
  }

  // The OSD answers again. The engine never reports a flush as done after one failed
  // (the writes it covered may be gone): every later flush fails until the volume is
  // reopened. Reads go on, and the flushed write is there, for this engine and for
  // another client. (The write that failed may or may not have landed: a failed write
  // leaves its range undefined, as on a disk.)
  Status again = run_one(*queue, BlockOp::write, 131072, 8192, after.data);
  if (again.ok()) again = run_one(*queue, BlockOp::flush, 0, 0, nullptr);
  CHECK_FALSE(again.ok());
  AlignedBuffer back(8192);
  REQUIRE(run_one(*queue, BlockOp::read, 65536, 8192, back.data).ok());
  CHECK(std::equal(back.data, back.data + 8192, kept.data));
  const std::vector<uint8_t> raw = image.read(kDataOffset + 65536, 8192);
  auto session = open_session(key);
  std::vector<uint8_t> plain(8192);
  REQUIRE(session->run({Direction::decrypt, raw.data(), plain.data(), 65536 / 512, 16}).ok());
  CHECK(std::equal(plain.begin(), plain.end(), kept.data));

  // Reopened, the volume writes and flushes as before.
  queue.reset();
  engine.reset();
  s = open_rbd_storage(image.spec(), {.osd_timeout_s = 3}, &storage);
  REQUIRE_MESSAGE(s.ok(), s.message());
  engine = open_engine(std::move(storage), key, {.data_offset = kDataOffset});
  queue = open_queue(*engine, 4);
  REQUIRE(run_one(*queue, BlockOp::write, 131072, 8192, after.data).ok());
  REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
  REQUIRE(run_one(*queue, BlockOp::read, 131072, 8192, back.data).ok());
  CHECK(std::equal(back.data, back.data + 8192, after.data));
}

}  // namespace
}  // namespace ublkcrypt

// The dm-log-writes reader and replayer against logs built here by hand, byte by byte, from
// the layout the kernel documents (Documentation/admin-guide/device-mapper/log-writes.rst,
// drivers/md/dm-log-writes.c): super in block 0, then per entry one header block followed by
// the data blocks (none for marks, flushes and discards), sector numbers in blocks.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fixtures/log_writes/log_replay.h"
#include "fixtures/log_writes/log_writes_reader.h"

namespace ublkcrypt::log_writes {
namespace {

void put_le(std::vector<uint8_t>& out, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = uint8_t(v >> (8 * i));
}

// A log as dm-log-writes would leave it on a device of `block`-byte logical blocks.
class LogBuilder {
 public:
  explicit LogBuilder(uint32_t block) : block_(block), bytes_(block, 0) {}

  void write(uint64_t sector, uint64_t blocks, char fill, uint64_t flags = 0) {
    header(sector, blocks, flags, 0);
    bytes_.resize(bytes_.size() + blocks * block_, uint8_t(fill));
  }
  void flush() { header(0, 0, kFlush, 0); }
  void discard(uint64_t sector, uint64_t blocks) { header(sector, blocks, kDiscard, 0); }
  void mark(const std::string& text) {
    const size_t at = header(0, 0, kMark, text.size());
    std::memcpy(&bytes_[at + 32], text.data(), text.size());
  }
  void raw_header(uint64_t sector, uint64_t blocks, uint64_t flags) { header(sector, blocks, flags, 0); }

  // The super counts `entries` (the kernel updates it only at FUA writes and marks, so a
  // log can hold more entries than its super says).
  std::string save(uint64_t entries, uint64_t magic = kMagic) {
    put_le(bytes_, 0, magic, 8);
    put_le(bytes_, 8, kVersion, 8);
    put_le(bytes_, 16, entries, 8);
    put_le(bytes_, 24, block_, 4);
    char name[] = "/tmp/log-writes-test-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, bytes_.data(), bytes_.size()) == ssize_t(bytes_.size()));
    ::close(fd);
    paths_.push_back(name);
    return name;
  }
  uint64_t entries() const { return entries_; }
  ~LogBuilder() {
    for (const std::string& p : paths_) ::unlink(p.c_str());
  }

 private:
  size_t header(uint64_t sector, uint64_t blocks, uint64_t flags, uint64_t data_len) {
    const size_t at = bytes_.size();
    bytes_.resize(at + block_, 0);
    put_le(bytes_, at, sector, 8);
    put_le(bytes_, at + 8, blocks, 8);
    put_le(bytes_, at + 16, flags, 8);
    put_le(bytes_, at + 24, data_len, 8);
    ++entries_;
    return at;
  }

  uint32_t block_;
  std::vector<uint8_t> bytes_;
  uint64_t entries_ = 0;
  std::vector<std::string> paths_;
};

// The scenario every test replays: two writes and a flush, mark "one"; a FUA overwrite and a
// discard, mark "two"; one more write that no mark covers; and, past what the super counts,
// a stray entry that must never be applied.
std::unique_ptr<LogWritesReader> open_standard_log(LogBuilder& b) {
  b.write(2, 2, 'A');
  b.write(10, 1, 'B', kMetadata);
  b.flush();
  b.mark("one");
  b.write(2, 1, 'C', kFua);
  b.discard(10, 1);
  b.mark("two");
  b.write(0, 1, 'D');
  const uint64_t counted = b.entries();
  b.write(4, 1, 'X');
  std::unique_ptr<LogWritesReader> log;
  REQUIRE(LogWritesReader::open(b.save(counted), &log).ok());
  return log;
}

struct Target {
  Target() {
    char name[] = "/tmp/log-writes-target-XXXXXX";
    fd = ::mkstemp(name);
    path = name;
  }
  ~Target() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  // The target's bytes, 16 blocks of `block` (zeros where nothing was written).
  std::string contents(uint32_t block) const {
    std::string out(16 * block, '\0');
    const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
    REQUIRE(n >= 0);
    return out;
  }
  int fd;
  std::string path;
};

std::string expected(uint32_t block, std::initializer_list<std::pair<uint64_t, char>> blocks) {
  std::string out(16 * block, '\0');
  for (auto [sector, fill] : blocks) std::memset(&out[sector * block], fill, block);
  return out;
}

}  // namespace

TEST_CASE("the reader decodes each entry of a hand-built log at its documented offset") {
  for (uint32_t block : {512u, 4096u}) {
    CAPTURE(block);
    LogBuilder b(block);
    const std::unique_ptr<LogWritesReader> log = open_standard_log(b);
    CHECK(log->sector_size() == block);
    CHECK(log->entry_count() == 8);

    std::vector<LogEntry> entries;
    for (;;) {
      LogEntry e;
      bool end = false;
      REQUIRE(log->next(&e, &end).ok());
      if (end) break;
      entries.push_back(e);
    }
    REQUIRE(entries.size() == 8);  // the stray ninth entry is not read
    // Header blocks: 1, then 1 + 1 + 2 = 4, then 4 + 1 + 1 = 6, 7, 8, 9 + 1 = 10, 11, 12.
    const uint64_t header_block[] = {1, 4, 6, 7, 8, 10, 11, 12};
    for (size_t i = 0; i < entries.size(); ++i) {
      CAPTURE(i);
      CHECK(entries[i].index == i);
      CHECK(entries[i].data_offset == (header_block[i] + 1) * block);
    }
    CHECK(entries[0].sector == 2);
    CHECK(entries[0].nr_sectors == 2);
    CHECK(entries[0].has_data());
    CHECK(entries[1].flags == kMetadata);
    CHECK(entries[2].flags == kFlush);
    CHECK_FALSE(entries[2].has_data());
    CHECK(entries[3].is_mark());
    CHECK(entries[3].mark == "one");
    CHECK(entries[4].flags == kFua);
    CHECK(entries[5].is_discard());
    CHECK_FALSE(entries[5].has_data());
    CHECK(entries[6].mark == "two");

    std::vector<uint8_t> data(2 * block);
    REQUIRE(log->read_data(entries[0], data).ok());
    CHECK(std::all_of(data.begin(), data.end(), [](uint8_t c) { return c == 'A'; }));
    data.resize(block);
    REQUIRE(log->read_data(entries[4], data).ok());
    CHECK(std::all_of(data.begin(), data.end(), [](uint8_t c) { return c == 'C'; }));
  }
}

TEST_CASE("a replay to each mark leaves the target as the device stood at that mark") {
  for (uint32_t block : {512u, 4096u}) {
    CAPTURE(block);
    LogBuilder b(block);
    const std::unique_ptr<LogWritesReader> log = open_standard_log(b);
    Target target;
    LogReplay replay(log.get(), target.fd, target.path);

    std::string mark;
    bool end = false;
    REQUIRE(replay.replay_to_next_mark(&mark, &end).ok());
    REQUIRE_FALSE(end);
    CHECK(mark == "one");
    CHECK(target.contents(block) == expected(block, {{2, 'A'}, {3, 'A'}, {10, 'B'}}));

    REQUIRE(replay.replay_to_next_mark(&mark, &end).ok());
    REQUIRE_FALSE(end);
    CHECK(mark == "two");
    // The FUA write replaced block 2 only; the discard zeroed block 10.
    CHECK(target.contents(block) == expected(block, {{2, 'C'}, {3, 'A'}}));

    REQUIRE(replay.replay_to_next_mark(&mark, &end).ok());
    CHECK(end);
    CHECK(target.contents(block) == expected(block, {{0, 'D'}, {2, 'C'}, {3, 'A'}}));

    const ReplayCounts& c = replay.counts();
    CHECK(c.writes == 4);
    CHECK(c.fua == 1);
    CHECK(c.flushes == 1);
    CHECK(c.discards == 1);
    CHECK(c.marks == 2);
    CHECK(c.bytes == 5 * block);
  }
}

TEST_CASE("what is not a dm-log-writes log is refused with one line naming it") {
  LogBuilder b(512);
  b.write(0, 1, 'A');
  std::unique_ptr<LogWritesReader> log;

  const std::string wrong_magic = b.save(1, 0x1234);
  Status s = LogWritesReader::open(wrong_magic, &log);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message() == "log " + wrong_magic + ": magic 0x1234, not a dm-log-writes log");

  // The super counts two entries; the log holds one.
  const std::string short_log = b.save(2);
  REQUIRE(LogWritesReader::open(short_log, &log).ok());
  LogEntry e;
  bool end = false;
  REQUIRE(log->next(&e, &end).ok());
  s = log->next(&e, &end);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message() == "log " + short_log + ": entry 1 at byte 1536: past the end of the log");
}

TEST_CASE("an entry whose data runs past the end, or with unknown flags, is refused") {
  LogBuilder past(512);
  past.raw_header(0, 4, 0);  // four blocks announced, none follow
  const std::string past_path = past.save(1);
  std::unique_ptr<LogWritesReader> log;
  REQUIRE(LogWritesReader::open(past_path, &log).ok());
  LogEntry e;
  bool end = false;
  Status s = log->next(&e, &end);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message() ==
        "log " + past_path + ": entry 0 at byte 512: 4 blocks of data run past the end of the log");

  LogBuilder future(512);
  future.raw_header(0, 0, 1u << 7);
  const std::string future_path = future.save(1);
  REQUIRE(LogWritesReader::open(future_path, &log).ok());
  s = log->next(&e, &end);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message() == "log " + future_path + ": entry 0 at byte 512: unknown flags 0x80");
}

}  // namespace ublkcrypt::log_writes

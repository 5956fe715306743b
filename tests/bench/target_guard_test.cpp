#include <doctest/doctest.h>

#include <cstring>

#include "bench/report.h"
#include "temp_file.h"

namespace ublkcrypt {

namespace {

Workload writes() {
  Workload w;
  w.rw = "write";
  w.block_bytes = 4096;
  w.runtime_seconds = 1;
  return w;
}

}  // namespace

TEST_CASE("a write benchmark on an ext4 filesystem is refused without --force") {
  TempFile file(4 << 20);
  const unsigned char ext4_magic[] = {0x53, 0xef};
  file.write_at(1024 + 56, ext4_magic, 2);
  Status s = check_target(file.path(), writes(), false, 512);
  CHECK(s.code() == Errc::busy);
  CHECK(s.message().starts_with("bench " + file.path() +
                                ": a write benchmark would overwrite what it holds ("));
  CHECK(s.message().find("ext2/3/4 filesystem") != std::string::npos);
  CHECK(s.message().ends_with("use --force to write anyway"));
  CHECK(check_target(file.path(), writes(), true, 512).ok());
  Workload reads = writes();
  reads.rw = "randread";
  CHECK(check_target(file.path(), reads, false, 512).ok());  // reading destroys nothing
}

TEST_CASE("a LUKS header is refused too") {
  TempFile file(4 << 20);
  file.write_at(0, "LUKS\xba\xbe", 6);
  Status s = check_target(file.path(), writes(), false, 512);
  CHECK(s.code() == Errc::busy);
  CHECK(s.message().find("LUKS") != std::string::npos);
}

TEST_CASE("a target too small, missing, or misaligned for the workload") {
  TempFile file(1 << 20);
  Workload w = writes();
  w.size_bytes = 2 << 20;
  Status s = check_target(file.path(), w, false, 512);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("too small for the workload") != std::string::npos);
  CHECK(check_target("/nonexistent/disk.img", writes(), false, 512).code() ==
        Errc::not_found);
  w = writes();
  w.block_bytes = 512;
  CHECK(check_target(file.path(), w, false, 4096).code() == Errc::invalid_argument);
}

}  // namespace ublkcrypt

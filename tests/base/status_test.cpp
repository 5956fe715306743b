#include <doctest/doctest.h>

#include <cerrno>

#include "base/status.h"

using namespace ublkcrypt;

TEST_CASE("Status carries the object and the cause on one line") {
  Status s = Status(Errc::io_error, "short read at 4096").in("read /tmp/img");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Errc::io_error);
  CHECK(s.message() == "read /tmp/img: short read at 4096");
  CHECK(Status::Ok().in("anything").message().empty());
}

TEST_CASE("errno is classified so the CLI can pick an exit code") {
  CHECK(errno_status("open x", ENOENT).code() == Errc::not_found);
  CHECK(errno_status("open x", EACCES).code() == Errc::permission);
  CHECK(errno_status("open x", EBUSY).code() == Errc::busy);
  CHECK(errno_status("open x", EIO).code() == Errc::io_error);
  CHECK(errno_status("open x", ENOENT).message() == "open x: No such file or directory");
}

#include <doctest/doctest.h>

#include "blockdev/device_params.h"

using namespace ublkcrypt;

TEST_CASE("4096-byte sectors: logical = physical = 4096, sizes in 512-byte units") {
  DeviceGeometry g;
  g.size_bytes = 64ull << 20;
  g.sector_size = 4096;
  g.max_io_bytes = 512 * 1024;
  ublk_params p;
  REQUIRE(make_device_params(g, &p).ok());
  CHECK(p.len == sizeof(p));
  CHECK(p.basic.logical_bs_shift == 12);
  CHECK(p.basic.physical_bs_shift == 12);
  CHECK(p.basic.io_min_shift == 12);
  CHECK(p.basic.dev_sectors == (64ull << 20) / 512);
  CHECK(p.basic.max_sectors == 1024);
}

TEST_CASE("write cache and FUA are advertised so flushes reach the engine") {
  DeviceGeometry g;
  g.size_bytes = 1 << 20;
  ublk_params p;
  REQUIRE(make_device_params(g, &p).ok());
  CHECK((p.basic.attrs & UBLK_ATTR_VOLATILE_CACHE) != 0);
  CHECK((p.basic.attrs & UBLK_ATTR_FUA) != 0);
  CHECK((p.basic.attrs & UBLK_ATTR_READ_ONLY) == 0);
  CHECK(p.basic.logical_bs_shift == 9);
}

TEST_CASE("discard only when allowed; write-zeroes always on a writable device") {
  DeviceGeometry g;
  g.size_bytes = 1 << 20;
  g.sector_size = 4096;
  ublk_params p;
  REQUIRE(make_device_params(g, &p).ok());
  REQUIRE((p.types & UBLK_PARAM_TYPE_DISCARD) != 0);
  CHECK(p.discard.max_discard_sectors == 0);
  CHECK(p.discard.max_write_zeroes_sectors == g.max_io_bytes / 512);
  // 6.12 refuses the discard block with granularity 0 or more than one segment.
  CHECK(p.discard.discard_granularity == 4096);
  CHECK(p.discard.max_discard_segments == 1);

  g.allow_discards = true;
  REQUIRE(make_device_params(g, &p).ok());
  CHECK(p.discard.max_discard_sectors > 0);
  CHECK(p.discard.max_discard_sectors % (4096 / 512) == 0);
}

TEST_CASE("read-only: the attribute, and neither discard nor write-zeroes") {
  DeviceGeometry g;
  g.size_bytes = 1 << 20;
  g.read_only = true;
  g.allow_discards = true;
  ublk_params p;
  REQUIRE(make_device_params(g, &p).ok());
  CHECK((p.basic.attrs & UBLK_ATTR_READ_ONLY) != 0);
  CHECK((p.types & UBLK_PARAM_TYPE_DISCARD) == 0);
}

TEST_CASE("geometry the kernel would refuse is refused with a reason") {
  ublk_params p;
  DeviceGeometry g;
  g.size_bytes = 1 << 20;

  g.sector_size = 1000;
  Status s = make_device_params(g, &p);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("sector size 1000") != std::string::npos);

  g.sector_size = 8192;
  CHECK(make_device_params(g, &p).code() == Errc::invalid_argument);

  g.sector_size = 4096;
  g.size_bytes = 4096 * 3 + 512;
  s = make_device_params(g, &p);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("device size") != std::string::npos);

  g.size_bytes = 0;
  CHECK(make_device_params(g, &p).code() == Errc::invalid_argument);

  g.size_bytes = 1 << 20;
  g.max_io_bytes = 6000;
  CHECK(make_device_params(g, &p).code() == Errc::invalid_argument);
  g.max_io_bytes = 2 << 20;
  CHECK(make_device_params(g, &p).code() == Errc::invalid_argument);
}

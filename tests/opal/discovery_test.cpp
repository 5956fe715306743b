// Level 0 discovery parsing against a response written by hand (Core 3.3.6, Opal 3.1.1).
#include <doctest/doctest.h>

#include <vector>

#include "backends/opal/discovery.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;

namespace {

std::vector<uint8_t> opal2_response() {
  std::vector<uint8_t> d = {
      // Header (48 bytes): length of the data after this field, revision 1, reserved, vendor.
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      // TPer feature 0x0001, version 1, 12 bytes: Sync (bit 0) + Streaming (bit 4).
      0x00, 0x01, 0x10, 0x0C, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      // Locking feature 0x0002: supported, enabled, locked, media encryption, MBR enabled.
      0x00, 0x02, 0x10, 0x0C, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      // Geometry 0x0003, 28 bytes: ALIGN, block 4096, granularity 8, lowest aligned LBA 0.
      0x00, 0x03, 0x10, 0x1C, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00,
      0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
      // DataStore 0x0202: 9 tables, 10 MiB, alignment 1.
      0x02, 0x02, 0x10, 0x0C, 0, 0, 0x00, 0x09, 0x00, 0xA0, 0x00, 0x00, 0, 0, 0, 1,
      // Opal SSC V2 0x0203, 16 bytes: base ComID 0x1000, 1 ComID, no range crossing,
      // 4 admins, 9 users, initial SID PIN = MSID (0), revert -> MSID (0).
      0x02, 0x03, 0x10, 0x10, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x00, 0x09, 0x00, 0x00,
      0, 0, 0, 0, 0,
      // An unknown vendor feature 0xC001 with 4 bytes, to be skipped.
      0xC0, 0x01, 0x10, 0x04, 1, 2, 3, 4,
  };
  uint32_t len = uint32_t(d.size() - 4);
  d[2] = uint8_t(len >> 8);
  d[3] = uint8_t(len);
  return d;
}

}  // namespace

TEST_CASE("an Opal 2 discovery response") {
  auto d = opal2_response();
  Discovery disc;
  Status s = parse_discovery(d, &disc);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(disc.revision == 1);
  CHECK(disc.tper.sync);
  CHECK(disc.tper.streaming);
  CHECK(disc.locking.supported);
  CHECK(disc.locking.enabled);
  CHECK(disc.locking.locked);
  CHECK(disc.locking.media_encryption);
  CHECK(disc.locking.mbr_enabled);
  CHECK_FALSE(disc.locking.mbr_done);
  CHECK(disc.geometry.align);
  CHECK(disc.geometry.logical_block_size == 4096);
  CHECK(disc.geometry.alignment_granularity == 8);
  CHECK(disc.datastore.max_tables == 9);
  CHECK(disc.datastore.max_size == 0xA00000);
  CHECK(disc.ssc == kFeatureOpalV2);
  CHECK(disc.manageable());
  CHECK(disc.base_comid == 0x1000);
  CHECK(disc.num_comids == 1);
  CHECK(disc.admin_authorities == 4);
  CHECK(disc.user_authorities == 9);
  CHECK(disc.feature_sets() == "TPer, Locking, Geometry, DataStore, Opal 2, 0xC001");
}

TEST_CASE("a drive without Opal says what it has") {
  std::vector<uint8_t> d(48, 0);
  const uint8_t pyrite[] = {0x03, 0x02, 0x10, 0x10, 0x07, 0xFE, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t tper[] = {0x00, 0x01, 0x10, 0x0C, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  d.insert(d.end(), tper, tper + sizeof tper);
  d.insert(d.end(), pyrite, pyrite + sizeof pyrite);
  d[3] = uint8_t(d.size() - 4);
  Discovery disc;
  REQUIRE(parse_discovery(d, &disc).ok());
  CHECK_FALSE(disc.manageable());
  CHECK(disc.ssc == kFeaturePyriteV1);
  CHECK(disc.feature_sets() == "TPer, Pyrite 1");
  // An all-zero answer (no TCG support at all): header only, no features.
  std::vector<uint8_t> none(48, 0);
  none[3] = 44;
  REQUIRE(parse_discovery(none, &disc).ok());
  CHECK(disc.feature_sets() == "none");
}

TEST_CASE("truncated or lying discovery responses are corrupt") {
  auto d = opal2_response();
  for (size_t n = 0; n < d.size(); ++n) {
    Discovery disc;
    CHECK(parse_discovery(std::span(d.data(), n), &disc).code() == Errc::corrupt);
  }
  auto bad_len = d;
  bad_len[48 + 16 + 3] = 0xFF;  // Locking descriptor claims 255 bytes
  Discovery disc;
  CHECK(parse_discovery(bad_len, &disc).code() == Errc::corrupt);
  auto short_opal = d;
  // Shrink the Opal V2 descriptor to 4 bytes of data: too short for its fields.
  size_t opal_at = 48 + 16 + 16 + 32 + 16;
  REQUIRE(short_opal[opal_at + 1] == 0x03);
  short_opal[opal_at + 3] = 4;
  short_opal.resize(opal_at + 8);
  short_opal[3] = uint8_t(short_opal.size() - 4);
  short_opal[2] = 0;
  CHECK(parse_discovery(short_opal, &disc).code() == Errc::corrupt);
}

// Token encoding (Core Spec 2.01, 3.2.2.3.1): known atoms, round trips, malformed input.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "backends/opal/token.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;

namespace {

std::vector<uint8_t> bytes_of(const Buffer& b) { return {b.begin(), b.end()}; }

Value decode_one(const Buffer& b) {
  std::vector<StreamItem> items;
  Status s = decode_stream(b, &items);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(items.size() == 1);
  return items[0].value;
}

}  // namespace

TEST_CASE("integer atoms use the shortest form") {
  auto enc = [](uint64_t v) { return bytes_of(TokenWriter().uint(v).data()); };
  CHECK(enc(0) == std::vector<uint8_t>{0x00});                     // tiny
  CHECK(enc(63) == std::vector<uint8_t>{0x3F});                    // largest tiny
  CHECK(enc(64) == std::vector<uint8_t>{0x81, 0x40});              // short, 1 byte
  CHECK(enc(0x1001) == std::vector<uint8_t>{0x82, 0x10, 0x01});    // short, 2 bytes
  CHECK(enc(UINT64_MAX) == std::vector<uint8_t>{0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  auto senc = [](int64_t v) { return bytes_of(TokenWriter().sint(v).data()); };
  CHECK(senc(-1) == std::vector<uint8_t>{0x7F});         // tiny, S bit + 6-bit two's complement
  CHECK(senc(-32) == std::vector<uint8_t>{0x60});
  CHECK(senc(31) == std::vector<uint8_t>{0x5F});
  CHECK(senc(-33) == std::vector<uint8_t>{0x91, 0xDF});  // short signed, 1 byte
  CHECK(senc(128) == std::vector<uint8_t>{0x92, 0x00, 0x80});
}

TEST_CASE("byte atoms: short, medium, long headers") {
  CHECK(bytes_of(TokenWriter().bytes(std::vector<uint8_t>{}).data()) == std::vector<uint8_t>{0xA0});
  std::vector<uint8_t> b15(15, 7), b16(16, 7), b2047(2047, 7), b2048(2048, 7);
  CHECK(TokenWriter().bytes(b15).data()[0] == 0xAF);
  auto m = TokenWriter().bytes(b16).data();
  CHECK(m[0] == 0xD0);  // 110 B=1 S=0 + length high bits 000
  CHECK(m[1] == 0x10);
  auto m2 = TokenWriter().bytes(b2047).data();
  CHECK(m2[0] == 0xD7);
  CHECK(m2[1] == 0xFF);
  auto l = TokenWriter().bytes(b2048).data();
  CHECK(std::vector<uint8_t>(l.begin(), l.begin() + 4) == std::vector<uint8_t>{0xE2, 0x00, 0x08, 0x00});
  CHECK(l.size() == 2052);
}

TEST_CASE("values round-trip through encoder and decoder") {
  std::vector<uint64_t> uints = {0, 1, 63, 64, 255, 256, 65535, 65536, 1ull << 32, UINT64_MAX};
  for (uint64_t v : uints) CHECK(decode_one(TokenWriter().uint(v).data()) == Value::of_uint(v));
  std::vector<int64_t> sints = {0, -1, 31, -32, 32, -33, 127, -128, 128, INT32_MIN, INT64_MIN, INT64_MAX};
  for (int64_t v : sints) CHECK(decode_one(TokenWriter().sint(v).data()) == Value::of_sint(v));
  for (size_t n : {0, 1, 15, 16, 2047, 2048, 70000}) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 31);
    CHECK(decode_one(TokenWriter().bytes(b).data()) == Value::of_bytes(b));
  }
  Value nested = Value::of_list({Value::of_uint(1),
                                 Value::of_named(Value::of_uint(3), Value::of_list({Value::of_sint(-5)})),
                                 Value::of_list({}), Value::of_named(Value::of_bytes(std::vector<uint8_t>{'a'}),
                                                                     Value::of_bytes(std::vector<uint8_t>{}))});
  CHECK(decode_one(TokenWriter().value(nested).data()) == nested);
}

TEST_CASE("control tokens and empty atoms") {
  Buffer b = TokenWriter().token(kCall).token(kEmptyAtom).uint(5).token(kEndOfData).token(kEndOfSession).take();
  std::vector<StreamItem> items;
  REQUIRE(decode_stream(b, &items).ok());
  REQUIRE(items.size() == 4);  // the empty atom is skipped
  CHECK(items[0].kind == StreamItem::Kind::call);
  CHECK(items[1].value == Value::of_uint(5));
  CHECK(items[2].kind == StreamItem::Kind::end_of_data);
  CHECK(items[3].kind == StreamItem::Kind::end_of_session);
}

TEST_CASE("malformed token streams are corrupt, never read out of bounds") {
  const std::vector<std::vector<uint8_t>> bad = {
      {0xF0},                    // list never closed
      {0xF1},                    // end list alone
      {0xF2, 0x01, 0x02},        // name never closed
      {0xF2, 0xF0, 0xF1, 0x01, 0xF3},  // name that is a list
      {0xA5, 0x01},              // short atom longer than the data
      {0xD0},                    // medium header cut
      {0xD0, 0x10, 0x00},        // medium atom longer than the data
      {0xE2, 0x00},              // long header cut
      {0xE2, 0xFF, 0xFF, 0xFF},  // long atom of 16 MiB in 4 bytes
      {0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9},  // 72-bit integer
      {0xB1, 0x00},              // continued byte atom
      {0xE4},                    // reserved token
      {0xF4},                    // reserved token
  };
  for (const auto& b : bad) {
    std::vector<StreamItem> items;
    Status s = decode_stream(b, &items);
    CHECK(s.code() == Errc::corrupt);
  }
  std::vector<uint8_t> deep(100, 0xF0);
  deep.insert(deep.end(), 100, 0xF1);
  std::vector<StreamItem> items;
  CHECK(decode_stream(deep, &items).code() == Errc::corrupt);  // nesting limit
}

TEST_CASE("random bytes never crash the decoder") {
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b(rng() % 64);
    for (auto& x : b) x = uint8_t(rng());
    std::vector<StreamItem> items;
    Status s = decode_stream(b, &items);
    CHECK((s.ok() || s.code() == Errc::corrupt));
  }
}

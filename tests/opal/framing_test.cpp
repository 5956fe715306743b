// Method calls and ComPacket framing against bytes written by hand from the spec.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "backends/opal/method.h"
#include "backends/opal/packet.h"
#include "backends/opal/uid.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;

namespace {
std::vector<uint8_t> v(const Buffer& b) { return {b.begin(), b.end()}; }

// StartSession[HSN = 1, SPID = Admin SP, Write = True, HostChallenge = "pwd",
//              HostSigningAuthority = SID]   (Core 5.2.3.1)
Buffer start_session_call() {
  MethodCallWriter call(uid::kSessionManager, uid::kStartSession);
  const uint8_t pw[] = {'p', 'w', 'd'};
  call.args().uint(1).bytes(uid::kAdminSp.span()).uint(1);
  call.args().named_bytes(param::kHostChallenge, pw).named_bytes(param::kHostSigningAuthority, uid::kSid.span());
  return call.finish();
}

const std::vector<uint8_t> kStartSessionTokens = {
    0xF8,                                                  // call
    0xA8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF,  // invoking: Session Manager (8-byte short atom)
    0xA8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x02,  // method: StartSession
    0xF0,                                                  // start of argument list
    0x01,                                                  // HostSessionID 1 (tiny atom)
    0xA8, 0x00, 0x00, 0x02, 0x05, 0x00, 0x00, 0x00, 0x01,  // SPID: Admin SP
    0x01,                                                  // Write = True
    0xF2, 0x00, 0xA3, 'p', 'w', 'd', 0xF3,                 // HostChallenge (name 0) = "pwd"
    0xF2, 0x03, 0xA8, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x06, 0xF3,  // HostSigningAuthority = SID
    0xF1,                                                  // end of argument list
    0xF9,                                                  // end of data
    0xF0, 0x00, 0x00, 0x00, 0xF1,                          // status list: 0, reserved, reserved
};
}  // namespace

TEST_CASE("StartSession encodes to the spec's byte sequence") {
  CHECK(v(start_session_call()) == kStartSessionTokens);
}

TEST_CASE("ComPacket framing: headers, big-endian lengths, padding to 4") {
  Buffer tokens = start_session_call();  // 57 bytes -> padded to 60
  REQUIRE(tokens.size() == 57);
  Buffer f = frame_compacket({0x07FE, 0, 0}, tokens);
  REQUIRE(f.size() == 20 + 24 + 12 + 60);
  const std::vector<uint8_t> com_header = {0, 0, 0, 0,  0x07, 0xFE, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
                                           0, 0, 0, 96};  // Length = 24 + 12 + 60
  CHECK(std::vector<uint8_t>(f.begin(), f.begin() + 20) == com_header);
  const std::vector<uint8_t> packet_header = {0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
                                              0, 0, 0, 0,  0, 0, 0, 72};  // TSN 0, HSN 0, Length 12 + 60
  CHECK(std::vector<uint8_t>(f.begin() + 20, f.begin() + 44) == packet_header);
  const std::vector<uint8_t> sub_header = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 57};  // kind 0 (data), Length 57
  CHECK(std::vector<uint8_t>(f.begin() + 44, f.begin() + 56) == sub_header);
  CHECK(std::vector<uint8_t>(f.end() - 3, f.end()) == std::vector<uint8_t>{0, 0, 0});  // padding

  ComPacket p;
  REQUIRE(parse_compacket(f, &p).ok());
  CHECK_FALSE(p.empty);
  CHECK(p.address.comid == 0x07FE);
  CHECK(std::vector<uint8_t>(p.tokens.begin(), p.tokens.end()) == kStartSessionTokens);

  MethodCall call;
  REQUIRE(parse_method_call(p.tokens, &call).ok());
  CHECK(call.invoking == uid::kSessionManager);
  CHECK(call.method == uid::kStartSession);
  CHECK(call.args.items().size() == 5);
  CHECK(call.args.find(param::kHostSigningAuthority)->as_bytes().size() == 8);
}

TEST_CASE("method responses: results and status") {
  // [ [ 3 = "abc" ] ] F9 [ 0x12 0 0 ]: a Get result with AUTHORITY_LOCKED_OUT
  const std::vector<uint8_t> bytes = {0xF0, 0xF0, 0xF2, 0x03, 0xA3, 'a', 'b', 'c', 0xF3, 0xF1, 0xF1,
                                      0xF9, 0xF0, 0x12, 0x00, 0x00, 0xF1};
  MethodResult r;
  REQUIRE(parse_method_result(bytes, &r).ok());
  CHECK(r.code() == MethodStatus::authority_locked_out);
  CHECK(r.results.items()[0].find(3)->as_bytes().size() == 3);
  // Every truncation is corrupt, never a crash.
  for (size_t n = 0; n < bytes.size(); ++n) {
    MethodResult t;
    CHECK(parse_method_result(std::span(bytes.data(), n), &t).code() == Errc::corrupt);
  }
  Buffer encoded = encode_method_result(Value::of_list({Value::of_uint(1)}), MethodStatus::not_authorized);
  MethodResult back;
  REQUIRE(parse_method_result(encoded, &back).ok());
  CHECK(back.code() == MethodStatus::not_authorized);
}

TEST_CASE("malformed ComPackets are corrupt") {
  Buffer good = frame_compacket({0x07FE, 5, 6}, start_session_call());
  for (size_t n = 0; n < good.size(); ++n) {
    ComPacket p;
    Status s = parse_compacket(std::span(good.data(), n), &p);
    CHECK(s.code() == Errc::corrupt);
  }
  // Lengths that lie about the buffer.
  auto with = [&](size_t offset, uint32_t value) {
    Buffer b = good;
    store_be32(b.data() + offset, value);
    ComPacket p;
    return parse_compacket(b, &p);
  };
  CHECK(with(16, 0xFFFFFFF0).code() == Errc::corrupt);  // ComPacket length
  CHECK(with(20 + 20, 0xFFFFFFF0).code() == Errc::corrupt);  // Packet length
  CHECK(with(44 + 8, 0xFFFFFFF0).code() == Errc::corrupt);  // SubPacket length
  // An empty ComPacket (Length 0) means "no response yet", with OutstandingData.
  Buffer empty(20, 0);
  store_be32(empty.data() + 8, 4096);
  ComPacket p;
  REQUIRE(parse_compacket(empty, &p).ok());
  CHECK(p.empty);
  CHECK(p.outstanding == 4096);
}

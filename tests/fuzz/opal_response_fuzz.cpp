// Fuzz target: everything the host parses from a drive — ComPacket framing, method
// responses, SyncSession calls, Level 0 discovery. None may crash or read out of bounds;
// failures must be Errc::corrupt.
#include <algorithm>
#include <cstdlib>

#include "backends/opal/discovery.h"
#include "backends/opal/method.h"
#include "backends/opal/packet.h"
#include "tests/fuzz/fuzz_seeds.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;

namespace {
void expect_ok_or_corrupt(const Status& s) {
  if (!s.ok() && s.code() != Errc::corrupt) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  ComPacket packet;
  Status s = parse_compacket(in, &packet);
  expect_ok_or_corrupt(s);
  std::span<const uint8_t> tokens = s.ok() && !packet.empty ? packet.tokens : in;
  MethodResult result;
  expect_ok_or_corrupt(parse_method_result(tokens, &result));
  MethodCall call;
  expect_ok_or_corrupt(parse_method_call(tokens, &call));
  Discovery discovery;
  expect_ok_or_corrupt(parse_discovery(in, &discovery));
  if (s.ok()) (void)discovery.feature_sets();
  return 0;
}

std::vector<std::vector<uint8_t>> fuzz_seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  auto add = [&seeds](const Buffer& b) { seeds.emplace_back(b.begin(), b.end()); };
  // A SyncSession answer, a Get result and a failure, each framed.
  MethodCallWriter sync(uid::kSessionManager, uid::kSyncSession);
  sync.args().uint(0x1001).uint(0x10000001);
  add(frame_compacket({0x07FE, 0, 0}, sync.finish()));
  Value row = Value::of_list({Value::of_list(
      {Value::of_named(Value::of_uint(3), Value::of_bytes(std::vector<uint8_t>(32, 'A'))),
       Value::of_named(Value::of_uint(5), Value::of_uint(5))})});
  add(frame_compacket({0x07FE, 7, 8}, encode_method_result(row, MethodStatus::success)));
  add(encode_method_result(Value::of_list({}), MethodStatus::not_authorized));
  // A Level 0 discovery: header, TPer, Locking, Opal 2.
  const uint8_t features[] = {0x00, 0x01, 0x10, 0x0C, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                              0x00, 0x02, 0x10, 0x0C, 0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                              0x02, 0x03, 0x10, 0x10, 0x07, 0xFE, 0, 1, 0, 0, 4, 0, 8, 0, 0, 0, 0, 0, 0, 0};
  std::vector<uint8_t> d(48 + sizeof features, 0);
  std::copy(features, features + sizeof features, d.begin() + 48);
  d[3] = uint8_t(d.size() - 4);
  seeds.push_back(d);
  return seeds;
}

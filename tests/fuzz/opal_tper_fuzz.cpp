// Fuzz target: the emulated TPer's command parser. The first input byte picks who talks:
//   0: raw bytes as an IF-SEND payload (framing + session manager),
//   1..4: a session opened beforehand (Anybody/Admin SP, SID/Admin SP, Admin1/Locking SP,
//         User1/Locking SP); the rest of the input is framed into that session's packet,
//         so the fuzzer reaches the method handlers directly.
// Whatever the TPer answers must itself parse on the host side: a TPer that emits
// malformed responses is a bug too.
#include <cstdlib>
#include <string_view>

#include "backends/opal/method.h"
#include "backends/opal/packet.h"
#include "backends/opal/transport.h"
#include "fixtures/opal/tper.h"
#include "tests/fuzz/fuzz_seeds.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;
using namespace ublkcrypt::opal::emu;

namespace {

constexpr uint16_t kComId = kEmuBaseComId;

std::span<const uint8_t> text(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Buffer receive(Tper& tper) {
  Buffer out(kComPacketHeaderSize + 16384 + 1024, 0);  // the TPer never sends more than 16 KiB
  if (!tper.if_recv(kProtocolTcg, kComId, out).ok()) std::abort();
  return out;
}

// Sends and checks that the answer (if any) is well-formed.
void send_and_check(Tper& tper, std::span<const uint8_t> payload) {
  bool persist = false;
  if (!tper.if_send(kProtocolTcg, kComId, payload, &persist).ok()) return;
  Buffer out = receive(tper);
  ComPacket packet;
  if (!parse_compacket(out, &packet).ok()) std::abort();
  if (packet.empty) return;
  MethodResult result;
  MethodCall call;
  bool end_of_session = packet.tokens.size() == 1 && packet.tokens[0] == kEndOfSession;
  if (!end_of_session && !parse_method_result(packet.tokens, &result).ok() &&
      !parse_method_call(packet.tokens, &call).ok()) {
    std::abort();
  }
}

// Opens a session as `who` and returns its address.
bool open_session(Tper& tper, int who, PacketAddress* address) {
  static const struct {
    Uid sp, authority;
    std::string_view pin;
  } kWho[] = {{uid::kAdminSp, uid::kAnybody, ""},
              {uid::kAdminSp, uid::kSid, "sid"},
              {uid::kLockingSp, uid::admin(1), "admin"},
              {uid::kLockingSp, uid::user(1), "user"}};
  const auto& w = kWho[who];
  MethodCallWriter call(uid::kSessionManager, uid::kStartSession);
  call.args().uint(0x1001).bytes(w.sp.span()).uint(1);
  if (w.authority != uid::kAnybody) {
    call.args().named_bytes(param::kHostChallenge, text(w.pin)).named_bytes(param::kHostSigningAuthority, w.authority.span());
  }
  bool persist = false;
  if (!tper.if_send(kProtocolTcg, kComId, frame_compacket({kComId, 0, 0}, call.finish()), &persist).ok()) return false;
  Buffer out = receive(tper);
  ComPacket packet;
  MethodCall sync;
  if (!parse_compacket(out, &packet).ok() || !parse_method_call(packet.tokens, &sync).ok()) return false;
  const auto& args = sync.args.items();
  if (args.size() < 2) return false;
  *address = {kComId, uint32_t(args[1].as_uint()), uint32_t(args[0].as_uint())};
  return true;
}

TperState make_state() {
  TperState state;
  if (!TperState::factory(1 << 16, text("msid"), text("psid"), &state).ok()) std::abort();
  state.sid.pin = to_buffer(text("sid"));
  state.locking_active = true;
  state.admins[0].credential.pin = to_buffer(text("admin"));
  state.users[0].enabled = true;
  state.users[0].credential.pin = to_buffer(text("user"));
  state.ranges[1].start = 100;
  state.ranges[1].length = 100;
  return state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  TperState state = make_state();
  Tper tper(&state);
  std::span<const uint8_t> rest(data + 1, size - 1);
  int mode = data[0] % 5;
  if (mode == 0) {
    send_and_check(tper, rest);
    return 0;
  }
  PacketAddress address;
  if (!open_session(tper, mode - 1, &address)) std::abort();  // the fixed sign-in must work
  send_and_check(tper, frame_compacket(address, rest));
  // A second method in the same session (if it is still open) from the same bytes.
  send_and_check(tper, frame_compacket(address, rest));
  return 0;
}

std::vector<std::vector<uint8_t>> fuzz_seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  auto add = [&seeds](uint8_t mode, const Buffer& tokens) {
    std::vector<uint8_t> s{mode};
    s.insert(s.end(), tokens.begin(), tokens.end());
    seeds.push_back(std::move(s));
  };
  // Session manager: Properties and StartSession, framed.
  MethodCallWriter props(uid::kSessionManager, uid::kProperties);
  props.args().start_name().uint(0).start_list().start_name().bytes("MaxComPacketSize").uint(4096).end_name().end_list().end_name();
  add(0, frame_compacket({kComId, 0, 0}, props.finish()));
  MethodCallWriter start(uid::kSessionManager, uid::kStartSession);
  start.args().uint(1).bytes(uid::kAdminSp.span()).uint(0);
  add(0, frame_compacket({kComId, 0, 0}, start.finish()));
  // In-session methods (mode picks the signed-in authority).
  MethodCallWriter get_msid(uid::kCPinMsid, uid::kGet);
  get_msid.args().start_list().named_uint(3, 3).named_uint(4, 3).end_list();
  add(1, get_msid.finish());
  MethodCallWriter set_sid(uid::kCPinSid, uid::kSet);
  set_sid.args().start_name().uint(1).start_list().named_bytes(3, text("new")).end_list().end_name();
  add(2, set_sid.finish());
  add(2, MethodCallWriter(uid::kAdminSp, uid::kRevert).finish());
  MethodCallWriter set_range(uid::locking_range(1), uid::kSet);
  set_range.args().start_name().uint(1).start_list().named_uint(3, 10).named_uint(4, 50).named_uint(5, 1).named_uint(7, 1).end_list().end_name();
  add(3, set_range.finish());
  MethodCallWriter ace(uid::ace_set_read_locked(1), uid::kSet);
  const uint8_t ref[4] = {0, 0, 0x0C, 0x05}, op[4] = {0, 0, 0x04, 0x0E};
  ace.args().start_name().uint(1).start_list().start_name().uint(3).start_list()
      .start_name().bytes(ref).bytes(uid::kAdmins.span()).end_name()
      .start_name().bytes(ref).bytes(uid::user(1).span()).end_name()
      .start_name().bytes(op).uint(1).end_name().end_list().end_name().end_list().end_name();
  add(3, ace.finish());
  add(3, MethodCallWriter(uid::k_aes_256(1), uid::kGenKey).finish());
  MethodCallWriter get_range(uid::locking_range(1), uid::kGet);
  get_range.args().start_list().end_list();
  add(3, get_range.finish());
  MethodCallWriter auth(uid::kThisSp, uid::kAuthenticate);
  auth.args().bytes(uid::admin(1).span()).named_bytes(0, text("admin"));
  add(4, auth.finish());
  MethodCallWriter unlock(uid::locking_range(1), uid::kSet);
  unlock.args().start_name().uint(1).start_list().named_uint(7, 0).named_uint(8, 0).end_list().end_name();
  add(4, unlock.finish());
  add(3, TokenWriter().token(kEndOfSession).take());
  return seeds;
}

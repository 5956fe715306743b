#include "backends/opal/com_channel.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "backends/opal/method.h"
#include "backends/opal/uid.h"

namespace ublkcrypt::opal {

namespace {

// What we ask for in Properties. The TPer answers with min(its limit, ours).
constexpr uint32_t kHostMaxComPacket = 65536;
constexpr uint32_t kHostMaxPacket = kHostMaxComPacket - kComPacketHeaderSize;
constexpr uint32_t kHostMaxIndToken = kHostMaxPacket - kPacketHeaderSize - kSubPacketHeaderSize;
// A TPer that keeps answering "not ready" for this long is hung.
constexpr auto kResponseTimeout = std::chrono::seconds(10);

}  // namespace

Status ComChannel::exchange(const PacketAddress& to, std::span<const uint8_t> tokens, Buffer* response,
                            PacketAddress* from) {
  Buffer command = frame_compacket(to, tokens);
  if (command.size() > limits_.max_compacket) {
    return Status(Errc::invalid_argument, "command of " + std::to_string(command.size()) +
                                              " bytes exceeds the TPer's MaxComPacketSize " +
                                              std::to_string(limits_.max_compacket));
  }
  if (Status s = transport_.security_send(kProtocolTcg, comid_, command); !s.ok()) return s;

  size_t size = std::max<size_t>(limits_.max_response_compacket, 2048);
  auto deadline = std::chrono::steady_clock::now() + kResponseTimeout;
  for (int attempt = 0;; ++attempt) {
    Buffer in(size, 0);
    if (Status s = transport_.security_receive(kProtocolTcg, comid_, in); !s.ok()) return s;
    ComPacket packet;
    if (Status s = parse_compacket(in, &packet); !s.ok()) return s;
    if (!packet.empty) {
      if (packet.address.comid != comid_) {
        return Status(Errc::corrupt, "ComPacket: response on ComID " + std::to_string(packet.address.comid) +
                                         ", expected " + std::to_string(comid_));
      }
      response->assign(packet.tokens.begin(), packet.tokens.end());
      *from = packet.address;
      return Status::Ok();
    }
    if (packet.outstanding > 0) {
      // The answer did not fit: retry with the size the TPer asked for (3.3.10.4).
      size_t want = kComPacketHeaderSize + std::max<size_t>(packet.outstanding, packet.min_transfer);
      if (want <= size || want > (1u << 24)) {
        return Status(Errc::corrupt, "ComPacket: TPer asks for a " + std::to_string(want) + "-byte buffer");
      }
      size = want;
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Errc::timeout, "no response from the TPer on ComID " + std::to_string(comid_));
    }
    if (attempt > 8) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Status ComChannel::exchange_properties() {
  MethodCallWriter call(uid::kSessionManager, uid::kProperties);
  // Properties[HostProperties = [name = value ...]] (5.2.2.1; HostProperties is parameter 0).
  TokenWriter& a = call.args();
  a.start_name().uint(0).start_list();
  auto prop = [&a](const char* name, uint32_t v) { a.start_name().bytes(name).uint(v).end_name(); };
  prop("MaxComPacketSize", kHostMaxComPacket);
  prop("MaxResponseComPacketSize", kHostMaxComPacket);
  prop("MaxPacketSize", kHostMaxPacket);
  prop("MaxIndTokenSize", kHostMaxIndToken);
  prop("MaxPackets", 1);
  prop("MaxSubpackets", 1);
  prop("MaxMethods", 1);
  a.end_list().end_name();
  Buffer response;
  PacketAddress from;
  if (Status s = exchange({comid_, 0, 0}, call.finish(), &response, &from); !s.ok()) return s.in("Properties");
  MethodResult result;
  if (Status s = parse_method_result(response, &result); !s.ok()) return s.in("Properties");
  if (!result.ok()) {
    return Status(method_status_errc(result.status),
                  std::string("Properties: ") + method_status_name(result.status));
  }
  // Results: [ [TPer properties], HostProperties = [...] ] (5.2.2.1.2).
  if (result.results.items().empty() || !result.results.items()[0].is_list()) {
    return Status(Errc::corrupt, "Properties: response holds no TPer property list");
  }
  const Value& tper = result.results.items()[0];
  auto read = [&tper](const char* name, uint32_t* field) {
    const Value* v = tper.find(std::string_view(name));
    if (v && v->is_uint() && v->as_uint() > 0) *field = uint32_t(std::min<uint64_t>(v->as_uint(), 1u << 24));
  };
  TperLimits limits;
  read("MaxComPacketSize", &limits.max_compacket);
  read("MaxResponseComPacketSize", &limits.max_response_compacket);
  read("MaxPacketSize", &limits.max_packet);
  read("MaxIndTokenSize", &limits.max_ind_token);
  read("MaxSessions", &limits.max_sessions);
  // We announced our own limits too; never exceed them.
  limits.max_response_compacket = std::min(limits.max_response_compacket, kHostMaxComPacket);
  limits_ = limits;
  return Status::Ok();
}

}  // namespace ublkcrypt::opal

// ComChannel: request/response over one ComID. Sends a ComPacket with IF-SEND, then polls
// IF-RECV until the TPer has the answer (Core Spec 2.01, 3.3.10: an empty ComPacket with
// OutstandingData 0 means "not ready", OutstandingData > buffer means "give me a larger
// buffer"). Also runs the Properties exchange that sets the sizes both sides use.
#pragma once

#include <cstdint>
#include <span>

#include "backends/opal/buffer.h"
#include "backends/opal/packet.h"
#include "backends/opal/transport.h"
#include "base/status.h"

namespace ublkcrypt::opal {

// Communication limits (Core 5.2.2.1.1). Defaults are the spec's minimums, valid until
// Properties has run.
struct TperLimits {
  uint32_t max_compacket = 1024;           // largest ComPacket the TPer accepts
  uint32_t max_response_compacket = 1024;  // largest response it will send us
  uint32_t max_packet = 1004;
  uint32_t max_ind_token = 968;
  uint32_t max_sessions = 1;
};

class ComChannel {
 public:
  // REQUIRES: `transport` outlives the channel.
  ComChannel(Transport& transport, uint16_t comid) : transport_(transport), comid_(comid) {}

  // Sends `tokens` framed for `to`, returns the response's tokens and its session numbers.
  Status exchange(const PacketAddress& to, std::span<const uint8_t> tokens, Buffer* response,
                  PacketAddress* from);

  // Session Manager Properties call (Core 5.2.2.1): announces our limits, records the TPer's.
  Status exchange_properties();

  const TperLimits& limits() const { return limits_; }
  uint16_t comid() const { return comid_; }
  Transport& transport() { return transport_; }

 private:
  Transport& transport_;
  uint16_t comid_;
  TperLimits limits_;
};

}  // namespace ublkcrypt::opal

// ComPacket / Packet / SubPacket framing (Core Spec 2.01, 3.2.3). One method call or
// response travels as: ComPacket header (20 bytes) + Packet header (24) + SubPacket header
// (12) + token data + zero padding to a multiple of 4. All fields are big-endian.
#pragma once

#include <cstdint>
#include <span>

#include "backends/opal/buffer.h"
#include "base/status.h"

namespace ublkcrypt::opal {

constexpr size_t kComPacketHeaderSize = 20;
constexpr size_t kPacketHeaderSize = 24;
constexpr size_t kSubPacketHeaderSize = 12;
constexpr size_t kFrameOverhead = kComPacketHeaderSize + kPacketHeaderSize + kSubPacketHeaderSize;

// Who a packet belongs to: the ComID it travels on and the session numbers
// (TPer Session Number, Host Session Number; both 0 for Session Manager calls, 3.2.3.3.1).
struct PacketAddress {
  uint16_t comid = 0;
  uint32_t tsn = 0;
  uint32_t hsn = 0;
};

// Frames `tokens` into one ComPacket holding one Packet holding one data SubPacket.
// `outstanding`/`min_transfer` are only meaningful in TPer responses (3.2.3.2).
Buffer frame_compacket(const PacketAddress& address, std::span<const uint8_t> tokens,
                       uint32_t outstanding = 0, uint32_t min_transfer = 0);

// A parsed ComPacket. `tokens` points into the parsed buffer.
struct ComPacket {
  PacketAddress address;
  uint32_t outstanding = 0;    // OutstandingData: bytes the TPer still holds for the host
  uint32_t min_transfer = 0;   // MinTransfer: buffer size needed to receive them
  bool empty = true;           // no Packet: the response is not ready or was too large
  std::span<const uint8_t> tokens;
};

// Parses a ComPacket, checking every length against the buffer (never reads past it).
// Only the first Packet and its first data SubPacket are used: we never send more, and
// Opal TPers answer one method per ComPacket. Errc::corrupt on malformed framing.
Status parse_compacket(std::span<const uint8_t> buffer, ComPacket* out);

}  // namespace ublkcrypt::opal

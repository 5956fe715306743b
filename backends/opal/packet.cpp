#include "backends/opal/packet.h"

#include <algorithm>
#include <string>

namespace ublkcrypt::opal {

namespace {

constexpr uint16_t kSubPacketKindData = 0x0000;  // 3.2.3.4.1: 0 = data, 0x8001 = credit control

size_t pad4(size_t n) { return (n + 3) & ~size_t(3); }

Status corrupt(const std::string& why) { return Status(Errc::corrupt, "ComPacket: " + why); }

}  // namespace

Buffer frame_compacket(const PacketAddress& address, std::span<const uint8_t> tokens,
                       uint32_t outstanding, uint32_t min_transfer) {
  size_t sub_len = tokens.size();
  size_t packet_len = kSubPacketHeaderSize + pad4(sub_len);
  size_t com_len = kPacketHeaderSize + packet_len;
  Buffer out(kComPacketHeaderSize + com_len, 0);
  uint8_t* p = out.data();
  // ComPacket header (3.2.3.2): reserved[4], ComID, ComID extension, OutstandingData,
  // MinTransfer, Length.
  store_be16(p + 4, address.comid);
  store_be32(p + 8, outstanding);
  store_be32(p + 12, min_transfer);
  store_be32(p + 16, uint32_t(com_len));
  // Packet header (3.2.3.3): TSN, HSN, SeqNumber, reserved[2], AckType, Acknowledgement,
  // Length. Sequence numbers and ACK/NAK are unused on the synchronous interface.
  p += kComPacketHeaderSize;
  store_be32(p + 0, address.tsn);
  store_be32(p + 4, address.hsn);
  store_be32(p + 20, uint32_t(packet_len));
  // SubPacket header (3.2.3.4): reserved[6], Kind, Length (without padding).
  p += kPacketHeaderSize;
  store_be16(p + 6, kSubPacketKindData);
  store_be32(p + 8, uint32_t(sub_len));
  p += kSubPacketHeaderSize;
  std::copy(tokens.begin(), tokens.end(), p);
  return out;
}

Status parse_compacket(std::span<const uint8_t> buffer, ComPacket* out) {
  *out = ComPacket{};
  if (buffer.size() < kComPacketHeaderSize) {
    return corrupt("response of " + std::to_string(buffer.size()) + " bytes is shorter than its header");
  }
  const uint8_t* p = buffer.data();
  out->address.comid = load_be16(p + 4);
  out->outstanding = load_be32(p + 8);
  out->min_transfer = load_be32(p + 12);
  uint32_t com_len = load_be32(p + 16);
  if (com_len == 0) return Status::Ok();  // nothing (yet) for the host
  if (com_len > buffer.size() - kComPacketHeaderSize) {
    return corrupt("length " + std::to_string(com_len) + " exceeds the " +
                   std::to_string(buffer.size()) + "-byte buffer");
  }
  if (com_len < kPacketHeaderSize) return corrupt("too short to hold a Packet");
  p += kComPacketHeaderSize;
  out->address.tsn = load_be32(p + 0);
  out->address.hsn = load_be32(p + 4);
  uint32_t packet_len = load_be32(p + 20);
  if (packet_len > com_len - kPacketHeaderSize) return corrupt("Packet length exceeds the ComPacket");
  // Walk SubPackets until the first data SubPacket; each is padded to 4 bytes.
  size_t offset = 0;
  p += kPacketHeaderSize;
  while (offset < packet_len) {
    if (packet_len - offset < kSubPacketHeaderSize) return corrupt("truncated SubPacket header");
    const uint8_t* sp = p + offset;
    uint16_t kind = load_be16(sp + 6);
    uint32_t sub_len = load_be32(sp + 8);
    size_t room = packet_len - offset - kSubPacketHeaderSize;
    if (sub_len > room) return corrupt("SubPacket length exceeds the Packet");
    if (kind == kSubPacketKindData) {
      out->empty = false;
      out->tokens = std::span<const uint8_t>(sp + kSubPacketHeaderSize, sub_len);
      return Status::Ok();
    }
    offset += kSubPacketHeaderSize + std::min(room, pad4(sub_len));
  }
  return corrupt("Packet holds no data SubPacket");
}

}  // namespace ublkcrypt::opal

// Transport: the only door between the Opal host code and a drive. It moves opaque
// IF-SEND / IF-RECV payloads (TCG Core Spec 2.01, 3.3.1; carried by NVMe Security Send /
// Security Receive, SCSI SECURITY PROTOCOL IN/OUT, ATA TRUSTED SEND/RECEIVE).
// Implementations: NvmeTransport (a real drive through libnvme) and the emulated drive in
// fixtures/opal. Not thread-safe: one caller at a time (REQUIRES external synchronization).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace ublkcrypt::opal {

// Security protocols (SPC-4 / Core 3.3.1): 0x00 lists protocols, 0x01 carries Level 0
// discovery and ComPackets, 0x02 is ComID management (TPER_RESET, stack reset).
constexpr uint8_t kProtocolInfo = 0x00;
constexpr uint8_t kProtocolTcg = 0x01;
constexpr uint8_t kProtocolComIdMgmt = 0x02;

class Transport {
 public:
  Transport() = default;
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // IF-SEND of `data` to `comid` (the SP Specific field) under `protocol`.
  virtual Status security_send(uint8_t protocol, uint16_t comid, std::span<const uint8_t> data) = 0;
  // IF-RECV into `data`; its size is the allocation length. Bytes the device did not
  // fill are zero.
  virtual Status security_receive(uint8_t protocol, uint16_t comid, std::span<uint8_t> data) = 0;
  // The device, for messages: "/dev/nvme0n1", "emu:/var/tmp/drive.img".
  virtual const std::string& name() const = 0;
};

}  // namespace ublkcrypt::opal

// NvmeTransport: IF-SEND / IF-RECV as NVMe Security Send / Security Receive admin commands
// (NVMe Base 2.0, 5.25/5.26) through libnvme. The TCG SP Specific field (the ComID) goes
// in SPSP1:SPSP0. Works on /dev/nvmeX (controller) and /dev/nvmeXnY (namespace); needs
// CAP_SYS_ADMIN like every NVMe admin passthrough.
#pragma once

#include <memory>
#include <string>

#include "backends/opal/transport.h"

namespace ublkcrypt::opal {

class NvmeTransport final : public Transport {
 public:
  static Status open(const std::string& path, std::unique_ptr<NvmeTransport>* out);
  ~NvmeTransport() override;

  Status security_send(uint8_t protocol, uint16_t comid, std::span<const uint8_t> data) override;
  Status security_receive(uint8_t protocol, uint16_t comid, std::span<uint8_t> data) override;
  const std::string& name() const override { return path_; }

 private:
  NvmeTransport(std::string path, int fd, uint32_t nsid) : path_(std::move(path)), fd_(fd), nsid_(nsid) {}
  Status command_status(const char* what, int rc) const;

  std::string path_;
  int fd_;
  uint32_t nsid_;
};

}  // namespace ublkcrypt::opal

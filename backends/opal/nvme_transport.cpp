#include "backends/opal/nvme_transport.h"

#include <fcntl.h>
#include <libnvme.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "backends/opal/buffer.h"

namespace ublkcrypt::opal {

namespace {
// Security Send transfers are padded to whole 512-byte blocks: some controllers refuse
// other lengths, and a TPer ignores bytes past the ComPacket's Length.
constexpr size_t kTransferUnit = 512;
}  // namespace

Status NvmeTransport::open(const std::string& path, std::unique_ptr<NvmeTransport>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("open " + path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    ::close(fd);
    return Status(Errc::invalid_argument, "open " + path + ": not an NVMe device node");
  }
  // A namespace node carries its NSID; the controller node uses 0 (Security Send is
  // controller-scoped for TCG, NVMe 5.25: NSID is ignored unless the protocol uses it).
  __u32 nsid = 0;
  if (S_ISBLK(st.st_mode) && nvme_get_nsid(fd, &nsid) != 0) {
    int err = errno;
    ::close(fd);
    return errno_status("open " + path + ": not an NVMe namespace", err);
  }
  out->reset(new NvmeTransport(path, fd, nsid));
  return Status::Ok();
}

NvmeTransport::~NvmeTransport() { ::close(fd_); }

Status NvmeTransport::command_status(const char* what, int rc) const {
  if (rc == 0) return Status::Ok();
  if (rc < 0) return errno_status(std::string(what) + " on " + path_, errno);
  // NVMe status: Invalid Opcode / Invalid Field mean the controller has no such protocol.
  uint16_t sc = uint16_t(rc & 0x7FF);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%03X", sc);
  if (sc == NVME_SC_INVALID_OPCODE || sc == NVME_SC_INVALID_FIELD) {
    return Status(Errc::unsupported, std::string(what) + " on " + path_ + ": not supported by the controller (NVMe status " + hex + ")");
  }
  return Status(Errc::io_error, std::string(what) + " on " + path_ + ": NVMe status " + hex);
}

Status NvmeTransport::security_send(uint8_t protocol, uint16_t comid, std::span<const uint8_t> data) {
  Buffer padded(data.begin(), data.end());
  padded.resize((padded.size() + kTransferUnit - 1) / kTransferUnit * kTransferUnit, 0);
  __u32 result = 0;
  nvme_security_send_args args = {};
  args.result = &result;
  args.data = padded.data();
  args.args_size = sizeof(args);
  args.fd = fd_;
  args.timeout = NVME_DEFAULT_IOCTL_TIMEOUT;
  args.nsid = nsid_;
  args.tl = __u32(padded.size());
  args.data_len = __u32(padded.size());
  args.secp = protocol;
  args.spsp0 = uint8_t(comid & 0xFF);
  args.spsp1 = uint8_t(comid >> 8);
  return command_status("Security Send", nvme_security_send(&args));
}

Status NvmeTransport::security_receive(uint8_t protocol, uint16_t comid, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  __u32 result = 0;
  nvme_security_receive_args args = {};
  args.result = &result;
  args.data = data.data();
  args.args_size = sizeof(args);
  args.fd = fd_;
  args.timeout = NVME_DEFAULT_IOCTL_TIMEOUT;
  args.nsid = nsid_;
  args.al = __u32(data.size());
  args.data_len = __u32(data.size());
  args.secp = protocol;
  args.spsp0 = uint8_t(comid & 0xFF);
  args.spsp1 = uint8_t(comid >> 8);
  return command_status("Security Receive", nvme_security_receive(&args));
}

}  // namespace ublkcrypt::opal

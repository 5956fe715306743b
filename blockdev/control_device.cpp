#include "blockdev/control_device.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ublkcrypt {
namespace {

Status control_status(const char* what, uint32_t dev_id, int res) {
  std::string object = std::string("ublk ") + what;
  if (dev_id != UINT32_MAX) object += " (device " + std::to_string(dev_id) + ")";
  if (res == -ENODEV) return {Errc::not_found, object + ": no such ublk device"};
  return errno_status(object, -res);
}

}  // namespace

Status ControlDevice::open(std::unique_ptr<ControlDevice>* out) {
  std::unique_ptr<ControlDevice> dev(new ControlDevice);
  dev->fd_ = ::open(kUblkControlPath, O_RDWR | O_CLOEXEC);
  if (dev->fd_ < 0) {
    int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO)
      return {Errc::not_found,
              "this kernel has no ublk driver (CONFIG_BLK_DEV_UBLK): load ublk_drv or run "
              "inside the VM harness (tests/vm/run-vm.sh)"};
    return errno_status(std::string("open ") + kUblkControlPath, err);
  }
  // Control commands carry a 32-byte ublksrv_ctrl_cmd: only a 128-byte SQE has room.
  int r = io_uring_queue_init(4, &dev->ring_, IORING_SETUP_SQE128);
  if (r < 0) return errno_status("io_uring for ublk control", -r);
  dev->ring_ready_ = true;
  *out = std::move(dev);
  return Status::Ok();
}

ControlDevice::~ControlDevice() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (fd_ >= 0) ::close(fd_);
}

int ControlDevice::command(uint32_t op, uint32_t dev_id, uint64_t data0, void* buf,
                           uint16_t len) {
  std::lock_guard lock(mutex_);
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return -EBUSY;
  std::memset(sqe, 0, 2 * sizeof(io_uring_sqe));  // SQE128: the command lives in the tail
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = fd_;
  sqe->cmd_op = op;
  auto* cmd = reinterpret_cast<ublksrv_ctrl_cmd*>(&sqe->cmd);
  cmd->dev_id = dev_id;
  cmd->queue_id = static_cast<uint16_t>(-1);  // not a per-queue command
  cmd->addr = reinterpret_cast<uint64_t>(buf);
  cmd->len = len;
  cmd->data[0] = data0;
  int r = io_uring_submit_and_wait(&ring_, 1);
  if (r < 0) return r;
  io_uring_cqe* cqe = nullptr;
  do {
    r = io_uring_wait_cqe(&ring_, &cqe);
  } while (r == -EINTR);
  if (r < 0) return r;
  int res = cqe->res;
  io_uring_cqe_seen(&ring_, cqe);
  return res;
}

Status ControlDevice::run(uint32_t op, const char* what, uint32_t dev_id, uint64_t data0, void* buf,
                          uint16_t len) {
  int r = command(op, dev_id, data0, buf, len);
  if (r < 0) return control_status(what, dev_id, r);
  return Status::Ok();
}

Status ControlDevice::add(ublksrv_ctrl_dev_info* info) {
  // The kernel insists the id in the command and in the info agree.
  return run(UBLK_CMD_ADD_DEV, "ADD_DEV", info->dev_id, 0, info, sizeof(*info));
}

Status ControlDevice::set_params(uint32_t dev_id, const ublk_params& params) {
  ublk_params copy = params;  // the kernel may write back len/types
  return run(UBLK_CMD_SET_PARAMS, "SET_PARAMS", dev_id, 0, &copy, sizeof(copy));
}

Status ControlDevice::start(uint32_t dev_id, int32_t server_pid) {
  return run(UBLK_CMD_START_DEV, "START_DEV", dev_id, static_cast<uint64_t>(server_pid));
}

Status ControlDevice::stop(uint32_t dev_id) { return run(UBLK_CMD_STOP_DEV, "STOP_DEV", dev_id); }

Status ControlDevice::remove(uint32_t dev_id, bool wait) {
  int r = -EINVAL;
  if (!wait) {
    r = command(UBLK_U_CMD_DEL_DEV_ASYNC, dev_id, 0, nullptr, 0);
    // Before 6.9 the opcode is unknown (EINVAL / EOPNOTSUPP): use the waiting form.
    if (r == -EINVAL || r == -EOPNOTSUPP) wait = true;
  }
  if (wait) r = command(UBLK_CMD_DEL_DEV, dev_id, 0, nullptr, 0);
  if (r < 0) return control_status("DEL_DEV", dev_id, r);
  return Status::Ok();
}

Status ControlDevice::get_info(uint32_t dev_id, ublksrv_ctrl_dev_info* info) {
  std::memset(info, 0, sizeof(*info));
  return run(UBLK_CMD_GET_DEV_INFO, "GET_DEV_INFO", dev_id, 0, info, sizeof(*info));
}

Status ControlDevice::get_params(uint32_t dev_id, ublk_params* params) {
  std::memset(params, 0, sizeof(*params));
  params->len = sizeof(*params);
  return run(UBLK_CMD_GET_PARAMS, "GET_PARAMS", dev_id, 0, params, sizeof(*params));
}

Status ControlDevice::start_recovery(uint32_t dev_id) {
  return run(UBLK_CMD_START_USER_RECOVERY, "START_USER_RECOVERY", dev_id);
}

Status ControlDevice::end_recovery(uint32_t dev_id, int32_t server_pid) {
  return run(UBLK_CMD_END_USER_RECOVERY, "END_USER_RECOVERY", dev_id, static_cast<uint64_t>(server_pid));
}

}  // namespace ublkcrypt

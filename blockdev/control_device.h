// ControlDevice: /dev/ublk-control, where ublk devices are added, configured, started,
// stopped and deleted. Commands are io_uring URING_CMDs (the control path has no ioctls);
// each call here sends one command and waits for its answer.
//
// Thread safety: calls are serialised internally, so any thread may use one instance.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "base/status.h"
#include "blockdev/ublk_uapi.h"

namespace ublkcrypt {

class ControlDevice {
 public:
  // Fails with not_found and a hint when this kernel has no ublk driver.
  static Status open(std::unique_ptr<ControlDevice>* out);
  ~ControlDevice();
  ControlDevice(const ControlDevice&) = delete;
  ControlDevice& operator=(const ControlDevice&) = delete;

  // ADD_DEV. `info` in: queues, depth, max io, flags, and dev_id (kAnyDeviceId: the kernel
  // picks); out: the kernel's view (dev_id, the flags it added). An id in use: busy.
  Status add(ublksrv_ctrl_dev_info* info);
  Status set_params(uint32_t dev_id, const ublk_params& params);
  // START_DEV blocks until every queue has a FETCH_REQ for every tag: call it from a thread
  // that does not serve a queue. /dev/ublkbN exists when it returns.
  Status start(uint32_t dev_id, int32_t server_pid);
  // STOP_DEV: deletes the disk (the block layer drains in-flight requests first), then
  // completes every queued FETCH_REQ with UBLK_IO_RES_ABORT so the queue threads end.
  Status stop(uint32_t dev_id);
  // DEL_DEV frees the id. wait=true returns once the last reference (the server's mmap
  // and char device fd, an opener of the disk) is gone; wait=false (DEL_DEV_ASYNC, 6.9+)
  // returns at once, falling back to the waiting form on older kernels.
  Status remove(uint32_t dev_id, bool wait);
  // not_found when there is no such device.
  Status get_info(uint32_t dev_id, ublksrv_ctrl_dev_info* info);
  Status get_params(uint32_t dev_id, ublk_params* params);
  // User recovery (blockdev/device_recovery.cpp). START_USER_RECOVERY: busy until the dead
  // server's char device is closed and the kernel has quiesced the disk. END_USER_RECOVERY
  // waits, like START_DEV, until every queue has a FETCH_REQ for every tag, then lets the
  // queued requests go to the new server `server_pid`.
  Status start_recovery(uint32_t dev_id);
  Status end_recovery(uint32_t dev_id, int32_t server_pid);

 private:
  ControlDevice() = default;
  // Sends one control command; returns the CQE result (>= 0) or a negative errno.
  int command(uint32_t op, uint32_t dev_id, uint64_t data0, void* buf, uint16_t len);
  // command() as a Status naming the command `what` and the device.
  Status run(uint32_t op, const char* what, uint32_t dev_id, uint64_t data0 = 0, void* buf = nullptr,
             uint16_t len = 0);

  int fd_ = -1;
  io_uring ring_{};
  bool ring_ready_ = false;
  std::mutex mutex_;
};

// Device N then shows up as /dev/ublkcN (the server's char device) and, once started,
// /dev/ublkbN (the disk).
inline constexpr const char* kUblkControlPath = "/dev/ublk-control";
// ADD_DEV's "any id".
inline constexpr uint32_t kAnyDeviceId = UINT32_MAX;

}  // namespace ublkcrypt

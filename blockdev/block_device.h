// BlockDevice: one ublk disk, /dev/ublkbN, from ADD_DEV to DEL_DEV.
//
// Lifecycle: ADD_DEV (the kernel picks N) -> SET_PARAMS -> one QueueThread per queue, each
// with a FETCH_REQ queued for every tag -> START_DEV (the disk appears). stop(): STOP_DEV
// (the block layer drains in-flight requests, the kernel aborts the fetches), queue
// threads finish and flush their engine queues, the char device is closed, DEL_DEV.
//
// If the server dies instead (SIGKILL), the kernel notices when the queue rings close:
// requests in flight and later ones fail with EIO, and the disk is deleted (6.12: at once
// through its cancelable URING_CMDs; older kernels: within the 5 s monitor period). The
// ublk device itself (/dev/ublkcN and its id) stays until someone sends DEL_DEV:
// remove_dead_device() below, which `open` runs on a stale state file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "blockdev/control_device.h"
#include "blockdev/device_params.h"
#include "blockdev/queue_target.h"
#include "blockdev/queue_thread.h"

namespace ublkcrypt {

struct BlockDeviceConfig {
  DeviceGeometry geometry;
  unsigned queues = 0;  // 0 = one per online CPU
  unsigned depth = 128;
};

// Totals over the queues.
struct BlockDeviceCounters {
  uint64_t reads = 0, writes = 0, flushes = 0, discards = 0, write_zeroes = 0;
  uint64_t read_bytes = 0, write_bytes = 0, errors = 0;
};

class BlockDevice {
 public:
  // Creates and starts the disk; `factory` builds each queue's target on its thread. On
  // failure nothing is left behind: queue threads ended, the ublk device deleted.
  static Status create(const BlockDeviceConfig& config, const QueueTargetFactory& factory,
                       std::unique_ptr<BlockDevice>* out);
  ~BlockDevice();  // stop() if still running
  BlockDevice(const BlockDevice&) = delete;
  BlockDevice& operator=(const BlockDevice&) = delete;

  uint32_t dev_id() const { return info_.dev_id; }
  std::string disk_path() const;  // /dev/ublkbN
  unsigned queues() const { return info_.nr_hw_queues; }
  unsigned depth() const { return info_.queue_depth; }
  BlockDeviceCounters counters() const;

  // Clean stop (see above). wait_delete=false uses DEL_DEV_ASYNC so that a disk still
  // held open (a filesystem left mounted) cannot keep the caller waiting.
  Status stop(bool wait_delete = true);

 private:
  BlockDevice() = default;
  void abandon_queues();

  std::unique_ptr<ControlDevice> control_;
  ublksrv_ctrl_dev_info info_{};
  int char_fd_ = -1;
  std::vector<std::unique_ptr<QueueThread>> queues_;
  bool added_ = false;
  bool started_ = false;
};

// Deletes ublk device `dev_id` left by a server that died, if it still exists and was
// served by `server_pid`, which must be dead. Returns ok when there is nothing to do. A
// device another server is still setting up looks dead too: the caller makes sure there is
// none (ublkcrypt: it holds the open lock).
Status remove_dead_device(uint32_t dev_id, pid_t server_pid);

}  // namespace ublkcrypt

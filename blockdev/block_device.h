// BlockDevice: one ublk disk, /dev/ublkbN, from ADD_DEV to DEL_DEV.
//
// Lifecycle: ADD_DEV (the kernel picks N) -> SET_PARAMS -> one QueueThread per queue, each
// with a FETCH_REQ queued for every tag -> START_DEV (the disk appears). stop(): STOP_DEV
// (the block layer drains in-flight requests, the kernel aborts the fetches), queue
// threads finish and flush their engine queues, the char device is closed, DEL_DEV.
//
// If the server dies instead (SIGKILL, a crash, the OOM killer), the kernel notices when
// the queue rings close. With user recovery (the default, BlockDeviceConfig::user_recovery)
// the disk stays: the requests the dead server held are requeued (REISSUE), the disk is
// quiesced and every request waits until recover() below reattaches a new server to the
// same device id, or until someone stops the device (STOP_DEV fails the waiting requests
// with EIO). Without it, requests in flight and later ones fail with EIO and the disk is
// deleted. Either way the ublk device itself (/dev/ublkcN and its id) stays until someone
// sends DEL_DEV: remove_dead_device() below, which `open` and `close` run on a stale state.
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
  // UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE: the disk outlives its server.
  bool user_recovery = true;
  // The id to create the device under (a disk made again at another size keeps its
  // /dev/ublkbN); kAnyDeviceId lets the kernel pick.
  uint32_t dev_id = kAnyDeviceId;
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
  bool user_recovery() const { return (info_.flags & UBLK_F_USER_RECOVERY) != 0; }
  BlockDeviceCounters counters() const;

  // Reattaches to device `dev_id`, whose server died or handed it over, and serves it
  // (blockdev/device_recovery.cpp): START_USER_RECOVERY, a queue thread per queue with a
  // FETCH_REQ on every tag, END_USER_RECOVERY; the requests that waited go to `factory`'s
  // targets. Queues and depth are the device's own; `config.geometry` must match the
  // device's parameters (a check that this is the disk the caller thinks it is). Waits up
  // to `wait_ms` for the kernel to finish with the old server (its char device closed, the
  // disk quiesced). not_found: no such device; unsupported: created without user recovery;
  // busy: still served. On failure the device is left as it was found, waiting.
  static Status recover(uint32_t dev_id, const BlockDeviceConfig& config,
                        const QueueTargetFactory& factory, int wait_ms,
                        std::unique_ptr<BlockDevice>* out);

  // Clean stop (see above). wait_delete=false uses DEL_DEV_ASYNC so that a disk still
  // held open (a filesystem left mounted) cannot keep the caller waiting.
  Status stop(bool wait_delete = true);

  // Leaves the disk to a next server (a planned upgrade): the queues take no new request,
  // finish the ones they started, and close their rings and the char device without
  // STOP_DEV. The kernel then requeues what arrived meanwhile and quiesces the disk, as if
  // this server had died, and recover() in another process picks it up. Only for a
  // device created with user recovery.
  Status hand_over();

 private:
  BlockDevice() = default;
  void abandon_queues();
  // Opens /dev/ublkcN, retrying while a udev rule changes its mode and, for up to
  // `busy_wait_ms`, while a dying server still has it open (EBUSY).
  static int open_char_device(uint32_t id, int busy_wait_ms, int* err);
  Status start_queues(const QueueTargetFactory& factory, uint32_t max_io_bytes);

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

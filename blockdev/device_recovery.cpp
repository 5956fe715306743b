// BlockDevice::recover and hand_over: a ublk disk that outlives its server.
//
// The kernel side (6.0+, UBLK_F_USER_RECOVERY with REISSUE): when the queue rings of a
// server close without STOP_DEV, the driver requeues every request the server held,
// quiesces the disk and marks the device QUIESCED; requests then wait in the block layer.
// START_USER_RECOVERY is accepted once the old server's char device is closed and the disk
// is quiesced (so the new server opens the char device only after it), forgets the old
// queues, and lets a new process map the descriptors and fetch every tag again; END_USER_RECOVERY (which, like START_DEV, waits until every tag
// of every queue has its FETCH_REQ) records the new server's pid and releases the
// requests. STOP_DEV on a quiesced device fails the waiting requests with EIO: that is how
// a device nobody recovers is given up (tools/serve/recovery_watchdog.h).
#include <unistd.h>

#include <bit>
#include <chrono>
#include <string>
#include <thread>

#include "blockdev/block_device.h"

namespace ublkcrypt {
namespace {

Status check_same_disk(uint32_t dev_id, const ublksrv_ctrl_dev_info& info, const ublk_params& params,
                       const DeviceGeometry& g) {
  const std::string object = "ublk device " + std::to_string(dev_id);
  const ublk_param_basic& b = params.basic;
  if (!(params.types & UBLK_PARAM_TYPE_BASIC) || b.dev_sectors != g.size_bytes >> 9 ||
      b.logical_bs_shift != std::countr_zero(g.sector_size))
    return {Errc::invalid_argument, object + ": its size or sector size is not the volume's (disk: " +
                                        std::to_string(uint64_t(b.dev_sectors) << 9) + " bytes in " +
                                        std::to_string(1u << b.logical_bs_shift) + "-byte sectors; volume: " +
                                        std::to_string(g.size_bytes) + " bytes in " +
                                        std::to_string(g.sector_size) + "-byte sectors)"};
  if (g.max_io_bytes > info.max_io_buf_bytes)
    return {Errc::invalid_argument, object + ": takes requests up to " +
                                        std::to_string(info.max_io_buf_bytes) + " bytes, the volume " +
                                        std::to_string(g.max_io_bytes)};
  return Status::Ok();
}

}  // namespace

Status BlockDevice::recover(uint32_t dev_id, const BlockDeviceConfig& config,
                            const QueueTargetFactory& factory, int wait_ms,
                            std::unique_ptr<BlockDevice>* out) {
  const std::string object = "ublk device " + std::to_string(dev_id);
  std::unique_ptr<BlockDevice> dev(new BlockDevice);
  Status s = ControlDevice::open(&dev->control_);
  if (!s.ok()) return s;
  ublksrv_ctrl_dev_info& info = dev->info_;
  s = dev->control_->get_info(dev_id, &info);
  if (s.code() == Errc::not_found) return {Errc::not_found, object + ": gone (nothing to recover)"};
  if (!s.ok()) return s;
  if (!(info.flags & UBLK_F_USER_RECOVERY))
    return {Errc::unsupported, object + ": created without user recovery, its disk does not wait for a new server"};
  ublk_params params;
  s = dev->control_->get_params(dev_id, &params);
  if (!s.ok()) return s;
  s = check_same_disk(dev_id, info, params, config.geometry);
  if (!s.ok()) return s;

  // START_USER_RECOVERY is refused (busy) while the old server's char device is open —
  // its io_uring may still be torn down — and until a kernel worker has quiesced the disk.
  // Our own open of the char device counts as open too: it comes after.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    s = dev->control_->start_recovery(dev_id);
    if (s.ok()) break;
    if (s.code() != Errc::busy || std::chrono::steady_clock::now() >= deadline) {
      if (s.code() == Errc::busy)
        return {Errc::busy, object + ": not released by its server after " + std::to_string(wait_ms) +
                                " ms (is it still running?)"};
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int err = 0;
  dev->char_fd_ = open_char_device(dev_id, wait_ms, &err);
  if (dev->char_fd_ < 0) return errno_status("open /dev/ublkc" + std::to_string(dev_id), err);
  // From here a failure leaves the device to the next attempt: the destructor ends the
  // queue threads but never deletes the device.
  s = dev->start_queues(factory, config.geometry.max_io_bytes);
  if (!s.ok()) return s;
  s = dev->control_->end_recovery(dev_id, getpid());
  if (!s.ok()) return s;
  dev->added_ = true;
  dev->started_ = true;
  *out = std::move(dev);
  return Status::Ok();
}

Status BlockDevice::hand_over() {
  if (!started_) return Status::Ok();
  if (!(info_.flags & UBLK_F_USER_RECOVERY))
    return {Errc::unsupported, "ublk device " + std::to_string(info_.dev_id) +
                                   ": created without user recovery, it cannot be handed over"};
  started_ = false;
  added_ = false;
  // The queues stop taking requests, finish those their targets hold, and their threads
  // exit before their rings close (QueueThread::release_ring says why); the kernel
  // requeues whatever arrived in between for the next server.
  abandon_queues();
  if (char_fd_ >= 0) ::close(char_fd_);
  char_fd_ = -1;
  return Status::Ok();
}

}  // namespace ublkcrypt

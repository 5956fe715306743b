#include "blockdev/block_device.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/pause_point.h"

namespace ublkcrypt {
namespace {

std::string char_path(uint32_t id) { return "/dev/ublkc" + std::to_string(id); }

}  // namespace

// devtmpfs creates /dev/ublkcN during ADD_DEV, but a udev rule may still be changing its
// mode: retry briefly rather than fail on a race. The kernel lets one process at a time
// open it: after a server died, EBUSY lasts until its io_uring is torn down.
int BlockDevice::open_char_device(uint32_t id, int busy_wait_ms, int* err) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_wait_ms);
  for (int attempt = 0;; ++attempt) {
    int fd = ::open(char_path(id).c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) return fd;
    *err = errno;
    const bool settling = (*err == ENOENT || *err == EACCES) && attempt < 50;
    const bool dying = *err == EBUSY && std::chrono::steady_clock::now() < deadline;
    if (!settling && !dying) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status BlockDevice::start_queues(const QueueTargetFactory& factory, uint32_t max_io_bytes) {
  for (unsigned q = 0; q < info_.nr_hw_queues; ++q) {
    QueueConfig qc;
    qc.char_fd = char_fd_;
    qc.queue_id = static_cast<uint16_t>(q);
    qc.depth = info_.queue_depth;
    qc.max_io_bytes = max_io_bytes;
    std::unique_ptr<QueueThread> thread;
    Status s = QueueThread::start(qc, factory, &thread);
    if (!s.ok()) return s;
    queues_.push_back(std::move(thread));
  }
  return Status::Ok();
}

Status BlockDevice::create(const BlockDeviceConfig& config, const QueueTargetFactory& factory,
                           std::unique_ptr<BlockDevice>* out) {
  ublk_params params;
  Status s = make_device_params(config.geometry, &params);
  if (!s.ok()) return s;
  unsigned queues = config.queues;
  if (queues == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    queues = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
  }
  if (queues > 64)
    return {Errc::invalid_argument, "queues " + std::to_string(queues) + ": at most 64"};
  if (config.depth < 1 || config.depth > kUblkMaxQueueDepth)
    return {Errc::invalid_argument, "queue depth " + std::to_string(config.depth) +
                                        ": must be 1.." + std::to_string(kUblkMaxQueueDepth)};

  std::unique_ptr<BlockDevice> dev(new BlockDevice);
  s = ControlDevice::open(&dev->control_);
  if (!s.ok()) return s;

  ublksrv_ctrl_dev_info& info = dev->info_;
  info.nr_hw_queues = static_cast<uint16_t>(queues);
  info.queue_depth = static_cast<uint16_t>(config.depth);
  info.max_io_buf_bytes = config.geometry.max_io_bytes;
  // Copy mode (no zero-copy, no USER_COPY): the server must see the data to encrypt it,
  // and the kernel copying into our buffers is the simplest way to get it. Reissuing what
  // a dead server held is safe here: a request is a whole read or write of whole sectors,
  // and writing the same ciphertext twice leaves the same bytes.
  info.flags = config.user_recovery ? (UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE) : 0;
  info.dev_id = config.dev_id;
  s = dev->control_->add(&info);
  if (!s.ok()) return s;
  dev->added_ = true;
  // From here the destructor cleans up: abandon queues, delete the ublk device. Until
  // START_DEV the kernel shows this device with no server pid (remove_dead_device).
  pause_point("ublk.added");

  s = dev->control_->set_params(info.dev_id, params);
  if (!s.ok()) return s;

  int err = 0;
  dev->char_fd_ = open_char_device(info.dev_id, 0, &err);
  if (dev->char_fd_ < 0) return errno_status("open " + char_path(info.dev_id), err);

  s = dev->start_queues(factory, config.geometry.max_io_bytes);
  if (!s.ok()) return s;
  // Every tag of every queue has its FETCH_REQ with the kernel, so START_DEV (which
  // waits for exactly that) returns; the queue threads already serve the partition scan.
  s = dev->control_->start(info.dev_id, getpid());
  if (!s.ok()) return s;
  dev->started_ = true;
  *out = std::move(dev);
  return Status::Ok();
}

BlockDevice::~BlockDevice() {
  if (started_) {
    (void)stop(false);
  } else if (added_) {
    abandon_queues();
    if (char_fd_ >= 0) ::close(char_fd_);
    char_fd_ = -1;
    (void)control_->remove(info_.dev_id, true);
  } else {
    // A recovery that failed part-way: the device is not ours to delete.
    abandon_queues();
    if (char_fd_ >= 0) ::close(char_fd_);
    char_fd_ = -1;
  }
}

void BlockDevice::abandon_queues() {
  for (auto& q : queues_) q->abandon();
  for (auto& q : queues_) (void)q->join();
  queues_.clear();
}

std::string BlockDevice::disk_path() const {
  return "/dev/ublkb" + std::to_string(info_.dev_id);
}

BlockDeviceCounters BlockDevice::counters() const {
  BlockDeviceCounters c;
  for (const auto& q : queues_) {
    const QueueCounters& qc = q->counters();
    auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    c.reads += get(qc.reads);
    c.writes += get(qc.writes);
    c.flushes += get(qc.flushes);
    c.discards += get(qc.discards);
    c.write_zeroes += get(qc.write_zeroes);
    c.read_bytes += get(qc.read_bytes);
    c.write_bytes += get(qc.write_bytes);
    c.errors += get(qc.errors);
  }
  return c;
}

Status BlockDevice::stop(bool wait_delete) {
  if (!started_) return Status::Ok();
  started_ = false;
  Status result = control_->stop(info_.dev_id);
  if (!result.ok()) abandon_queues();  // no ABORTs coming: end the threads ourselves
  for (auto& q : queues_) {
    Status s = q->join();
    if (result.ok() && !s.ok()) result = s;
  }
  queues_.clear();
  // DEL_DEV (waiting form) returns only after our char device fd and mappings are gone.
  if (char_fd_ >= 0) ::close(char_fd_);
  char_fd_ = -1;
  Status s = control_->remove(info_.dev_id, wait_delete);
  added_ = false;
  if (result.ok() && !s.ok()) result = s;
  return result;
}

// A zombie (killed, not yet reaped: its parent `open` exited, and a minimal init may never
// reap) still answers kill(pid, 0) but serves nothing.
static bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return true;
  char state = '?';
  int matched = std::fscanf(f, "%*d (%*[^)]) %c", &state);
  std::fclose(f);
  return !(matched == 1 && (state == 'Z' || state == 'X'));
}

Status remove_dead_device(uint32_t dev_id, pid_t server_pid) {
  if (process_alive(server_pid))
    return {Errc::busy, "ublk device " + std::to_string(dev_id) + ": server pid " +
                            std::to_string(server_pid) + " is still running"};
  std::unique_ptr<ControlDevice> control;
  Status s = ControlDevice::open(&control);
  if (!s.ok()) return s;
  ublksrv_ctrl_dev_info info;
  s = control->get_info(dev_id, &info);
  if (s.code() == Errc::not_found) return Status::Ok();  // already gone
  if (!s.ok()) return s;
  // The id may have been reused since: leave a device whose (other) server is alive. A
  // device still being set up cannot be told from a dead one here (the 6.12 kernel shows
  // both as state DEAD, server pid -1): callers hold the open lock, under which no server
  // of ours is between ADD_DEV and its published state (tools/serve/volume_server.cpp).
  if (info.ublksrv_pid != server_pid &&
      (info.ublksrv_pid == 0 || process_alive(info.ublksrv_pid)))
    return Status::Ok();
  // A dead server's disk is normally deleted by the kernel already; STOP_DEV makes sure
  // (a no-op on a dead device). Then delete without waiting for openers.
  (void)control->stop(dev_id);
  s = control->remove(dev_id, false);
  if (s.ok())
    std::fprintf(stderr, "ublkcrypt: removed ublk device %u left by dead server pid %d (kernel: state %u, server pid %d)\n",
                 dev_id, static_cast<int>(server_pid), unsigned(info.state), int(info.ublksrv_pid));
  return s;
}

}  // namespace ublkcrypt

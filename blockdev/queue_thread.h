// QueueThread: one ublk hardware queue served by one thread with its own io_uring.
//
// Per tag, one URING_CMD is always with the kernel: FETCH_REQ at start, then
// COMMIT_AND_FETCH_REQ carrying the previous result. The target shares the ring (the
// engine's storage I/O and its eventfd read ride on it), so crypto and storage
// completions and new requests wake one loop, and one io_uring_enter per pass sends
// commits and storage I/O together. The ring runs with DEFER_TASKRUN where the kernel has
// it: the kernel's work for this thread (new requests, completions) waits for the loop's
// next enter instead of interrupting it. Per-tag state lives in arrays sized once; nothing
// is allocated per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/status.h"
#include "blockdev/queue_target.h"
#include "blockdev/ublk_uapi.h"
#include "engine/io_ring.h"

namespace ublkcrypt {

// Counters a status query reads while the queue runs (relaxed: statistics only).
struct QueueCounters {
  std::atomic<uint64_t> reads{0}, writes{0}, flushes{0}, discards{0}, write_zeroes{0};
  std::atomic<uint64_t> read_bytes{0}, write_bytes{0};
  std::atomic<uint64_t> errors{0};  // requests completed with an error
};

struct QueueConfig {
  int char_fd = -1;     // /dev/ublkcN, shared by the queues (owned by the caller)
  uint16_t queue_id = 0;
  uint16_t depth = 128;
  uint32_t max_io_bytes = 512 * 1024;
};

class QueueThread final : private QueueIoDone {
 public:
  // Maps the queue's descriptors, builds its target (on the new thread), queues a
  // FETCH_REQ for every tag and returns once they are with the kernel, so START_DEV can
  // follow. On failure the thread has ended and nothing is left behind.
  static Status start(const QueueConfig& config, const QueueTargetFactory& factory,
                      std::unique_ptr<QueueThread>* out);
  ~QueueThread();  // joins
  QueueThread(const QueueThread&) = delete;
  QueueThread& operator=(const QueueThread&) = delete;

  // Ends the loop without the kernel's ABORT (the device never started, is being torn
  // down after a failure, or is handed over): requests in the target finish, then the
  // thread exits, which cancels the commands still with the kernel.
  void abandon();
  // Waits for the thread, then closes the ring and unmaps the buffers; returns how the
  // thread ended (the target's drain result).
  Status join();

  const QueueCounters& counters() const { return counters_; }

 private:
  enum class TagState : uint8_t { with_kernel, in_target, aborted };

  // Where each ring completion of ours goes: a tag's command, or the stop poll.
  struct TagCommand final : IoRing::Completion {
    QueueThread* queue = nullptr;
    unsigned tag = 0;
    void ring_done(const io_uring_cqe& cqe) override { queue->handle_command(tag, cqe.res); }
  };
  struct PollDone final : IoRing::Completion {
    bool* fired = nullptr;
    void ring_done(const io_uring_cqe&) override { *fired = true; }
  };

  explicit QueueThread(const QueueConfig& config) : config_(config) {}
  Status setup(const QueueTargetFactory& factory);
  void run();
  void release_ring();
  void io_done(unsigned tag, int result) override;
  void queue_command(unsigned tag, uint32_t op, int32_t result);
  void arm_poll(int fd, PollDone* poll);
  void handle_command(unsigned tag, int res);
  bool finished() const;

  QueueConfig config_;
  IoRing ring_;
  std::vector<TagCommand> commands_;  // by tag
  PollDone stop_poll_;
  const ublksrv_io_desc* descs_ = nullptr;  // kernel-written, read-only mapping
  size_t descs_bytes_ = 0;
  uint8_t* buffers_ = nullptr;  // depth * max_io_bytes
  size_t buffers_bytes_ = 0;
  std::vector<TagState> tags_;
  unsigned aborted_ = 0;
  std::unique_ptr<QueueTarget> target_;
  int stop_fd_ = -1;  // eventfd: abandon()
  bool abandoned_ = false;
  Status result_;
  QueueCounters counters_;
  std::thread thread_;
};

}  // namespace ublkcrypt

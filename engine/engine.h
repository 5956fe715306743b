// Engine: turns block requests into encrypted storage I/O.
//
// Write: encrypt (through the Session, whichever provider serves it) then write the
// ciphertext. Read: read then decrypt. Flush: wait for every write this queue accepted
// before it, then make the backing durable; after a write or flush of the backing failed,
// every later flush of the engine fails too (data may be lost), until the engine is closed. Many requests are in flight at once, so crypto
// of one overlaps storage I/O of others. The engine never knows which provider runs, and
// knows nothing of ublk: the block device (blockdev/) drives it through EngineQueue.
//
// One execution model: a queue runs on its thread's io_uring (io_ring.h), the ring the
// ublk queue thread also sends its commands on. Tests and benchmarks drive the same path
// through RingQueue (ring_queue.h).
//
// Crypto never transforms the caller's buffer in place (bounce_buffers.h): a crypto step
// that fails part-way can then be retried whole on another provider.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backends/registry.h"
#include "base/status.h"
#include "engine/io_ring.h"
#include "engine/storage.h"

namespace ublkcrypt {

struct EngineConfig {
  uint64_t data_offset = 0;  // bytes into the backing where sector 0 lives (LUKS2 segment)
  uint64_t size_bytes = 0;   // decrypted device size; 0 = the rest of the backing
  bool read_only = false;
  bool allow_discards = false;  // off by default, as dm-crypt (discards leak usage patterns)
  // Largest read or write (discard/write_zeroes: any); 0 = the backing's preference
  // (StorageInfo::preferred_max_io_bytes) up to kLargestMaxIoBytes, else kDefaultMaxIoBytes.
  uint32_t max_io_bytes = 0;
};

// A request buffer per tag of this size lives in the device and in the engine's bounce
// pool: larger costs memory at every depth, smaller splits a large user I/O.
inline constexpr uint32_t kDefaultMaxIoBytes = 512 * 1024;
// The most a backing's preference raises it to: a whole rbd object of the usual size, and
// no larger a buffer per tag.
inline constexpr uint32_t kLargestMaxIoBytes = 1024 * 1024;

enum class BlockOp { read, write, flush, discard, write_zeroes };

class BlockRequest;

class BlockCompletion {
 public:
  virtual void block_done(BlockRequest* request, Status status) = 0;

 protected:
  ~BlockCompletion() = default;
};

// Owned by the caller (per-queue arrays indexed by tag). The buffer belongs to the engine
// while the request is in flight: a read fills it with plaintext; a write only reads it,
// so it still holds the plaintext when the write completes. Buffers must be 4096-byte
// aligned.
class BlockRequest {
 public:
  BlockOp op = BlockOp::read;
  bool fua = false;       // write: durable before completion
  uint64_t offset = 0;    // bytes in the decrypted device
  uint32_t length = 0;
  uint8_t* buffer = nullptr;
  BlockCompletion* completion = nullptr;

  // Engine-private per-request state (no allocation per request).
  struct Internal;
  alignas(8) unsigned char internal[256];
};

class EngineQueue;

class Engine {
 public:
  // Takes ownership of the backing and the crypto session. Fails with a one-line reason if
  // the geometry does not fit (backing shorter than data_offset + one sector, sizes not
  // multiples of the sector size, a read-only backing for a writable volume).
  static Status create(const EngineConfig& config, std::unique_ptr<Storage> storage,
                       std::unique_ptr<Session> session, std::unique_ptr<Engine>* out);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  uint64_t size_bytes() const;
  // The size a resize to `size_bytes` gives (0: to the backing's end as the backing is now,
  // like a new open), checked as create() checks a size. Changes nothing.
  Status resized_size(uint64_t size_bytes, uint64_t* resolved) const;
  // Serves the size resized_size() gives from now on. Only while no queue is open: the ublk
  // disk in front is stopped while its size changes.
  Status resize(uint64_t size_bytes);
  // Passes discards to the backing, or refuses them, from now on. Only while no queue is open.
  void set_allow_discards(bool allow);
  uint32_t sector_size() const;
  const EngineConfig& config() const;
  const StorageInfo& storage_info() const;
  Session& session();
  // Bytes the backing transferred for reads and writes, over every queue: what the bench
  // counts as storage traffic per user byte (any thread; a statistic, read relaxed).
  uint64_t storage_bytes() const;

  // A queue for the calling thread on its ring; all calls on the queue come from that
  // thread. Storage I/O goes out with the ring owner's next submit, and the queue's own
  // wakeups (crypto completions from provider threads) arrive as a read of an eventfd on
  // the ring. The owner calls process() after every dispatch() of the ring; the ring
  // outlives the queue. `depth` requests in flight have bounce buffers of their own; more
  // are accepted and wait for one.
  Status open_queue(unsigned depth, IoRing* ring, std::unique_ptr<EngineQueue>* out);

 private:
  Engine() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend class EngineQueue;
};

class EngineQueue {
 public:
  // Waits for requests still in flight (their completions run) before it returns. Destroy
  // every queue before its Engine.
  ~EngineQueue();
  EngineQueue(const EngineQueue&) = delete;
  EngineQueue& operator=(const EngineQueue&) = delete;

  // Starts a request. Invalid requests complete before any storage I/O is issued:
  // misaligned, zero-length, out of range or over max_io_bytes with invalid_argument,
  // changes to a read-only volume with permission, discards when not allowed with
  // unsupported (the kernel's EOPNOTSUPP). Completions run on this thread, inside
  // process(), never inside submit().
  void submit(BlockRequest* request);
  // Starts several requests with one crypto batch and one storage system call.
  void submit(std::span<BlockRequest* const> requests);

  // Advances every request whose crypto or storage step finished; runs completions.
  // Never blocks.
  void process();
  // Runs some crypto that waits for a provider thread here, on the queue's thread, then
  // process()es; false at once if there is none (see ProviderSession::help). The ring's
  // owner calls it instead of sleeping when no completion waits on the ring: on a machine
  // with few cores the queue thread is the core the provider lacks.
  bool help();
  // process(); if that moved nothing, help(); if there was nothing to help with, submits and
  // waits on the ring for one completion (at most `timeout_ms`; -1: no limit), dispatches
  // what arrived and process()es again. For loops that own the ring.
  void wait_and_process(int timeout_ms = -1);
  // Requests submitted and not yet completed.
  unsigned in_flight() const;

 private:
  friend class Engine;
  EngineQueue() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ublkcrypt

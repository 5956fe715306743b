// Storage: the backing that ciphertext lives on (a regular file, a block device, an
// emulated drive). Shaped like LevelDB's Env: the only door from the engine to the outside,
// small enough to wrap in a test (fail the Nth write) without a mocking framework.
//
// A Storage is shared; each engine queue thread opens its own StorageQueue, and all calls
// on a StorageQueue come from that one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace ublkcrypt {

class IoRing;

struct StorageInfo {
  std::string name;                 // path as given, for messages
  uint64_t size_bytes = 0;
  uint32_t logical_block_size = 512;  // smallest aligned unit the backing accepts
  bool block_device = false;
  bool direct_io = false;           // opened with O_DIRECT (buffers must be 4096-aligned)
  bool read_only = false;
  // The largest request worth sending whole rather than split (rbd: each request is a
  // network round trip and an OSD operation, up to an object); 0 = no preference.
  uint32_t preferred_max_io_bytes = 0;
};

enum class StorageOp { read, write, flush, discard };

class StorageIo;

class StorageCompletion {
 public:
  // `bytes` is what the backing transferred; a read that returns less than asked is the
  // caller's to report (never silently zero-filled).
  virtual void storage_done(StorageIo* io, Status status, uint32_t bytes) = 0;

 protected:
  ~StorageCompletion() = default;
};

class StorageIo {
 public:
  StorageOp op = StorageOp::read;
  bool fua = false;         // write: durable before completion (RWF_DSYNC / FUA)
  uint64_t offset = 0;      // bytes, in the backing
  uint32_t length = 0;
  uint8_t* buffer = nullptr;
  StorageCompletion* completion = nullptr;

  // Storage-private while in flight: bytes moved so far. A short transfer is resumed from
  // here rather than reported (a read stops at end of file and reports what it got).
  uint32_t transferred = 0;
};

// "write /var/tmp/img at offset 4096", "flush rbd:pool/img": what an error message names.
std::string describe_storage_io(const StorageInfo& info, const StorageIo& io);

class StorageQueue {
 public:
  virtual ~StorageQueue() = default;
  StorageQueue(const StorageQueue&) = delete;
  StorageQueue& operator=(const StorageQueue&) = delete;

  // Queues `io`; it reaches the backing at the next kick().
  virtual void submit(StorageIo* io) = 0;
  // Ends a batch: everything queued since the last kick goes out with the ring owner's
  // next submit (one system call for the batch and the ublk commits beside it).
  virtual void kick() = 0;
  // Runs the completions of finished I/Os on this thread. Never blocks.
  virtual void reap() = 0;

 protected:
  StorageQueue() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  virtual const StorageInfo& info() const = 0;

  // The backing's size as it is now, which differs from info().size_bytes once the backing
  // grew or shrank (truncate, lvextend, rbd resize). Any thread. A backing whose size cannot
  // change says unsupported, naming itself.
  virtual Status current_size(uint64_t* size_bytes) const;
  // Serves `size_bytes` (what current_size() reported) from now on: info() shows it. Only
  // while no queue is open, as queues may rely on the size they were opened with.
  virtual Status set_size(uint64_t size_bytes);

  // A queue for the calling thread on that thread's ring (see io_ring.h), with room for
  // `depth` I/Os in flight. I/O goes out as SQEs on `ring` when the ring's owner submits;
  // completions come in through the ring's dispatch() and run at the next reap(). A
  // backing that completes I/O at once (a memory copy) keeps the result for reap() too:
  // the owner reaps after every dispatch of the ring and after every kick().
  virtual Status open_queue(unsigned depth, IoRing* ring,
                            std::unique_ptr<StorageQueue>* out) = 0;

 protected:
  Storage() = default;
};

struct FileStorageOptions {
  bool read_only = false;
  bool direct_io = true;  // O_DIRECT when the backing accepts it and it helps (not tmpfs)
  // The backing in messages, when the path opened is not the user's name for it (an
  // already open file reopened through /proc/self/fd/N). Empty: the path.
  std::string name;
};

// A regular file or block device through io_uring, on the queue thread's ring. Refuses (one line naming the path) a
// missing or unreadable path and a backing shorter than 512 bytes. With direct_io, falls
// back to buffered I/O when the filesystem refuses O_DIRECT or is tmpfs (info().direct_io
// says which). Reads and writes of a tmpfs file run synchronously on the queue's thread:
// they are memory copies, and io_uring (6.12) hands each one to an io-wq worker thread
// (shmem sets neither FMODE_NOWAIT nor FOP_BUFFER_WASYNC), which also runs a file's buffered
// writes one at a time. (A tmpfs that swaps would block the queue thread on a swap-in.)
Status open_file_storage(const std::string& path, const FileStorageOptions& options,
                         std::unique_ptr<Storage>* out);

}  // namespace ublkcrypt

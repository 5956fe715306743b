// IoPort: one benchmark job's door to what it measures — raw storage (a StorageQueue) or
// the encrypted datapath (an EngineQueue over the same storage). The job loop
// (workload_run.h) is the same for both, so the encrypted/raw ratio compares one loop
// against itself with only the datapath changed.
//
// A port belongs to one thread: it is opened, used and destroyed on the job's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "base/status.h"
#include "engine/engine.h"
#include "engine/storage.h"

namespace ublkcrypt {

class PortCompletion {
 public:
  virtual void io_done(unsigned slot, Status status) = 0;

 protected:
  ~PortCompletion() = default;
};

class IoPort {
 public:
  virtual ~IoPort() = default;
  IoPort(const IoPort&) = delete;
  IoPort& operator=(const IoPort&) = delete;

  // Queues an I/O in `slot` (0 .. depth-1, one I/O per slot at a time): a read, a write
  // or a flush.
  virtual void submit(unsigned slot, BlockOp op, uint64_t offset, uint32_t length,
                      uint8_t* buffer) = 0;
  // Sends what was queued.
  virtual void kick() = 0;
  // Waits up to `timeout_ms` for completions and reports each to `sink` on this thread.
  virtual void wait(int timeout_ms, PortCompletion* sink) = 0;

 protected:
  IoPort() = default;
};

// Opens a port with room for `depth` I/Os, on the calling thread.
using PortFactory = std::function<Status(unsigned depth, std::unique_ptr<IoPort>* out)>;

// Ports on raw storage. `storage` must outlive them.
PortFactory storage_ports(Storage& storage);
// Ports on the engine (encrypt + write, read + decrypt). `engine` must outlive them.
PortFactory engine_ports(Engine& engine);

}  // namespace ublkcrypt

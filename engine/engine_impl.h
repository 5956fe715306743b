// What an Engine holds, shared by its queues (engine.cpp builds it, engine_queue.cpp runs
// requests against it).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "backends/registry.h"
#include "engine/engine.h"
#include "engine/request_validation.h"
#include "engine/storage.h"

namespace ublkcrypt {

struct Engine::Impl {
  EngineConfig config;  // size_bytes resolved (never 0)
  VolumeGeometry geometry;
  std::unique_ptr<Storage> storage;
  std::unique_ptr<Session> session;
  std::atomic<uint64_t> storage_bytes{0};  // see Engine::storage_bytes()

  // Sticky backing failure, as the kernel's errseq keeps a writeback error: once a write or
  // a flush of the backing failed, data the volume took may be gone or torn, and a later
  // flush that succeeds proves nothing about it. Every later flush fails too, until the
  // engine is closed. Any queue thread.
  std::atomic<bool> flush_failed{false};
  std::mutex flush_error_mutex;
  Status flush_error;  // the first failure, under flush_error_mutex
};

}  // namespace ublkcrypt

// What an Engine holds, shared by its queues (engine.cpp builds it, engine_queue.cpp runs
// requests against it).
#pragma once

#include <atomic>
#include <memory>

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
};

}  // namespace ublkcrypt

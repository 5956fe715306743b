// EngineTarget: the queue target that encrypts — ublk requests become engine
// BlockRequests on this queue thread's EngineQueue. Per-tag requests live in one array.
#pragma once

#include <memory>

#include "blockdev/queue_target.h"
#include "engine/engine.h"

namespace ublkcrypt {

// A factory for BlockDevice: each queue thread opens its own EngineQueue on `engine`,
// which must outlive the device.
QueueTargetFactory engine_target_factory(Engine* engine);

}  // namespace ublkcrypt

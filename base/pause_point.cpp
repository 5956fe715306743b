#include "base/pause_point.h"

#include <atomic>

namespace ublkcrypt {
namespace {

std::atomic<PauseHook> installed{nullptr};

}  // namespace

void pause_point(const char* point) {
  if (PauseHook hook = installed.load(std::memory_order_acquire)) hook(point);
}

PauseHook set_pause_hook(PauseHook hook) { return installed.exchange(hook, std::memory_order_acq_rel); }

}  // namespace ublkcrypt

#include "tools/serve/dead_server.h"

#include <unistd.h>

#include "base/pause_point.h"
#include "tools/serve/run_state.h"
#include "tools/serve/volume_server.h"

namespace ublkcrypt {

DeadServerCleanup clean_up_dead_server(const std::string& name) {
  if (name_is_served(name)) return DeadServerCleanup::served;
  pause_point("close.dead-found");
  // Held while the leftovers go: an `open` of the name that starts meanwhile fails to take
  // it rather than have its new state removed. Never created here (no lock file: nothing
  // was ever served under the name).
  NameLock stale_lock;
  const bool ours = ::access(lock_path(name).c_str(), F_OK) == 0 &&
                    NameLock::try_lock(lock_path(name), &stale_lock).ok();
  if (ours) return clean_stale_name(name) ? DeadServerCleanup::cleaned : DeadServerCleanup::not_active;
  return name_is_served(name) ? DeadServerCleanup::served : DeadServerCleanup::not_active;
}

}  // namespace ublkcrypt

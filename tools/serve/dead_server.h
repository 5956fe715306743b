// What `close` does with a name before asking a server to stop: find out whether a live
// server holds the name and, if the one that held it died, remove what it left (its ublk
// device, state, socket and symlink).
//
// The race this guards: an `open` of the same name may start between "no live server" and
// the cleanup. The cleanup therefore happens only under the name's lock (run_state.h's
// NameLock), taken only if it is free; a server that took it in the meantime is live and is
// closed through its socket like any other, and its new state is left alone.
#pragma once

#include <string>

namespace ublkcrypt {

enum class DeadServerCleanup {
  served,      // a live server holds the name: ask it to close
  cleaned,     // its server had died; its leftovers are gone
  not_active,  // nothing serves the name and nothing was left
};

// Pause point "close.dead-found": after the name was found not served, before its lock is
// taken (base/pause_point.h).
DeadServerCleanup clean_up_dead_server(const std::string& name);

}  // namespace ublkcrypt

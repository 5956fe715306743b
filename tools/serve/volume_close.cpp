#include "tools/serve/volume_close.h"

#include "tools/serve/control_reply.h"
#include "tools/serve/dead_server.h"
#include "tools/serve/run_state.h"

namespace ublkcrypt {

Status close_volume(const std::string& name, CloseOutcome* outcome) {
  if (Status s = check_name(name); !s.ok()) return s;
  switch (clean_up_dead_server(name)) {
    case DeadServerCleanup::served:
      break;
    case DeadServerCleanup::cleaned:
      *outcome = CloseOutcome::cleaned_dead;
      return Status::Ok();
    case DeadServerCleanup::not_active:
      return Status(Errc::not_found, "Device " + name + " is not active");
  }
  // Stopping flushes the backing and drains the queues: generous on a slow machine.
  Status s = ask_server(name, R"({"cmd":"close"})", 300000, "close " + name);
  if (!s.ok()) return s;
  // The daemon answers after DEL_DEV; wait for it to exit (its lock is released then).
  NameLock lock;
  s = NameLock::lock(lock_path(name), 60000, &lock);
  if (!s.ok()) return s.in("close " + name + ": daemon did not exit");
  *outcome = CloseOutcome::closed;
  return Status::Ok();
}

}  // namespace ublkcrypt

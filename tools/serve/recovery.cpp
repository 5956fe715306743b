#include "tools/serve/recovery.h"

#include <cstdio>
#include <memory>

#include "blockdev/control_device.h"
#include "tools/serve/control_reply.h"
#include "tools/serve/key_handoff.h"

namespace ublkcrypt {
namespace {

// Asks NAME's live server to leave its disk; returns once it answered (the disk is then
// the kernel's, its queues closed).
Status request_handover(const std::string& name) {
  return ask_server(name, R"({"cmd":"handover"})", 120000, "hand over " + name);
}

// not_found unless the device of `previous` exists and waits for a server.
Status check_device_waits(const std::string& name, const RunState& previous) {
  std::unique_ptr<ControlDevice> control;
  Status s = ControlDevice::open(&control);
  if (!s.ok()) return s;
  ublksrv_ctrl_dev_info info;
  s = control->get_info(previous.dev_id, &info);
  if (s.code() == Errc::not_found)
    return {Errc::not_found, "Device " + name + ": its ublk device " + std::to_string(previous.dev_id) +
                                 " is gone, nothing to recover"};
  if (!s.ok()) return s;
  if (info.ublksrv_pid != previous.pid)
    return {Errc::not_found, "Device " + name + ": ublk device " + std::to_string(previous.dev_id) +
                                 " now belongs to another server, nothing to recover"};
  if (!(info.flags & UBLK_F_USER_RECOVERY))
    return {Errc::not_found, "Device " + name + ": opened without recovery (--recovery-timeout 0), "
                                                "its disk went with its server"};
  return Status::Ok();
}

}  // namespace

Status take_over_name(const std::string& name, NameLock* lock, RunState* previous) {
  if (Status s = check_name(name); !s.ok()) return s;
  if (name_is_served(name)) {
    if (Status s = request_handover(name); !s.ok()) return s;
  }
  // The old server releases the lock when it exits; a server still starting up holds it
  // for as long as its setup takes.
  Status s = NameLock::lock(lock_path(name), kRecoveryWaitMs, lock);
  if (s.code() == Errc::timeout)
    return {Errc::busy, "Device " + name + ": its server did not exit within " +
                            std::to_string(kRecoveryWaitMs / 1000) + " s"};
  if (!s.ok()) return s;
  s = read_state(name, previous);
  if (s.code() == Errc::not_found)
    return {Errc::not_found, "Device " + name + " has no server to replace and no disk waiting for one"};
  if (!s.ok()) return s;
  s = check_device_waits(name, *previous);
  if (!s.ok()) return s;
  UnlockedVolume probe;
  return fetch_parked_volume_key(name, &probe);
}

void recovery_options(const RunState& previous, OpenOptions* o) {
  // The resolved path: `open` may have been given a relative one in another directory.
  o->device = previous.backing_path.empty() ? previous.backing : previous.backing_path;
  o->type = previous.type == "plain" ? "plain" : previous.type == "TCRYPT" ? "tcrypt" : "luks";
  o->read_only = previous.read_only;
  o->allow_discards = previous.allow_discards;
  if (o->backend.empty()) o->backend = previous.backend;
  o->recovery_timeout_s = previous.recovery_timeout_s;
  o->recover_dev_id = previous.dev_id;
}

}  // namespace ublkcrypt

// KernelKeyring: secrets parked in the kernel's key retention service, in the calling
// user's keyring (root's for a server), as cryptsetup's --link-vk-to-keyring parks a volume
// key. A key there lives in kernel memory: never swapped, in no process's core dump, gone
// at reboot, and it survives the process that stored it — which is the point: a server
// that dies leaves its volume key to the next one (tools/serve/key_handoff.h).
//
// Keys are of type "user" (a "logon" key cannot be read back from user space). Their
// permissions are cut to view/read/search for the possessor and the owning user, nothing
// for group and others: only processes of the same uid (root) read them, and root could
// read a running server's memory anyway. The user keyring, not the session one: a service
// manager gives each service its own session keyring (systemd's KeyringMode=private), so
// the next server would not find it there.
#pragma once

#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace ublkcrypt {

// Stores `payload` under `description` in the user keyring, replacing any key there with
// that description. unsupported when the kernel has no keyrings (CONFIG_KEYS unset).
Status keyring_store(const std::string& description, const SecureBytes& payload);

// Reads the key `description` into locked memory. not_found when there is none.
Status keyring_load(const std::string& description, SecureBytes* out);

// Invalidates the key `description` (the kernel wipes and frees it); ok when there is none.
Status keyring_discard(const std::string& description);

}  // namespace ublkcrypt

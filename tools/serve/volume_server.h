// VolumeServer: the `open` daemon. It unlocks the volume, builds the engine and the ublk
// disk, publishes /dev/ublkcrypt/NAME and the run state, then serves the control socket
// until `close` or SIGTERM, and tears everything down in order.
//
// Keys: the whole sequence runs in the process that stays (open forks first), so the
// passphrase and volume key are read, mlock'ed and used only there. Nothing secret crosses
// fork(), whose child would not inherit the locks anyway.
#pragma once

#include <cstdint>
#include <string>

#include "tools/passphrase.h"

#include "base/status.h"

namespace ublkcrypt {

struct OpenOptions {
  std::string device;  // backing: LUKS image / block device
  std::string name;
  std::string type = "luks";  // "luks" (LUKS2/LUKS1 header) or "plain" (no header)
  // luks: the passphrase, by cryptsetup's key file rules (tools/passphrase.h); plain: the
  // raw key, exactly key_bits/8 bytes of key.key_file ("-" = stdin)
  KeyFileOptions key;
  int key_slot = -1;          // luks: -1 = any
  // plain only (cryptsetup --type plain spelling)
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;
  uint32_t sector_size = 512;
  uint64_t offset_sectors = 0;  // 512-byte sectors
  uint64_t size_sectors = 0;    // 0 = to the end of the backing
  // plain and luks: serve cipher_null (no encryption). A LUKS header with a cipher_null
  // segment is refused without it, unless an Opal drive does the encryption.
  bool allow_null_cipher = false;
  // the disk
  unsigned queues = 0;  // 0 = one per CPU
  unsigned depth = 128;
  bool allow_discards = false;
  bool read_only = false;
  std::string backend;  // SessionOptions::backend
};

// Reports readiness to whoever started the daemon: called once, with the disk path or the
// failure.
class ReadyReport {
 public:
  virtual void ready(const std::string& disk) = 0;
  virtual void failed(const Status& status) = 0;

 protected:
  ~ReadyReport() = default;
};

// Runs the daemon to its end. Returns the status of the teardown (or of the setup, after
// `report->failed`). With `detach`, once the device is up the daemon leaves the caller's
// session and writes its messages to /run/ublkcrypt/NAME.log.
Status serve_volume(const OpenOptions& options, ReadyReport* report, bool detach);

// Cleans up after a daemon of `name` that died (its lock is free): deletes its ublk device
// if the kernel still has it, removes state, socket and symlink. Returns whether there was
// any state. Call only when name_is_served(name) is false.
bool clean_stale_name(const std::string& name);

}  // namespace ublkcrypt

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
#include "volume/plain_volume.h"
#include "volume/tcrypt_volume.h"

#include "base/status.h"

namespace ublkcrypt {

struct OpenOptions {
  std::string device;  // backing: LUKS image / block device
  std::string name;
  // "luks" (a LUKS2 or LUKS1 header, whichever the device has), "luks1" or "luks2" (that
  // version only, as cryptsetup insists), "plain" (no header: `plain` describes the volume)
  // or "tcrypt" (a TrueCrypt or VeraCrypt header)
  std::string type = "luks";
  // luks: a detached header (cryptsetup's --header), a file or device holding the header
  // while `device` holds only the data; "" = the header is at the start of `device`.
  std::string header;
  // luks: the passphrase, by cryptsetup's key file rules (tools/passphrase.h); plain: the
  // key or passphrase by cryptsetup's plain rules (tools/plain_key.h); tcrypt: the
  // passphrase ("-" on the command line, a crypttab line's key file), its TrueCrypt keyfiles
  // being in `tcrypt`
  KeyFileOptions key;
  int key_slot = -1;          // luks: -1 = any
  PlainParams plain;          // plain only, cryptsetup's defaults and option names
  TcryptParams tcrypt;        // tcrypt only, cryptsetup's option names
  // plain and luks: serve cipher_null (no encryption). A LUKS header with a cipher_null
  // segment is refused without it, unless an Opal drive does the encryption.
  bool allow_null_cipher = false;
  // the disk
  unsigned queues = 0;  // 0 = one per CPU
  unsigned depth = 128;
  // Discards pass to the backing with this, or when a LUKS2 header's persistent flags ask
  // for it (unless `persistent`: then exactly this is served, and stored in the header).
  bool allow_discards = false;
  bool persistent = false;  // luks2: store allow_discards as the header's activation flags
  bool read_only = false;
  std::string backend;  // SessionOptions::backend
  // User recovery (tools/serve/recovery.h): how long the disk waits for a new server after
  // this one dies before its I/O fails (0: it does not wait, nor outlive the server).
  unsigned recovery_timeout_s = 60;
  // Take over the disk NAME's previous server left (or is asked to hand over) instead of
  // opening DEVICE; with DEVICE given, open it normally when there is nothing to recover.
  bool recover = false;
  uint32_t recover_dev_id = 0;  // filled by recovery_options()
};

// Reports readiness to whoever started the daemon: called once, with the disk path or the
// failure.
class ReadyReport {
 public:
  virtual void ready(const std::string& disk) = 0;
  virtual void failed(const Status& status) = 0;
  // The daemon ended by handing its disk over to a next server (after ready()).
  virtual void handed_over() {}

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

// RunState: what `open` leaves under /run/ublkcrypt for `close`, `status` and the next
// `open` — one JSON file per name, plus the name's lock, control socket and log.
//
//   /run/ublkcrypt/NAME.json  state (written atomically once the device is up)
//   /run/ublkcrypt/NAME.lock  flock'ed by the serving daemon for its whole life: the lock
//                             being free means no live server, whatever the files say
//   /run/ublkcrypt/NAME.sock  control socket (JSON lines: status, close)
//   /run/ublkcrypt/NAME.log   the daemon's stderr
//   /run/ublkcrypt/.open.lock the global open lock (volume_server.cpp says what it covers)
//   /dev/ublkcrypt/NAME       symlink to /dev/ublkbN
//
// UBLKCRYPT_RUN_DIR and UBLKCRYPT_DEV_DIR move both trees (host unit tests).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace ublkcrypt {

struct RunState {
  std::string name;
  pid_t pid = 0;          // the serving daemon
  uint32_t dev_id = 0;    // ublk device id: /dev/ublkbN, /dev/ublkcN
  std::string device;     // /dev/ublkbN
  std::string backing;    // as given on the command line
  std::string backing_path;  // resolved (realpath) for the busy check
  uint64_t backing_dev = 0, backing_ino = 0;  // identity of the backing (st_rdev for disks)
  // A detached LUKS header (open --header) as given and resolved (realpath); "" when the
  // header is on the backing. Read once, at open; recovering servers carry it forward.
  std::string header, header_path;
  std::string type;       // "LUKS", "plain" or "TCRYPT"
  std::string cipher;     // "aes-xts-plain64"
  uint32_t key_bits = 0;
  uint32_t sector_size = 512;
  uint64_t size_bytes = 0;
  uint64_t data_offset = 0;
  uint64_t iv_offset = 0;  // 512-byte units added to every IV (plain --skip, LUKS2 iv_tweak)
  std::string backend;    // as asked ("" = by priority)
  unsigned queues = 0, depth = 0;
  bool read_only = false, allow_discards = false;
  // User recovery: how long the disk waits for a new server after this one dies (0: it
  // does not), and how many servers took it over since `open`.
  unsigned recovery_timeout_s = 0;
  unsigned recoveries = 0;
};

std::string run_dir();
std::string dev_dir();
std::string state_path(const std::string& name);
std::string lock_path(const std::string& name);
std::string socket_path(const std::string& name);
std::string log_path(const std::string& name);
std::string link_path(const std::string& name);
std::string open_lock_path();

// A name becomes a file and a symlink name: letters, digits, '-', '_', '.', not starting
// with '.', at most 64 bytes (a unix socket path must stay short).
Status check_name(const std::string& name);

std::string to_json(const RunState& state);
Status from_json(const std::string& text, RunState* out);

// invalid_argument, naming the device and `verb`, unless the volume has a LUKS header: a
// plain volume's key comes from options the server does not keep, a TrueCrypt one's from
// keyfiles, and neither has a header to store flags in. cryptsetup's suspend, resume and
// refresh --persistent are for LUKS too.
Status require_luks_header(const RunState& state, const std::string& verb);

// Writes NAME.json atomically (temp file + rename).
Status write_state(const RunState& state);
// not_found when there is no state for `name`.
Status read_state(const std::string& name, RunState* out);
// Removes state, socket and symlink of `name` (not the lock file, which others may hold).
void remove_state(const std::string& name);
// Every name with a state file.
std::vector<std::string> state_names();

// The flock on NAME.lock. try_lock fails with busy while a live daemon holds it.
class NameLock {
 public:
  NameLock() = default;
  ~NameLock();
  NameLock(NameLock&& other) noexcept;
  NameLock& operator=(NameLock&& other) noexcept;
  NameLock(const NameLock&) = delete;
  NameLock& operator=(const NameLock&) = delete;

  static Status try_lock(const std::string& path, NameLock* out);
  // Blocks until the lock is free or `timeout_ms` passes (then timeout).
  static Status lock(const std::string& path, int timeout_ms, NameLock* out);
  bool held() const { return fd_ >= 0; }
  void release();

 private:
  int fd_ = -1;
};

// True while some process holds the name's lock (a live server).
bool name_is_served(const std::string& name);

// The state of `name` while a live server serves it, for the verbs that talk to that server;
// check_name's error for a bad name, not_found "Device NAME is not active" otherwise.
Status read_served_state(const std::string& name, RunState* out);

}  // namespace ublkcrypt

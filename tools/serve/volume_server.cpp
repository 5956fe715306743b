#include "tools/serve/volume_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "backends/registry.h"
#include "base/key_process.h"
#include "base/pause_point.h"
#include "blockdev/block_device.h"
#include "blockdev/engine_target.h"
#include "engine/engine.h"
#include "engine/rbd_storage.h"
#include "tools/header_device.h"
#include "tools/serve/backing_claim.h"
#include "tools/serve/control_request.h"
#include "tools/serve/control_socket.h"
#include "tools/serve/disk_users.h"
#include "tools/serve/key_handoff.h"
#include "tools/serve/oom_score.h"
#include "tools/serve/recovery.h"
#include "tools/serve/recovery_watchdog.h"
#include "tools/opal/opal_volume.h"
#include "tools/plain_key.h"
#include "tools/serve/run_state.h"
#include "tools/serve/served_backing.h"
#include "volume/luks_volume.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {
namespace {

// Daemon mode: leave the caller's session and terminal; stderr goes to the name's log.
void detach_from_caller(const std::string& name) {
  ::setsid();
  (void)!::chdir("/");
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int log_fd = ::open(log_path(name).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(log_fd >= 0 ? log_fd : null_fd, STDERR_FILENO);
  }
  if (null_fd >= 0) ::close(null_fd);
  if (log_fd >= 0) ::close(log_fd);
}

// Claims the backing (tools/serve/served_backing.h) before the passphrase is asked for.
Status claim_backing(const OpenOptions& o, std::unique_ptr<BackingClaim>* out) {
  Status s = claim_volume_backing(o.device, o.read_only, o.name, out);
  if (s.code() == Errc::not_found) return Status(Errc::not_found, "open " + s.message());
  return s;
}

Status make_dirs() {
  for (const std::string& d : {run_dir(), dev_dir()}) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return errno_status("mkdir " + d, errno);
  }
  return Status::Ok();
}

// What the daemon serves, built in order; destroyed in reverse (device before engine, the
// claim on the backing last).
struct Volume {
  ParkedKeyGuard parked_key;  // destroyed last: a failed setup takes its parked key along
  std::unique_ptr<BackingClaim> claim;
  // A detached header (--header), claimed like the backing (read-only: the key verbs may
  // still change it) and read through its claimed file only, until the unlock; null
  // without one, and after the unlock (see serve_volume).
  std::unique_ptr<BackingClaim> header_claim;
  // An rbd image's header as libcryptsetup reads it: a shadow copy (tools/header_device.h),
  // until the unlock; null for any other backing.
  std::unique_ptr<HeaderDevice> image_header;
  UnlockedVolume unlocked;  // spec + key (key wiped once the session holds its copy)
  std::string type;
  bool allow_discards = false;  // asked for, or the header's persistent flag (see unlock)
  std::unique_ptr<OpalRangeHold> opal;  // an unlocked self-encrypting drive range, if any
  std::unique_ptr<Engine> engine;
  std::unique_ptr<BlockDevice> device;
  RunState state;
};

// The backing as the data path opens it: the claimed file itself, whatever its path names by
// now (backing_claim.h). An emulated drive (test build) is opened by its image, which
// emulates a drive of its own, and an rbd image by its name.
std::string claimed_source(const OpenOptions& o, const BackingClaim& claim) {
  return is_drive_image_path(o.device) || is_rbd_name(o.device) ? o.device : claim.reopen_path();
}

// The backing as libcryptsetup opens it: the claimed source, or an rbd image's shadow.
std::string header_source(const OpenOptions& o, const Volume& v) {
  return v.image_header ? v.image_header->path() : claimed_source(o, *v.claim);
}

// The types `open --type` knows, refused before anything is locked or asked for; --header
// only where a LUKS header is read from the device.
Status check_type(const OpenOptions& o) {
  const std::string& type = o.type;
  if (type != "luks" && type != "luks1" && type != "luks2" && type != "plain" && type != "tcrypt")
    return {Errc::invalid_argument, "--type " + type + ": unknown (luks, luks1, luks2, plain or tcrypt)"};
  if (o.header.empty()) return Status::Ok();
  if (type == "plain") return {Errc::invalid_argument, "--header: a plain volume has no header"};
  if (type == "tcrypt")
    return {Errc::invalid_argument, "--header: a TrueCrypt header is read on the volume itself here"};
  if (is_drive_image_path(o.device))
    return {Errc::invalid_argument, "--header " + o.header + ": an emulated drive keeps its header on the drive"};
  if (is_rbd_name(o.device))
    return {Errc::invalid_argument, "--header " + o.header + ": " + o.device + " is an rbd image, whose LUKS header stays on the image"};
  return Status::Ok();
}

// The detached header as libcryptsetup opens it: the claimed file; "" without one.
std::string claimed_header(const Volume& v) { return v.header_claim ? v.header_claim->reopen_path() : ""; }

// `s` with the claimed files' /proc/self/fd paths (and an rbd image's shadow) replaced by
// the user's names for them.
Status named(const OpenOptions& o, const Volume& v, const Status& s) {
  const Status by_device = v.claim ? v.claim->named(s, o.device) : s;
  const Status by_image = v.image_header ? v.image_header->named(by_device) : by_device;
  return v.header_claim ? v.header_claim->named(by_image, o.header) : by_image;
}

// A plain volume: no header, the options say it all (volume/plain_volume.h). The cipher
// is checked before the key is asked for.
Status unlock_plain(const OpenOptions& o, Volume* v) {
  PlainParams params = o.plain;
  CipherSpec spec;
  Status s = plain_cipher_spec(params, &spec);
  if (!s.ok()) return s;
  SecureBytes key;
  if (spec.mode == CipherMode::null) {
    if (!o.allow_null_cipher)
      return {Errc::invalid_argument,
              "cipher " + spec.name() + " does not encrypt: add --allow-null-cipher to use it "
              "(datapath measurements only)"};
  } else {
    s = read_plain_key(o.key, o.device, &params, &key);
    if (!s.ok()) return s;
  }
  // libcryptsetup reads no data of a plain volume: it opens the device to describe it and,
  // for sectors above 512 bytes, checks its size. The claimed file does, also for an
  // emulated drive, whose emu: name libcryptsetup cannot open (its image file stands in;
  // the data path still goes through the drive); an rbd image's shadow has the image's size.
  s = unlock_plain_volume(v->image_header ? v->image_header->path() : v->claim->reopen_path(), params, key.view(),
                          &v->unlocked);
  if (!s.ok()) return named(o, *v, s);
  v->type = "plain";
  return Status::Ok();
}

// A TrueCrypt or VeraCrypt volume (volume/tcrypt_volume.h), unlocked as cryptsetup's
// tcryptOpen does: the passphrase from the terminal or standard input, or from `o.key`,
// mixed with the TrueCrypt keyfiles.
Status unlock_tcrypt(const OpenOptions& o, Volume* v) {
  SecureBytes passphrase;
  Status s = read_passphrase(o.key, "Enter passphrase for " + o.device + ": ", Verify::no, &passphrase);
  if (!s.ok()) return s;
  s = unlock_tcrypt_volume(header_source(o, *v), o.tcrypt, passphrase.view(), &v->unlocked);
  if (!s.ok()) return named(o, *v, s);
  v->type = "TCRYPT";
  return Status::Ok();
}

// --type luks1 or luks2 insists on that header version, as cryptsetup does, before the
// passphrase is asked for. An emulated drive (test build) is not checked: its header is
// read through a window of the drive (tools/opal/opal_volume.cpp), not through the claim.
Status check_header_version(const OpenOptions& o, const Volume& v) {
  if (o.type == "luks" || is_drive_image_path(o.device)) return Status::Ok();
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(header_source(o, v), claimed_header(v), &volume);
  if (s.ok()) s = volume->check_version(o.type);
  return named(o, v, s);
}

// open --persistent: the header keeps this open's activation flags for the next one (and
// for cryptsetup's), stored once the passphrase proved itself.
Status store_persistent_flags(const OpenOptions& o, const Volume& v) {
  if (is_drive_image_path(o.device))
    return {Errc::invalid_argument, "open --persistent: not on an emulated drive (its header is read through the drive)"};
  std::unique_ptr<LuksVolume> volume;
  Status s = LuksVolume::load(header_source(o, v), claimed_header(v), &volume);
  if (s.ok()) s = volume->store_allow_discards(o.allow_discards);
  if (s.ok() && v.image_header) s = v.image_header->commit();
  return named(o, v, s);
}

Status unlock(const OpenOptions& o, Volume* v) {
  v->allow_discards = o.allow_discards;
  if (o.recover) {
    v->type = o.type == "plain" ? "plain" : o.type == "tcrypt" ? "TCRYPT" : "LUKS";
    return fetch_parked_volume_key(o.name, &v->unlocked);
  }
  if (o.type == "plain" || o.type == "tcrypt") {
    if (o.persistent)
      return {Errc::invalid_argument, "open --persistent: a " + o.type + " volume has no LUKS2 header to store flags in"};
    return o.type == "plain" ? unlock_plain(o, v) : unlock_tcrypt(o, v);
  }
  Status s = check_header_version(o, *v);
  if (!s.ok()) return s;
  SecureBytes passphrase;
  s = read_passphrase(o.key, "Enter passphrase for " + o.device + ": ", Verify::no, &passphrase);
  if (!s.ok()) return s;
  std::optional<int> slot;
  if (o.key_slot >= 0) slot = o.key_slot;
  s = unlock_backing_volume(header_source(o, *v), passphrase.view(), slot, &v->unlocked, &v->opal,
                            claimed_header(*v));
  if (!s.ok()) return named(o, *v, s);
  // A cipher_null data segment stores the data in the clear. Served only when asked for, as
  // with --type plain, unless a self-encrypting drive does the encrypting (--hw-opal-only:
  // its range was unlocked above and the key already dropped).
  const bool drive_encrypts = v->opal && v->opal->backend() == "opal";
  if (v->unlocked.spec.mode == CipherMode::null && !drive_encrypts) {
    if (!o.allow_null_cipher)
      return {Errc::invalid_argument,
              "device " + o.device + ": its LUKS data segment is " + v->unlocked.spec.name() +
                  ", which does not encrypt: add --allow-null-cipher to open it anyway"};
    v->unlocked.key.reset();  // the null cipher takes no key
  }
  v->type = "LUKS";  // the header's version is in the state's cipher/uuid; enough here
  if (o.persistent) return store_persistent_flags(o, *v);
  v->allow_discards = o.allow_discards || v->unlocked.allow_discards;
  return Status::Ok();
}

// The disk in front of `engine`: its size, sectors and flags.
DeviceGeometry disk_geometry(const Engine& engine) {
  DeviceGeometry g;
  g.size_bytes = engine.size_bytes();
  g.sector_size = engine.sector_size();
  // The device takes every request size the engine may choose.
  static_assert(kLargestMaxIoBytes <= kUblkMaxIoBytes);
  g.max_io_bytes = engine.config().max_io_bytes;
  g.read_only = engine.config().read_only;
  g.allow_discards = engine.config().allow_discards;
  return g;
}

// Everything after the unlock: storage, session, engine, the ublk disk.
Status build(const OpenOptions& o, Volume* v) {
  const CipherSpec spec = v->unlocked.spec;
  // The next server's way to the key when this one dies (an Opal range is the drive's to
  // keep unlocked: such volumes get no recovery).
  const bool recoverable = o.recovery_timeout_s > 0 && !v->opal;
  if (recoverable && !o.recover) {
    const Status s = park_volume_key(o.name, v->unlocked);
    if (!s.ok()) return s.in("park the volume key for recovery (--recovery-timeout 0 opens without)");
    v->parked_key.arm(o.name);
  }

  std::unique_ptr<Storage> storage;
  FileStorageOptions so;
  so.read_only = o.read_only;
  so.name = o.device;
  Status s = v->opal ? v->opal->open_storage(o.read_only, &storage)
                     : open_backing_storage(claimed_source(o, *v->claim), so, &storage);
  if (!s.ok()) return v->claim->named(s, o.device);

  SessionOptions sess;
  sess.backend = o.backend.empty() && v->opal ? v->opal->backend() : o.backend;
  std::unique_ptr<Session> session;
  s = builtin_registry().open_session(spec, v->unlocked.key.view(), sess, &session);
  v->unlocked.key.reset();  // the session keeps its own locked copy
  if (!s.ok()) return s.in(o.device);

  EngineConfig ec;
  ec.data_offset = v->unlocked.data_offset_bytes;
  ec.size_bytes = v->unlocked.size_bytes;
  ec.read_only = o.read_only;
  ec.allow_discards = v->allow_discards;
  s = Engine::create(ec, std::move(storage), std::move(session), &v->engine);
  if (!s.ok()) return s;

  BlockDeviceConfig bc;
  bc.geometry = disk_geometry(*v->engine);
  bc.queues = o.queues;
  bc.depth = o.depth;
  bc.user_recovery = recoverable;
  if (o.recover)
    return BlockDevice::recover(o.recover_dev_id, bc, engine_target_factory(v->engine.get()), kRecoveryWaitMs,
                                &v->device);
  return BlockDevice::create(bc, engine_target_factory(v->engine.get()), &v->device);
}

nlohmann::json provider_counters_json(const ProviderCounters& pc) {
  return {{"requests", pc.requests.load()},
          {"payload_bytes", pc.payload_bytes.load()},
          {"bytes_to_device", pc.bytes_to_device.load()},
          {"bytes_from_device", pc.bytes_from_device.load()},
          {"copy_bytes", pc.copy_bytes.load()},
          {"errors", pc.errors.load()}};
}

nlohmann::json status_json(const Volume& v) {
  const RunState& st = v.state;
  SessionState ss = v.engine->session().state();
  BlockDeviceCounters c = v.device->counters();
  nlohmann::json j = nlohmann::json::parse(to_json(st));
  j["state"] = v.engine->session().suspended() ? "suspended" : "active";
  j["provider"] = ss.provider;
  j["variant"] = ss.variant;
  j["failovers"] = ss.failovers;
  j["last_failover"] = ss.last_failover;
  j["counters"] = {{"reads", c.reads},         {"writes", c.writes},
                   {"flushes", c.flushes},     {"discards", c.discards},
                   {"write_zeroes", c.write_zeroes}, {"read_bytes", c.read_bytes},
                   {"write_bytes", c.write_bytes},   {"errors", c.errors}};
  if (Provider* p = v.engine->session().provider()) {
    const ProviderCounters& pc = p->counters();
    j["provider_counters"] = provider_counters_json(pc);
  }
  // Every provider in this daemon, not only the current one: after a failover or a
  // migrate, which one did the work shows here (the card's bytes stop, software's start).
  nlohmann::json providers = nlohmann::json::array();
  for (Provider* p : builtin_registry().providers()) {
    nlohmann::json one = provider_counters_json(p->counters());
    one["name"] = p->info().name;
    one["placement"] = placement_name(p->info().placement);
    providers.push_back(std::move(one));
  }
  j["providers"] = std::move(providers);
  return j;
}

// {"cmd":"move","backend":"kernel:DRIVER"}: moves the session (e.g. back to a card that
// returned). A refused move leaves the session where it was (Session::move_to binds the new
// provider before letting go of the old one).
nlohmann::json move_session(Volume& v, const std::string& backend) {
  Session& session = v.engine->session();
  Status s = session.move_to(backend);
  SessionState ss = session.state();
  if (!s.ok()) {
    std::fprintf(stderr, "ublkcrypt: %s: move to %s refused: %s\n", v.state.name.c_str(),
                 backend.c_str(), s.message().c_str());
    return {{"ok", false}, {"code", static_cast<int>(s.code())}, {"error", s.message()},
            {"provider", ss.provider}, {"variant", ss.variant}};
  }
  std::fprintf(stderr, "ublkcrypt: %s: session moved to %s\n", v.state.name.c_str(),
               backend.c_str());
  return {{"ok", true}, {"provider", ss.provider}, {"variant", ss.variant}};
}

// {"cmd":"suspend"} (luksSuspend): I/O is held in the session and every copy of the key in
// this process is wiped, the parked one too: a server that dies now leaves a disk nobody
// can recover without the passphrase, as a suspended dm-crypt device is lost with a crash.
Status suspend_volume(Volume& v) {
  const std::string& name = v.state.name;
  if (Status s = v.engine->session().suspend(); !s.ok())
    return Status(Errc::invalid_argument, "Volume " + name + " is already suspended");
  discard_parked_volume_key(name);
  std::fprintf(stderr, "ublkcrypt: %s: suspended: I/O held, the volume key wiped\n", name.c_str());
  return Status::Ok();
}

// {"cmd":"resume"} (luksResume): the key `ublkcrypt resume` unlocked from the header and
// parked for this server. The session takes it only if it is the key it had (a header
// swapped meanwhile gives another); the parked copy stays as the recovery copy when the
// volume has recovery, and goes otherwise, as at open.
Status resume_volume(Volume& v) {
  const std::string& name = v.state.name;
  Session& session = v.engine->session();
  if (!session.suspended()) return Status(Errc::invalid_argument, "Volume " + name + " is not suspended");
  UnlockedVolume handed;
  Status s = fetch_parked_volume_key(name, &handed);
  if (s.code() == Errc::not_found)
    s = Status(Errc::invalid_argument, "Volume " + name + ": no key handed over (ublkcrypt resume " + name + " does that)");
  if (s.ok()) s = session.resume(handed.key.view());
  handed.key.reset();
  if (!s.ok() || v.state.recovery_timeout_s == 0) discard_parked_volume_key(name);
  if (!s.ok()) {
    std::fprintf(stderr, "ublkcrypt: %s: resume refused: %s\n", name.c_str(), s.message().c_str());
    return s.code() == Errc::permission ? s.in("Volume " + name) : s;
  }
  std::fprintf(stderr, "ublkcrypt: %s: resumed\n", name.c_str());
  return Status::Ok();
}

// Makes the disk in front of the engine again, under its id, with the queues, depth and
// recovery it had and what the engine serves now: the 6.12 ublk driver applies a disk's
// size and limits at START_DEV only and has no command that changes them while the disk runs
// (UPDATE_SIZE came in 6.16). `change` runs on the engine while the disk is stopped; the
// server keeps engine and key throughout. The disk must be unused: stopping it loses nothing
// then. When the new disk cannot be made, `undo` runs and the disk is made as it was; when
// that fails too, the server has no disk left and ends (the error says so).
Status remake_disk(Volume& v, const std::function<Status()>& change, const std::function<Status()>& undo) {
  const std::string& name = v.state.name;
  if (Status busy = check_disk_not_in_use(name, v.state.device); !busy.ok())
    return Status(Errc::busy, busy.message() + ": the ublk driver changes a disk's size and flags only while "
                                               "nobody has it open (unmount it; resize2fs resizes an unmounted "
                                               "filesystem)");
  // ADD_DEV under the open lock, as at open (clean_stale_name).
  NameLock open_lock;
  if (Status s = NameLock::lock(open_lock_path(), 30000, &open_lock); !s.ok()) return s;
  BlockDeviceConfig bc;
  bc.queues = v.device->queues();
  bc.depth = v.device->depth();
  bc.user_recovery = v.device->user_recovery();
  bc.dev_id = v.device->dev_id();
  const auto make = [&] {
    bc.geometry = disk_geometry(*v.engine);
    return BlockDevice::create(bc, engine_target_factory(v.engine.get()), &v.device);
  };
  Status result = v.device->stop(true);
  v.device.reset();
  pause_point("disk.stopped");
  if (result.ok()) result = change();
  if (result.ok()) result = make();
  if (result.ok()) return Status::Ok();
  std::fprintf(stderr, "ublkcrypt: %s: the disk could not be made again as asked: %s\n", name.c_str(),
               result.message().c_str());
  Status restored = undo();
  if (restored.ok()) restored = make();
  if (!restored.ok()) {
    std::fprintf(stderr, "ublkcrypt: %s: nor as it was: %s\n", name.c_str(), restored.message().c_str());
    return result.in("Device " + name + " (its disk is gone: the volume closes)");
  }
  return result.in("Device " + name + " (it stays as it was)");
}

// {"cmd":"resize","size_bytes":N} (cryptsetup resize; 0: to the backing's end as it is now).
Status resize_volume(Volume& v, uint64_t size_bytes) {
  RunState& st = v.state;
  const std::string& name = st.name;
  if (st.type == "TCRYPT")
    return {Errc::unsupported, "Device " + name + ": a TrueCrypt volume cannot be resized (cryptsetup refuses it too)"};
  if (v.opal) return {Errc::unsupported, "Device " + name + ": its size is the self-encrypting drive's locking range"};
  if (v.engine->session().suspended()) return {Errc::busy, "Device " + name + " is suspended"};
  uint64_t target = 0;
  if (Status s = v.engine->resized_size(size_bytes, &target); !s.ok()) return s.in("Device " + name);
  const uint64_t before = v.engine->size_bytes();
  if (target == before) return Status::Ok();
  Status s = remake_disk(
      v, [&] { return v.engine->resize(size_bytes); }, [&] { return v.engine->resize(before); });
  if (!s.ok()) return s;
  st.size_bytes = v.engine->size_bytes();
  if (s = write_state(st); !s.ok()) return s;
  // A next server recovers the disk at the size it has now.
  if (st.recovery_timeout_s > 0) {
    UnlockedVolume parked;
    s = fetch_parked_volume_key(name, &parked);
    if (s.ok()) {
      parked.size_bytes = st.size_bytes;
      s = park_volume_key(name, parked);
    }
    if (!s.ok()) return s.in("Device " + name + ": resized, but its recovery copy keeps the old size");
  }
  std::fprintf(stderr, "ublkcrypt: %s: resized from %llu to %llu bytes\n", name.c_str(),
               static_cast<unsigned long long>(before), static_cast<unsigned long long>(st.size_bytes));
  return Status::Ok();
}

// {"cmd":"refresh","allow_discards":B} (cryptsetup refresh): the disk made again with
// discards passed to the backing or not. The run state carries the flag to a next server.
Status refresh_volume(Volume& v, bool allow_discards) {
  RunState& st = v.state;
  if (st.allow_discards == allow_discards) return Status::Ok();
  if (st.read_only && allow_discards)
    return {Errc::invalid_argument, "Device " + st.name + " is read-only: it takes no discards"};
  if (v.engine->session().suspended()) return {Errc::busy, "Device " + st.name + " is suspended"};
  Status s = remake_disk(
      v, [&] { v.engine->set_allow_discards(allow_discards); return Status::Ok(); },
      [&] { v.engine->set_allow_discards(!allow_discards); return Status::Ok(); });
  if (!s.ok()) return s;
  st.allow_discards = allow_discards;
  if (s = write_state(st); !s.ok()) return s;
  std::fprintf(stderr, "ublkcrypt: %s: refreshed: discards %s\n", st.name.c_str(), allow_discards ? "on" : "off");
  return Status::Ok();
}

// What the serving loop does with one request line: an answer now, or, for an accepted
// close, stop serving (the answer follows once the disk is gone).
struct Answer {
  std::string line;
  bool stop = false;
  bool hand_over = false;  // stop by leaving the disk to the next server
};

Answer answer_request(Volume& v, const std::string& line) {
  ControlRequest req;
  if (Status s = parse_control_request(line, &req); !s.ok()) {
    std::fprintf(stderr, "ublkcrypt: %s: %s\n", v.state.name.c_str(), s.message().c_str());
    return {control_error_reply(s)};
  }
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  switch (req.command) {
    case ControlRequest::Command::status:
      return {dump(status_json(v))};
    case ControlRequest::Command::move:
      return {dump(move_session(v, req.backend))};
    case ControlRequest::Command::suspend:
      if (Status s = suspend_volume(v); !s.ok()) return {control_error_reply(s)};
      return {R"({"ok":true,"state":"suspended"})"};
    case ControlRequest::Command::resume:
      if (Status s = resume_volume(v); !s.ok()) return {control_error_reply(s)};
      return {R"({"ok":true,"state":"active"})"};
    case ControlRequest::Command::resize:
      if (Status s = resize_volume(v, req.size_bytes); !s.ok()) return {control_error_reply(s)};
      return {dump({{"ok", true}, {"size_bytes", v.state.size_bytes}})};
    case ControlRequest::Command::refresh:
      if (Status s = refresh_volume(v, req.allow_discards); !s.ok()) return {control_error_reply(s)};
      return {dump({{"ok", true}, {"allow_discards", v.state.allow_discards}})};
    case ControlRequest::Command::close:
      // Held I/O would keep the disk from going: resume first (cryptsetup, too, removes no
      // suspended device).
      if (v.engine->session().suspended())
        return {control_error_reply(Status(Errc::busy, "Device " + v.state.name + " is suspended (ublkcrypt resume " +
                                                           v.state.name + " first)"))};
      if (Status busy = req.force ? Status::Ok() : check_disk_not_in_use(v.state.name, v.state.device); !busy.ok()) {
        return {control_error_reply(busy)};
      }
      return {"", true};
    case ControlRequest::Command::handover:
      if (v.engine->session().suspended())
        return {control_error_reply(Status(Errc::busy, "Device " + v.state.name + " is suspended: its key is wiped, "
                                                           "nothing to hand over (ublkcrypt resume first)"))};
      if (v.state.recovery_timeout_s == 0)
        return {control_error_reply(Status(Errc::unsupported, "Device " + v.state.name +
                                                                  " was opened without recovery (--recovery-timeout 0)"))};
      return {"", true, true};
  }
  return {control_error_reply(Status(Errc::invalid_argument, "control request: unhandled command"))};
}

}  // namespace

bool clean_stale_name(const std::string& name) {
  RunState old;
  bool had_state = read_state(name, &old).ok();
  if (had_state && old.pid > 0) {
    // Under the open lock no server is between ADD_DEV and its published state, so a device
    // with the dead server's id is that server's or a live one's (remove_dead_device tells
    // which), never a new one still being set up — which the kernel shows with no live
    // server pid, as it shows a dead one. Without the lock (held past its timeout by a
    // stuck open) the device stays, as a leftover costs less than a deleted disk.
    NameLock open_lock;
    Status s = NameLock::lock(open_lock_path(), 30000, &open_lock);
    if (s.ok()) s = remove_dead_device(old.dev_id, old.pid);
    if (!s.ok())
      std::fprintf(stderr, "ublkcrypt: stale device of %s: %s\n", name.c_str(),
                   s.message().c_str());
  }
  remove_state(name);
  discard_parked_volume_key(name);
  return had_state;
}

Status serve_volume(const OpenOptions& requested, ReadyReport* report, bool detach) {
  OpenOptions o = requested;
  auto fail = [&](Status s) {
    report->failed(s);
    return s;
  };
  // Before the passphrase is read: no core dumps, all memory locked (base/key_process.h).
  KeyProcessProtection protection;
  Status s = protect_key_process(&protection);
  if (!s.ok()) return fail(s);
  const std::string oom_note = keep_from_oom_killer();
  s = check_name(o.name);
  if (s.ok()) s = check_type(o);
  if (!s.ok()) return fail(s);
  s = make_dirs();
  if (!s.ok()) return fail(s);

  // Signals arrive through a signalfd in the serving loop; block them before any thread
  // exists so that no queue thread takes one.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGUSR1);  // hand over to `open --recover` (tools/serve/recovery.h)
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  NameLock name_lock;
  RunState previous;
  if (o.recover) {
    s = take_over_name(o.name, &name_lock, &previous);
    if (s.ok()) {
      recovery_options(previous, &o);
    } else if (s.code() == Errc::not_found && !o.device.empty()) {
      o.recover = false;  // nothing waits: open DEVICE as usual
    } else {
      return fail(s);
    }
  }
  if (!o.recover) {
    if (!name_lock.held()) s = NameLock::try_lock(lock_path(o.name), &name_lock);
    if (s.code() == Errc::busy) return fail({Errc::busy, "name " + o.name + " already open"});
    if (!s.ok()) return fail(s);
    clean_stale_name(o.name);
  }

  Volume v;
  RunState& st = v.state;
  st.name = o.name;
  st.backing = o.device;
  // The global open lock covers only the quick steps that allocate: the claim on the backing,
  // and the ublk device from ADD_DEV until the state that publishes it under its name (so a
  // dead server's cleanup, which takes it too, never meets a device still being set up:
  // clean_stale_name). Never the passphrase prompt or the KDF between them: an open waiting
  // for its passphrase must not make other opens time out.
  {
    NameLock open_lock;
    s = NameLock::lock(open_lock_path(), 30000, &open_lock);
    if (!s.ok()) return fail(s);
    s = claim_backing(o, &v.claim);
    // A server that just died or handed over may still be closing its files.
    for (int waited = 0; o.recover && s.code() == Errc::busy && waited < kRecoveryWaitMs; waited += 50) {
      ::usleep(50000);
      s = claim_backing(o, &v.claim);
    }
    if (!s.ok()) return fail(s);
    // A recovering server reads no header: the volume key and geometry are parked.
    if (!o.header.empty() && !o.recover) {
      s = BackingClaim::acquire(o.header, true, &v.header_claim);
      if (!s.ok()) return fail(s.code() == Errc::not_found ? Status(Errc::not_found, "header " + s.message()) : s);
    }
  }
  st.backing_dev = v.claim->dev();
  st.backing_ino = v.claim->ino();
  char resolved[PATH_MAX];
  st.backing_path = is_rbd_name(o.device) ? o.device
                    : ::realpath(claimed_source(o, *v.claim).c_str(), resolved) ? resolved
                                                                                 : backing_file(o.device);
  if (o.recover) {
    // The parked key needs no header (which may be gone by now: a detached header is often
    // taken away once the volume is open); the state keeps naming it for status and the
    // servers after this one.
    st.header = previous.header;
    st.header_path = previous.header_path;
  } else if (v.header_claim) {
    st.header = o.header;
    st.header_path = ::realpath(claimed_header(v).c_str(), resolved) ? resolved : o.header;
  }
  pause_point("backing.claimed");
  // An image's header, copied before the passphrase is asked for: a missing image or an
  // unreachable cluster fails here.
  if (is_rbd_name(o.device) && !o.recover) {
    s = HeaderDevice::open(o.device, "", &v.image_header);
    if (!s.ok()) return fail(s);
  }

  s = unlock(o, &v);
  if (!s.ok()) return fail(s);
  // The header is not needed again (recovery uses the parked key): let it go, as dm-crypt
  // does once a volume is active, so that the stick or filesystem holding it can be
  // unmounted and taken away while the volume serves.
  v.header_claim.reset();
  v.image_header.reset();

  {
    NameLock open_lock;
    s = NameLock::lock(open_lock_path(), 30000, &open_lock);
    if (!s.ok()) return fail(s);
    s = build(o, &v);
    if (!s.ok()) return fail(s);

    st.pid = ::getpid();
    st.dev_id = v.device->dev_id();
    st.device = v.device->disk_path();
    st.type = v.type;
    st.cipher = v.engine->session().spec().name();
    st.key_bits = v.engine->session().spec().key_bytes * 8;
    st.sector_size = v.engine->sector_size();
    st.size_bytes = v.engine->size_bytes();
    st.data_offset = v.engine->config().data_offset;
    st.iv_offset = v.engine->session().spec().iv_offset;
    st.backend = o.backend;
    st.queues = v.device->queues();
    st.depth = v.device->depth();
    st.read_only = o.read_only;
    st.allow_discards = v.allow_discards;
    st.recovery_timeout_s = v.device->user_recovery() ? o.recovery_timeout_s : 0;
    st.recoveries = o.recover ? previous.recoveries + 1 : 0;
    if (o.recover) st.backing = previous.backing;

    const std::string link = link_path(o.name);
    ::unlink(link.c_str());
    if (::symlink(st.device.c_str(), link.c_str()) != 0)
      return fail(errno_status("symlink " + link, errno));
    s = write_state(st);
    if (!s.ok()) {
      remove_state(o.name);
      return fail(s);
    }
    if (st.recovery_timeout_s > 0) {
      s = spawn_recovery_watchdog(o.name, st.dev_id, st.recovery_timeout_s);
      if (!s.ok()) {
        remove_state(o.name);
        return fail(s);
      }
    }
    if (o.recover)
      std::fprintf(stderr, "ublkcrypt: %s: recovered ublk device %u (recovery %u)\n", o.name.c_str(), st.dev_id,
                   st.recoveries);
  }

  ControlListener listener;
  s = listener.listen(socket_path(o.name));
  int sig_fd = s.ok() ? ::signalfd(-1, &mask, SFD_CLOEXEC) : -1;
  if (s.ok() && sig_fd < 0) s = errno_status("signalfd", errno);
  if (!s.ok()) {
    remove_state(o.name);
    return fail(s);
  }

  v.parked_key.keep();  // from here close, the watchdog or the next server owns it
  report->ready(st.device);
  if (detach) detach_from_caller(o.name);
  if (!protection.note.empty()) std::fprintf(stderr, "ublkcrypt: %s: %s\n", o.name.c_str(), protection.note.c_str());
  if (!oom_note.empty()) std::fprintf(stderr, "ublkcrypt: %s: %s\n", o.name.c_str(), oom_note.c_str());

  // Serve until close or a signal.
  bool wait_delete = true;
  bool hand_over = false;
  int close_client = -1;
  while (close_client < 0) {
    pollfd fds[2] = {{listener.fd(), POLLIN, 0}, {sig_fd, POLLIN, 0}};
    int r = ::poll(fds, 2, listener.timeout_ms());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      (void)!::read(sig_fd, &info, sizeof(info));
      if (info.ssi_signo == SIGUSR1) {
        if (st.recovery_timeout_s == 0) {
          std::fprintf(stderr, "ublkcrypt: %s: SIGUSR1 ignored: opened without recovery\n", o.name.c_str());
          continue;
        }
        std::fprintf(stderr, "ublkcrypt: %s: SIGUSR1, handing the disk over\n", o.name.c_str());
        hand_over = true;
        break;
      }
      std::fprintf(stderr, "ublkcrypt: %s: signal %u, stopping\n", o.name.c_str(),
                   info.ssi_signo);
      // A filesystem may still be mounted: do not wait for its last reference.
      wait_delete = false;
      break;
    }
    for (ControlConnection& c : listener.take()) {
      Answer a;
      try {
        a = close_client < 0 && v.device ? answer_request(v, c.line)
                             : Answer{control_error_reply(Status(Errc::busy, "control request: closing"))};
      } catch (const std::exception& e) {
        // Nothing above should throw; if something does, the request fails, not the disk.
        a = Answer{control_error_reply(Status(Errc::io_error, std::string("control request: ") + e.what()))};
        std::fprintf(stderr, "ublkcrypt: %s: control request failed: %s\n", o.name.c_str(), e.what());
      }
      if (a.stop) {
        close_client = c.client;  // answered once the device is gone
        hand_over = a.hand_over;
      } else {
        ControlListener::reply(c.client, a.line);
      }
    }
    if (!v.device) break;  // a resize that could not make the disk again: nothing to serve
  }

  // Teardown: the disk first (its queues flush the engine), then state and names. A
  // hand-over leaves disk, state and parked key to the next server.
  Status result = !v.device ? Status::Ok() : hand_over ? v.device->hand_over() : v.device->stop(wait_delete);
  v.device.reset();
  v.engine.reset();
  if (v.opal && !hand_over) {  // close locks the drive's range again
    Status locked = v.opal->lock();
    if (result.ok()) result = locked;
  }
  if (!hand_over) {
    remove_state(o.name);
    discard_parked_volume_key(o.name);
  }
  if (!result.ok())
    std::fprintf(stderr, "ublkcrypt: %s: stop: %s\n", o.name.c_str(), result.message().c_str());
  if (close_client >= 0) {
    nlohmann::json answer = {{"ok", result.ok()}};
    if (!result.ok()) {
      answer["code"] = static_cast<int>(result.code());
      answer["error"] = result.message();
    }
    ControlListener::reply(close_client, answer.dump());
  }
  ::close(sig_fd);
  if (hand_over && result.ok()) {
    std::fprintf(stderr, "ublkcrypt: %s: handed ublk device %u over\n", o.name.c_str(), st.dev_id);
    report->handed_over();
  }
  return result;
}

}  // namespace ublkcrypt

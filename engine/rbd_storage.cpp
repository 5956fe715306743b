// RbdStorage: a Ceph RBD image through librbd's rbd_aio_* calls.
//
// FUA: librbd has no per-write durability flag (its op flags are fadvise hints), and with
// its cache on (rbd_cache defaults to true) an acknowledged write may still be only in the
// client's memory. A FUA write therefore completes only after an rbd_aio_flush issued when
// the write came back: the flush covers every write acknowledged before it.
#include "engine/rbd_storage.h"

#include <sys/eventfd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <iterator>
#include <nlohmann/json.hpp>
#include <mutex>
#include <sstream>
#include <vector>

#include "engine/io_ring.h"
#include "engine/rbd_library.h"
#include "engine/ring_event_read.h"

namespace ublkcrypt {
namespace {

class RbdStorage;

class RbdStorageQueue final : public StorageQueue {
 public:
  RbdStorageQueue(RbdStorage& storage, const RbdLibrary& lib, int event_fd, IoRing* ring)
      : storage_(storage), lib_(lib), event_fd_(event_fd), event_read_(new RingEventRead(ring, event_fd)) {
    event_read_->arm();
  }

  ~RbdStorageQueue() override {
    RingEventRead::close(std::move(event_read_));
    // A callback signals under the lock: once we hold it, none is still inside.
    { std::lock_guard lock(mutex_); }
    ::close(event_fd_);
  }

  void submit(StorageIo* io) override {
    io->transferred = 0;
    Op* op = take_op();
    op->io = io;
    op->flushing = false;
    start(op);
  }

  void kick() override {}  // librbd sends each call as it is made

  void reap() override;

 private:
  // One librbd call in flight (a FUA write is two in turn: the write, then the flush).
  struct Op {
    RbdStorageQueue* queue = nullptr;
    StorageIo* io = nullptr;
    bool flushing = false;  // the FUA write's flush
    int result = 0;
  };

  static void librbd_done(rbd_completion_t c, void* arg) {
    auto* op = static_cast<Op*>(arg);
    op->result = int(op->queue->lib_.rbd_aio_get_return_value(c));
    op->queue->lib_.rbd_aio_release(c);
    op->queue->push(op);
  }

  // Any thread. Only the push that finds the list empty signals: the queue thread takes
  // the whole list at once. The signal goes under the lock so that the queue's destructor,
  // by taking the lock, knows no callback still touches the eventfd.
  void push(Op* op) {
    std::lock_guard lock(mutex_);
    const bool was_empty = done_.empty();
    done_.push_back(op);
    if (was_empty) eventfd_write(event_fd_, 1);
  }

  Op* take_op() {
    if (free_ops_.empty()) {
      ops_.emplace_back();
      ops_.back().queue = this;
      free_ops_.push_back(&ops_.back());
    }
    Op* op = free_ops_.back();
    free_ops_.pop_back();
    return op;
  }

  void start(Op* op);
  void finish(Op* op);

  RbdStorage& storage_;
  const RbdLibrary& lib_;
  int event_fd_;
  std::unique_ptr<RingEventRead> event_read_;
  std::deque<Op> ops_;  // grows, never shrinks: librbd holds pointers into it
  std::vector<Op*> free_ops_;
  std::mutex mutex_;
  std::vector<Op*> done_;  // guarded by mutex_
  std::vector<Op*> taking_;  // reap()'s batch (queue thread only)
};

class RbdStorage final : public Storage {
 public:
  RbdStorage(const RbdLibrary& lib, rados_t cluster, rados_ioctx_t ioctx, rbd_image_t image, StorageInfo info,
             uint64_t object_size)
      : lib_(lib), cluster_(cluster), ioctx_(ioctx), image_(image), info_(std::move(info)),
        object_size_(object_size) {}
  ~RbdStorage() override {
    lib_.rbd_close(image_);  // waits for what librbd still has in flight
    lib_.rados_ioctx_destroy(ioctx_);
    lib_.rados_shutdown(cluster_);
  }

  const StorageInfo& info() const override { return info_; }

  Status open_queue(unsigned /*depth*/, IoRing* ring,
                    std::unique_ptr<StorageQueue>* out) override {
    // Blocking: the ring's read of it must wait rather than fail.
    const int fd = ::eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return errno_status("eventfd for " + info_.name, errno);
    *out = std::make_unique<RbdStorageQueue>(*this, lib_, fd, ring);
    return Status::Ok();
  }

  Status current_size(uint64_t* size_bytes) const override {
    const int r = lib_.rbd_get_size(image_, size_bytes);
    return r < 0 ? errno_status("size of " + info_.name, -r) : Status::Ok();
  }
  Status set_size(uint64_t size_bytes) override {
    info_.size_bytes = size_bytes;
    return Status::Ok();
  }

  rbd_image_t image() const { return image_; }
  uint64_t object_size() const { return object_size_; }

  unsigned pool_replicas() const {
    char name[256] = {};
    if (lib_.rados_ioctx_get_pool_name(ioctx_, name, sizeof(name)) < 0) return 0;
    const std::string cmd =
        nlohmann::json{{"prefix", "osd pool get"}, {"pool", name}, {"var", "size"}, {"format", "json"}}
            .dump();
    const char* cmds[] = {cmd.c_str()};
    char *out = nullptr, *status = nullptr;
    size_t out_len = 0, status_len = 0;
    unsigned size = 0;
    if (lib_.rados_mon_command(cluster_, cmds, 1, "", 0, &out, &out_len, &status, &status_len) >= 0) {
      // {"pool":"rbd","pool_id":1,"size":3}
      const nlohmann::json answer = nlohmann::json::parse(out, out + out_len, nullptr, false);
      if (answer.is_object() && answer.contains("size") && answer["size"].is_number_unsigned())
        size = answer["size"].get<unsigned>();
    }
    lib_.rados_buffer_free(out);
    lib_.rados_buffer_free(status);
    return size;
  }

 private:
  const RbdLibrary& lib_;
  rados_t cluster_;
  rados_ioctx_t ioctx_;
  rbd_image_t image_;
  StorageInfo info_;
  uint64_t object_size_;
};

void RbdStorageQueue::start(Op* op) {
  StorageIo* io = op->io;
  rbd_completion_t c = nullptr;
  int r = lib_.rbd_aio_create_completion(op, &RbdStorageQueue::librbd_done, &c);
  if (r == 0) {
    rbd_image_t image = storage_.image();
    if (op->flushing || io->op == StorageOp::flush) {
      r = lib_.rbd_aio_flush(image, c);
    } else {
      switch (io->op) {
        case StorageOp::read:
          r = lib_.rbd_aio_read(image, io->offset, io->length, reinterpret_cast<char*>(io->buffer), c);
          break;
        case StorageOp::write:
          r = lib_.rbd_aio_write(image, io->offset, io->length,
                            reinterpret_cast<const char*>(io->buffer), c);
          break;
        case StorageOp::discard:
          r = lib_.rbd_aio_discard(image, io->offset, io->length, c);
          break;
        case StorageOp::flush:
          break;
      }
    }
    if (r < 0) lib_.rbd_aio_release(c);
  }
  // A call librbd refused never calls back: its result goes the same way as a completion,
  // so storage_done still runs in reap(), never inside submit().
  if (r < 0) {
    op->result = r;
    push(op);
  }
}

void RbdStorageQueue::reap() {
  {
    std::lock_guard lock(mutex_);
    taking_.swap(done_);
  }
  // Completions may submit new I/O; librbd never completes it inline, and whatever comes
  // back later signals the eventfd again.
  for (Op* op : taking_) finish(op);
  taking_.clear();
}

void RbdStorageQueue::finish(Op* op) {
  StorageIo* io = op->io;
  const int result = op->result;
  if (result >= 0 && io->op == StorageOp::write && io->fua && !op->flushing) {
    op->flushing = true;
    start(op);
    return;
  }
  free_ops_.push_back(op);  // before storage_done, which may submit again
  const StorageInfo& info = storage_.info();
  if (result < 0) {
    io->completion->storage_done(io, errno_status(describe_storage_io(info, *io), -result), 0);
    return;
  }
  if (io->op == StorageOp::read) {
    // librbd returns the bytes read; it reads holes as zeros, so a short count is an
    // error of the cluster's, not the end of a file.
    io->transferred = uint32_t(result);
    if (io->transferred < io->length) {
      io->completion->storage_done(
          io, Status(Errc::io_error, describe_storage_io(info, *io) + ": short read"), io->transferred);
      return;
    }
  }
  io->transferred = io->length;
  io->completion->storage_done(io, Status::Ok(), io->length);
}

// The cluster's error as a one-line cause; `what` names the image.
Status rbd_error(const std::string& what, const std::string& step, int r) {
  const int err = -r;
  Errc code;
  switch (err) {
    case ENOENT: code = Errc::not_found; break;
    case EACCES:
    case EPERM: code = Errc::permission; break;
    case ETIMEDOUT:
    case ENOTCONN: code = Errc::not_found; break;  // no cluster there: a missing device
    case EINVAL: code = Errc::invalid_argument; break;
    default: code = Errc::io_error; break;
  }
  return Status(code, fmt::format("{}: {}: {}", what, step, std::strerror(err)));
}

// The cephx user to connect as, without "client.": the options', else the one CEPH_ARGS
// names (--id X, --user X, --name client.X, -n client.X, or with '='), as Ceph's own tools
// take it, else "" (librados's admin). librados reads CEPH_ARGS for everything but this:
// the name is fixed when the handle is created, before the environment is parsed.
std::string client_id(const RbdStorageOptions& options) {
  if (!options.ceph_id.empty()) return options.ceph_id;
  const char* env = std::getenv("CEPH_ARGS");
  if (env == nullptr) return "";
  std::istringstream words(env);
  std::vector<std::string> args{std::istream_iterator<std::string>(words), {}};
  std::string id;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (const size_t eq = flag.find('='); eq != std::string::npos && flag.rfind("--", 0) == 0) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[i + 1];
    }
    if (flag == "--id" || flag == "--user") id = value;
    if ((flag == "--name" || flag == "-n") && value.rfind("client.", 0) == 0) id = value.substr(7);
  }
  return id;
}

}  // namespace

bool is_rbd_name(const std::string& name) { return name.rfind("rbd:", 0) == 0; }

Status parse_rbd_name(const std::string& name, std::string* pool, std::string* image) {
  const auto bad = [&](const char* why) {
    return Status(Errc::invalid_argument,
                  fmt::format("{}: not an rbd image name ({}; expected rbd:POOL/IMAGE)", name, why));
  };
  if (!is_rbd_name(name)) return bad("no rbd: prefix");
  const std::string rest = name.substr(4);
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return bad("no pool");
  *pool = rest.substr(0, slash);
  *image = rest.substr(slash + 1);
  if (pool->empty()) return bad("empty pool");
  if (image->empty()) return bad("empty image");
  if (image->find_first_of("/@") != std::string::npos)
    return bad("namespaces and snapshots are not supported");
  return Status::Ok();
}

Status open_rbd_storage(const std::string& name, const RbdStorageOptions& options,
                        std::unique_ptr<Storage>* out) {
  std::string pool, image_name;
  if (Status s = parse_rbd_name(name, &pool, &image_name); !s.ok()) return s;
  // librados can write to a socket its peer has closed (seen as SIGPIPE deaths of the
  // tests on a loaded machine); Ceph's own tools and qemu ignore SIGPIPE, and so does a
  // process with an image open. A handler someone installed is left alone.
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
    ::signal(SIGPIPE, SIG_IGN);
  const RbdLibrary* lib = nullptr;
  if (Status s = load_rbd_library(&lib); !s.ok()) return s.in(name);
  rados_t cluster = nullptr;
  const std::string id = client_id(options);
  int r = lib->rados_create(&cluster, id.empty() ? nullptr : id.c_str());
  if (r < 0) return rbd_error(name, "cannot create a Ceph client", r);
  const auto fail = [&](const std::string& step, int err) {
    lib->rados_shutdown(cluster);
    return rbd_error(name, step, err);
  };
  // Our one line reports the failure; Ceph's own log lines would only repeat it. A
  // cluster that never answers fails the open in 15 s rather than Ceph's 300, and an OSD
  // that stops answering fails its operations after options.osd_timeout_s rather than
  // never; the conf and CEPH_ARGS, read after, may say otherwise.
  lib->rados_conf_set(cluster, "log_to_stderr", "false");
  lib->rados_conf_set(cluster, "err_to_stderr", "false");
  lib->rados_conf_set(cluster, "client_mount_timeout", "15");
  lib->rados_conf_set(cluster, "rados_osd_op_timeout", std::to_string(options.osd_timeout_s).c_str());
  // A conf named (the options, else $CEPH_CONF) must be read; otherwise the default
  // places, and none found leaves CEPH_ARGS to name the monitors.
  const char* env_conf = std::getenv("CEPH_CONF");
  const std::string conf = !options.ceph_conf.empty() ? options.ceph_conf : env_conf != nullptr ? env_conf : "";
  if (!conf.empty()) {
    if ((r = lib->rados_conf_read_file(cluster, conf.c_str())) < 0)
      return fail("cannot read Ceph configuration " + conf, r);
  } else {
    (void)lib->rados_conf_read_file(cluster, nullptr);
  }
  if ((r = lib->rados_conf_parse_env(cluster, nullptr)) < 0) return fail("bad CEPH_ARGS", r);
  for (const auto& [option, value] : options.ceph_overrides)
    if ((r = lib->rados_conf_set(cluster, option.c_str(), value.c_str())) < 0)
      return fail("cannot set Ceph option " + option + "=" + value, r);
  if ((r = lib->rados_connect(cluster)) < 0) return fail("cannot connect to the Ceph cluster", r);
  rados_ioctx_t ioctx = nullptr;
  if ((r = lib->rados_ioctx_create(cluster, pool.c_str(), &ioctx)) < 0)
    return fail(r == -ENOENT ? "no pool " + pool : "cannot open pool " + pool, r);
  rbd_image_t image = nullptr;
  r = options.read_only ? lib->rbd_open_read_only(ioctx, image_name.c_str(), &image, nullptr)
                        : lib->rbd_open(ioctx, image_name.c_str(), &image, nullptr);
  if (r < 0) {
    lib->rados_ioctx_destroy(ioctx);
    return fail(r == -ENOENT ? "no image " + image_name + " in pool " + pool
                             : "cannot open image",
                r);
  }
  if (!options.librbd_luks_passphrase.empty()) {
    // LUKS1 or LUKS2, as the header says: the LUKS format loads either (Pacific has the
    // version-specific ones only; the header's version is in its first bytes).
    char magic[8] = {};
    r = lib->rbd_read(image, 0, sizeof(magic), magic) == ssize_t(sizeof(magic)) ? 0 : -EIO;
    const bool luks2 = r == 0 && magic[6] == 0 && magic[7] == 2;
    const char* passphrase = reinterpret_cast<const char*>(options.librbd_luks_passphrase.data());
    rbd_encryption_luks1_format_options_t luks1{RBD_ENCRYPTION_ALGORITHM_AES256, passphrase,
                                                options.librbd_luks_passphrase.size()};
    rbd_encryption_luks2_format_options_t luks2_opts{RBD_ENCRYPTION_ALGORITHM_AES256, passphrase,
                                                     options.librbd_luks_passphrase.size()};
    if (r == 0)
      r = luks2 ? lib->rbd_encryption_load(image, RBD_ENCRYPTION_FORMAT_LUKS2, &luks2_opts, sizeof(luks2_opts))
                : lib->rbd_encryption_load(image, RBD_ENCRYPTION_FORMAT_LUKS1, &luks1, sizeof(luks1));
    if (r < 0) {
      lib->rbd_close(image);
      lib->rados_ioctx_destroy(ioctx);
      return fail("cannot load librbd's LUKS encryption", r);
    }
  }
  rbd_image_info_t stat{};
  if ((r = lib->rbd_stat(image, &stat, sizeof(stat))) < 0) {
    lib->rbd_close(image);
    lib->rados_ioctx_destroy(ioctx);
    return fail("cannot stat image", r);
  }
  StorageInfo info;
  info.name = name;
  info.size_bytes = stat.size;
  info.read_only = options.read_only;
  info.preferred_max_io_bytes = static_cast<uint32_t>(std::min<uint64_t>(stat.obj_size, 1u << 30));
  auto storage = std::make_unique<RbdStorage>(*lib, cluster, ioctx, image, std::move(info),
                                              stat.obj_size);
  if (stat.size < 512)
    return Status(Errc::invalid_argument,
                  fmt::format("{}: backing too small ({} bytes, need at least one 512-byte "
                              "sector)",
                              name, stat.size));
  *out = std::move(storage);
  return Status::Ok();
}

uint64_t rbd_object_size(const Storage& storage) {
  const auto* rbd = dynamic_cast<const RbdStorage*>(&storage);
  return rbd == nullptr ? 0 : rbd->object_size();
}

unsigned rbd_pool_replicas(const Storage& storage) {
  const auto* rbd = dynamic_cast<const RbdStorage*>(&storage);
  return rbd == nullptr ? 0 : rbd->pool_replicas();
}

}  // namespace ublkcrypt

// FileStorage: a regular file or a block device through io_uring, on the queue thread's ring.
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <liburing.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sys/uio.h>

#include <cerrno>
#include <deque>
#include <fmt/format.h>
#include <vector>

#include "base/guarded_copy.h"
#include "engine/io_ring.h"
#include "engine/storage.h"

namespace ublkcrypt {
namespace {

// The size of the file or block device open as `fd` now. A loop device first reads its
// file's size again (LOOP_SET_CAPACITY), as cryptsetup resize does: a file grown under it
// shows only then.
Status backing_size(int fd, const std::string& name, uint64_t* size_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return errno_status("stat " + name, errno);
  if (S_ISREG(st.st_mode)) {
    *size_bytes = uint64_t(st.st_size);
    return Status::Ok();
  }
  if (!S_ISBLK(st.st_mode))
    return Status(Errc::invalid_argument, fmt::format("{}: not a regular file or block device", name));
  constexpr unsigned kLoopMajor = 7;
  if (major(st.st_rdev) == kLoopMajor && ::ioctl(fd, LOOP_SET_CAPACITY, 0) < 0)
    return errno_status("LOOP_SET_CAPACITY " + name, errno);
  if (::ioctl(fd, BLKGETSIZE64, size_bytes) < 0) return errno_status("BLKGETSIZE64 " + name, errno);
  return Status::Ok();
}

class FileStorage;

class FileStorageQueue final : public StorageQueue {
 public:
  // No registered file: the ring has one file table, and it is its owner's.
  FileStorageQueue(const FileStorage& storage, int fd, bool sync_io, IoRing* ring)
      : storage_(storage), fd_(fd), sync_io_(sync_io), ring_(ring) {}

  void submit(StorageIo* io) override {
    io->transferred = 0;
    prepare(io);
  }

  void kick() override {}  // the ring's owner submits

  void reap() override;

 private:
  // An I/O's SQE points here; the CQE's result waits in done_ for reap().
  struct Slot final : IoRing::Completion {
    FileStorageQueue* queue = nullptr;
    StorageIo* io = nullptr;
    void ring_done(const io_uring_cqe& cqe) override {
      queue->done_.emplace_back(io, cqe.res);
      queue->free_slots_.push_back(this);
    }
  };

  void prepare(StorageIo* io);
  io_uring_sqe* next_sqe(StorageIo* io);
  void discard_block_device(StorageIo* io);
  void transfer_now(StorageIo* io);
  void finish(StorageIo* io, int result);

  const FileStorage& storage_;
  int fd_;
  bool sync_io_;
  IoRing* ring_;
  std::deque<Slot> slots_;  // grows, never shrinks: SQEs in flight point into it
  std::vector<Slot*> free_slots_;
  // Results that wait for reap(): the ring's CQEs, synchronous transfers and block-device
  // discards (no io_uring opcode for BLKDISCARD in the kernels we target).
  std::vector<std::pair<StorageIo*, int>> done_;
};

class FileStorage final : public Storage {
 public:
  FileStorage(int fd, StorageInfo info) : fd_(fd), info_(std::move(info)) {}
  ~FileStorage() override {
    if (map_ != nullptr) ::munmap(map_, info_.size_bytes);
    ::close(fd_);
  }

  const StorageInfo& info() const override { return info_; }

  Status open_queue(unsigned /*depth*/, IoRing* ring,
                    std::unique_ptr<StorageQueue>* out) override {
    *out = std::make_unique<FileStorageQueue>(*this, fd_, sync_io_, ring);
    return Status::Ok();
  }

  Status current_size(uint64_t* size_bytes) const override { return backing_size(fd_, info_.name, size_bytes); }
  Status set_size(uint64_t size_bytes) override {
    const bool mapped = map_ != nullptr;
    if (mapped) ::munmap(map_, info_.size_bytes);
    map_ = nullptr;
    info_.size_bytes = size_bytes;
    if (mapped) map_backing();
    return Status::Ok();
  }

  int fd() const { return fd_; }
  void set_sync_io(bool on) { sync_io_ = on; }

  // A tmpfs backing is memory: a shared mapping of it turns each read or write into one
  // memcpy, where pread/pwrite do per-page work in shmem's read and write paths (several
  // times slower under QEMU's TCG), and it spares small I/O its system call.
  // Without a mapping (mmap refused) the system calls serve.
  void map_backing() {
    const int prot = PROT_READ | (info_.read_only ? 0 : PROT_WRITE);
    void* p = ::mmap(nullptr, info_.size_bytes, prot, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return;
    // Ciphertext, but the whole volume: no place in a core dump.
    (void)::madvise(p, info_.size_bytes, MADV_DONTDUMP);
    map_ = static_cast<uint8_t*>(p);
  }

  // Copies through the mapping; false if it cannot (outside the mapping, or a SIGBUS: the
  // file shrank, or tmpfs is out of room for a hole's page), and the caller falls back
  // to the system call, which reports those conditions precisely. Reading a hole through
  // the mapping gives it a page, as a write would.
  bool copy_mapped(StorageOp op, uint8_t* buffer, uint64_t offset, uint32_t length) const {
    if (map_ == nullptr || offset > info_.size_bytes || length > info_.size_bytes - offset)
      return false;
    return op == StorageOp::read ? guarded_copy(buffer, map_ + offset, length)
                                 : guarded_copy(map_ + offset, buffer, length);
  }

 private:
  int fd_;
  StorageInfo info_;
  bool sync_io_ = false;
  uint8_t* map_ = nullptr;  // the whole backing, for sync I/O (tmpfs)
};

io_uring_sqe* FileStorageQueue::next_sqe(StorageIo* io) {
  if (free_slots_.empty()) {
    slots_.emplace_back();
    slots_.back().queue = this;
    free_slots_.push_back(&slots_.back());
  }
  Slot* slot = free_slots_.back();
  free_slots_.pop_back();
  slot->io = io;
  return ring_->get_sqe(slot);
}

// A read or write on this thread, now (tmpfs: a memory copy).
void FileStorageQueue::transfer_now(StorageIo* io) {
  const uint32_t remaining = io->length - io->transferred;
  uint8_t* buffer = io->buffer + io->transferred;
  const uint64_t offset = io->offset + io->transferred;
  if (storage_.copy_mapped(io->op, buffer, offset, remaining)) {
    // Durable as tmpfs gets: FUA's RWF_DSYNC is a no-op there too.
    done_.emplace_back(io, int(remaining));
    return;
  }
  iovec iov{buffer, remaining};
  const ssize_t n = io->op == StorageOp::read
                        ? ::preadv2(fd_, &iov, 1, off_t(offset), 0)
                        : ::pwritev2(fd_, &iov, 1, off_t(offset), io->fua ? RWF_DSYNC : 0);
  done_.emplace_back(io, n < 0 ? -errno : int(n));
}

void FileStorageQueue::prepare(StorageIo* io) {
  if (io->op == StorageOp::discard && storage_.info().block_device) {
    discard_block_device(io);
    return;
  }
  if (sync_io_ && (io->op == StorageOp::read || io->op == StorageOp::write)) {
    transfer_now(io);
    return;
  }
  io_uring_sqe* sqe = next_sqe(io);
  const uint32_t remaining = io->length - io->transferred;
  const uint64_t offset = io->offset + io->transferred;
  uint8_t* buffer = io->buffer + io->transferred;
  // A buffer registered with the ring spares the kernel pinning its pages for this I/O.
  const int fixed = io->op == StorageOp::read || io->op == StorageOp::write
                        ? ring_->fixed_buffer(buffer, remaining)
                        : -1;
  switch (io->op) {
    case StorageOp::read:
      if (fixed >= 0)
        io_uring_prep_read_fixed(sqe, 0, buffer, remaining, offset, fixed);
      else
        io_uring_prep_read(sqe, 0, buffer, remaining, offset);
      break;
    case StorageOp::write:
      if (fixed >= 0)
        io_uring_prep_write_fixed(sqe, 0, buffer, remaining, offset, fixed);
      else
        io_uring_prep_write(sqe, 0, buffer, remaining, offset);
      if (io->fua) sqe->rw_flags = RWF_DSYNC;
      break;
    case StorageOp::flush:
      io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
      break;
    case StorageOp::discard:
      // Punching a hole keeps the size; the range reads back as zeros on disk.
      io_uring_prep_fallocate(sqe, 0, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset,
                              remaining);
      break;
  }
  sqe->fd = fd_;
}

void FileStorageQueue::discard_block_device(StorageIo* io) {
  uint64_t range[2] = {io->offset, io->length};
  int result = ::ioctl(storage_.fd(), BLKDISCARD, range) < 0 ? -errno : int(io->length);
  done_.emplace_back(io, result);
}

void FileStorageQueue::reap() {
  // Completions may submit new I/O (the engine's next step, a resumed short transfer),
  // which may complete at once: take the list first, and go round until it stays empty.
  while (!done_.empty()) {
    auto batch = std::move(done_);
    done_.clear();
    for (auto [io, result] : batch) finish(io, result);
  }
}

void FileStorageQueue::finish(StorageIo* io, int result) {
  if (result == -EINTR || result == -EAGAIN) {
    prepare(io);
    return;
  }
  if (result < 0) {
    io->completion->storage_done(io, errno_status(describe_storage_io(storage_.info(), *io), -result),
                                 io->transferred);
    return;
  }
  if (io->op == StorageOp::read || io->op == StorageOp::write) {
    // Resumed transfers count from where the previous part stopped.
    io->transferred += uint32_t(result);
    if (io->transferred < io->length) {
      if (result > 0) {  // short transfer: resume the rest
        prepare(io);
        return;
      }
      if (io->op == StorageOp::write) {
        io->completion->storage_done(
            io, Status(Errc::io_error, describe_storage_io(storage_.info(), *io) + ": no progress"),
            io->transferred);
        return;
      }
      // A read at end of file: report what arrived; the caller decides (never zero-fill).
    }
    io->completion->storage_done(io, Status::Ok(), io->transferred);
    return;
  }
  io->completion->storage_done(io, Status::Ok(), io->length);
}

// Sizes and alignment of the backing.
Status probe(int fd, const std::string& path, StorageInfo* info) {
  struct statx st {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_DIOALIGN, &st) < 0)
    return errno_status("stat " + path, errno);
  if (S_ISBLK(st.stx_mode)) {
    info->block_device = true;
    if (::ioctl(fd, BLKGETSIZE64, &info->size_bytes) < 0)
      return errno_status("BLKGETSIZE64 " + path, errno);
    int lbs = 512;
    if (::ioctl(fd, BLKSSZGET, &lbs) < 0) return errno_status("BLKSSZGET " + path, errno);
    info->logical_block_size = uint32_t(lbs);
  } else if (S_ISREG(st.stx_mode)) {
    info->size_bytes = st.stx_size;
    // With O_DIRECT a file inherits its filesystem's alignment (4096 on a 4Kn disk).
    if (info->direct_io && (st.stx_mask & STATX_DIOALIGN) && st.stx_dio_offset_align > 512)
      info->logical_block_size = st.stx_dio_offset_align;
  } else {
    return Status(Errc::invalid_argument,
                  fmt::format("{}: not a regular file or block device", path));
  }
  if (info->size_bytes < 512)
    return Status(Errc::invalid_argument,
                  fmt::format("{}: backing too small ({} bytes, need at least one 512-byte "
                              "sector)",
                              path, info->size_bytes));
  return Status::Ok();
}

// tmpfs takes O_DIRECT (since 6.6) but its page cache is the storage, so there is nothing
// to bypass; and io_uring cannot complete its direct reads inline, so each goes through an
// io-wq worker thread, which engine-bench on /dev/shm shows as slower reads. Regular files
// only: a device node lives on devtmpfs (TMPFS_MAGIC too), and a
// block device opened buffered would put a second page cache above the disk.
bool file_on_tmpfs(const std::string& path) {
  struct stat st {};
  struct statfs fs {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::statfs(path.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

// O_NOATIME: a read of the backing then skips the access-time check, CPU spent on every
// request (dm-crypt's bios never touch an inode). Only the file's owner or CAP_FOWNER may
// ask for it; anyone else gets the plain open.
int open_backing(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), flags);
  return fd;
}

}  // namespace

Status open_file_storage(const std::string& path, const FileStorageOptions& options,
                         std::unique_ptr<Storage>* out) {
  StorageInfo info;
  info.name = options.name.empty() ? path : options.name;
  info.read_only = options.read_only;
  const int access = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  int fd = -1;
  if (options.direct_io && !file_on_tmpfs(path)) {
    fd = open_backing(path, access | O_DIRECT);
    // EINVAL: the filesystem has no O_DIRECT (older tmpfs, some FUSE); buffered still works.
    if (fd >= 0) info.direct_io = true;
    else if (errno != EINVAL) return errno_status("open " + info.name, errno);
  }
  if (fd < 0) {
    fd = open_backing(path, access);
    if (fd < 0) return errno_status("open " + info.name, errno);
  }
  if (Status s = probe(fd, info.name, &info); !s.ok()) {
    ::close(fd);
    return s;
  }
  const bool sync_io = !info.direct_io && file_on_tmpfs(path);
  auto storage = std::make_unique<FileStorage>(fd, std::move(info));
  storage->set_sync_io(sync_io);
  if (sync_io) storage->map_backing();
  *out = std::move(storage);
  return Status::Ok();
}

}  // namespace ublkcrypt

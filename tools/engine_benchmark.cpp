#include "tools/engine_benchmark.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <vector>

#include "bench/cpu_clock.h"
#include "engine/ring_queue.h"

namespace ublkcrypt {

namespace {

// Request buffers for one pass, 4096-aligned for O_DIRECT, allocated once per pass.
class BufferSet {
 public:
  BufferSet(unsigned count, uint32_t bytes) : bytes_(bytes) {
    for (unsigned i = 0; i < count; ++i) {
      auto* b = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
      if (b == nullptr) break;
      std::memset(b, 0, bytes);
      buffers_.push_back(b);
    }
  }
  ~BufferSet() {
    for (uint8_t* b : buffers_) std::free(b);
  }
  BufferSet(const BufferSet&) = delete;
  BufferSet& operator=(const BufferSet&) = delete;
  bool complete(unsigned count) const { return buffers_.size() == count; }
  uint8_t* operator[](unsigned i) const { return buffers_[i]; }

 private:
  uint32_t bytes_;
  std::vector<uint8_t*> buffers_;
};

// A pattern no two 8-byte words of the volume share, cheap enough not to dominate a pass.
uint64_t pattern_word(uint64_t byte_offset) {
  return (byte_offset * 0x9E3779B97F4A7C15ull) ^ 0x5DEECE66Dull;
}

void fill_pattern(uint8_t* buffer, uint64_t offset, uint32_t length) {
  auto* words = reinterpret_cast<uint64_t*>(buffer);
  for (uint32_t i = 0; i < length / 8; ++i) words[i] = pattern_word(offset + uint64_t(i) * 8);
}

// Offset of the first word that differs from the pattern, or -1.
int64_t check_pattern(const uint8_t* buffer, uint64_t offset, uint32_t length) {
  auto* words = reinterpret_cast<const uint64_t*>(buffer);
  for (uint32_t i = 0; i < length / 8; ++i)
    if (words[i] != pattern_word(offset + uint64_t(i) * 8)) return int64_t(offset + i * 8);
  return -1;
}

// One sequential pass (every block written, or every block read) over the volume, each
// slot resubmitted from its own completion so `depth` requests stay in flight.
class SequentialPass final : BlockCompletion {
 public:
  SequentialPass(RingQueue& queue, BlockOp op, uint64_t size, const SequentialOptions& options,
                 const BufferSet& buffers)
      : queue_(queue), op_(op), size_(size), options_(options) {
    requests_.resize(options.depth);
    for (unsigned i = 0; i < options.depth; ++i) {
      requests_[i].op = op;
      requests_[i].buffer = buffers[i];
      requests_[i].completion = this;
    }
  }

  Status run() {
    std::vector<BlockRequest*> first;
    for (BlockRequest& r : requests_)
      if (prepare(&r)) first.push_back(&r);
    queue_.submit(first);
    while (queue_.in_flight() > 0) queue_.wait_and_process();
    return status_;
  }

 private:
  bool prepare(BlockRequest* r) {
    if (next_ >= size_ || !status_.ok()) return false;
    r->offset = next_;
    r->length = uint32_t(std::min<uint64_t>(options_.block_bytes, size_ - next_));
    next_ += r->length;
    if (op_ == BlockOp::write && options_.verify) fill_pattern(r->buffer, r->offset, r->length);
    return true;
  }

  void block_done(BlockRequest* r, Status status) override {
    if (!status.ok()) {
      if (status_.ok()) status_ = std::move(status);
      return;
    }
    if (op_ == BlockOp::read && options_.verify) {
      int64_t bad = check_pattern(r->buffer, r->offset, r->length);
      if (bad >= 0 && status_.ok())
        status_ = Status(Errc::corrupt,
                         fmt::format("read back at offset {}: data differs from what was "
                                     "written",
                                     bad));
    }
    if (prepare(r)) queue_.submit(r);
  }

  RingQueue& queue_;
  BlockOp op_;
  uint64_t size_;
  SequentialOptions options_;
  std::vector<BlockRequest> requests_;
  uint64_t next_ = 0;
  Status status_;
};

Status flush(RingQueue& queue) {
  struct Done final : BlockCompletion {
    Status status;
    void block_done(BlockRequest*, Status s) override { status = std::move(s); }
  } done;
  BlockRequest request;
  request.op = BlockOp::flush;
  request.completion = &done;
  queue.submit(&request);
  while (queue.in_flight() > 0) queue.wait_and_process();
  return done.status;
}

// Runs of the provider pass, each resubmitted from its completion (on a provider thread)
// until the budget is spent.
class CryptoPass final : CryptoCompletion {
 public:
  // Out of place from `sources` into `targets`, as the engine runs a cipher (in place
  // for cipher_null, as the engine does too).
  CryptoPass(Session& session, Direction direction, uint64_t bytes,
             const SequentialOptions& options, const BufferSet& sources,
             const BufferSet& targets)
      : session_(session),
        sectors_per_run_(options.block_bytes / session.spec().sector_size),
        runs_total_(bytes / options.block_bytes) {
    const bool in_place = session.spec().mode == CipherMode::null;
    requests_.resize(options.depth);
    for (unsigned i = 0; i < options.depth; ++i) {
      requests_[i].run = SectorRun{direction, sources[i], in_place ? sources[i] : targets[i], 0,
                                   sectors_per_run_};
      requests_[i].completion = this;
    }
  }

  Status run() {
    std::vector<CryptoRequest*> first;
    for (CryptoRequest& r : requests_)
      if (claim(&r)) first.push_back(&r);
    {
      std::lock_guard lock(mutex_);
      outstanding_ = unsigned(first.size());
    }
    session_.submit(first);
    session_.wait_helping(mutex_, done_, [&] { return outstanding_ == 0; });
    return status_;
  }

 private:
  bool claim(CryptoRequest* r) {
    const uint64_t n = next_run_.fetch_add(1, std::memory_order_relaxed);
    if (n >= runs_total_) return false;
    r->run.first_sector = n * sectors_per_run_;
    return true;
  }

  void crypto_done(CryptoRequest* r, Status status) override {
    if (status.ok() && claim(r)) {
      CryptoRequest* one[] = {r};
      session_.submit(one);
      return;
    }
    std::lock_guard lock(mutex_);
    if (!status.ok() && status_.ok()) status_ = std::move(status);
    if (--outstanding_ == 0) done_.notify_one();
  }

  Session& session_;
  uint32_t sectors_per_run_;
  uint64_t runs_total_;
  std::vector<CryptoRequest> requests_;
  std::atomic<uint64_t> next_run_{0};
  std::mutex mutex_;
  std::condition_variable done_;
  unsigned outstanding_ = 0;
  Status status_;
};

Status check_options(const SequentialOptions& options, uint32_t sector_size) {
  if (options.depth == 0 || options.block_bytes == 0 || options.block_bytes % sector_size != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("block size {}: must be a positive multiple of the {}-byte "
                              "sector, with a queue depth of at least 1",
                              options.block_bytes, sector_size));
  return Status::Ok();
}

}  // namespace

Status make_random_key(uint32_t bytes, SecureBytes* out) {
  SecureBytes key;
  if (Status s = SecureBytes::allocate(bytes, &key); !s.ok()) return s;
  for (size_t done = 0; done < bytes;) {
    ssize_t n = ::getrandom(key.data() + done, bytes - done, 0);
    if (n < 0 && errno != EINTR) return errno_status("getrandom", errno);
    if (n > 0) done += size_t(n);
  }
  *out = std::move(key);
  return Status::Ok();
}

Status create_image(const std::string& path, uint64_t size_bytes, bool overwrite) {
  if (size_bytes < 4096 || size_bytes % 4096 != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("image {}: size {} must be a positive multiple of 4096 bytes",
                              path, size_bytes));
  const int flags = O_CREAT | O_WRONLY | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    Status s = errno_status("create image " + path, errno);
    if (errno == EEXIST) s = Status(Errc::busy, s.message() + " (remove it or use --force)");
    return s;
  }
  int err = ::posix_fallocate(fd, 0, off_t(size_bytes));
  ::close(fd);
  if (err != 0) {
    ::unlink(path.c_str());  // nothing half-made left behind
    return errno_status(fmt::format("allocate {} bytes for image {}", size_bytes, path), err);
  }
  return Status::Ok();
}

Status open_image_engine(const std::string& path, const CipherSpec& spec,
                         std::span<const uint8_t> key, const std::string& backend,
                         bool direct_io, std::unique_ptr<Engine>* out) {
  std::unique_ptr<Storage> storage;
  if (Status s = open_file_storage(path, {false, direct_io}, &storage); !s.ok()) return s;
  std::unique_ptr<Session> session;
  SessionOptions options;
  options.backend = backend;
  if (Status s = builtin_registry().open_session(spec, key, options, &session); !s.ok())
    return s;
  return Engine::create({}, std::move(storage), std::move(session), out);
}

Status run_sequential(Engine& engine, const SequentialOptions& options, PassTimes* out) {
  if (Status s = check_options(options, engine.sector_size()); !s.ok()) return s;
  std::unique_ptr<RingQueue> queue;
  if (Status s = RingQueue::open(engine, options.depth, &queue); !s.ok()) return s;
  BufferSet buffers(options.depth, options.block_bytes);
  if (!buffers.complete(options.depth))
    return Status(Errc::no_memory, "engine pass: request buffers");
  const uint64_t size = engine.size_bytes();
  const ProviderCounters& counters = engine.session().provider()->counters();
  const bool host_copies_storage = !engine.storage_info().direct_io;
  // Passes over memory per user byte since the last call (see PassTimes).
  auto passes = [&, payload = counters.payload_bytes.load(), copies = counters.copy_bytes.load(),
                 stored = engine.storage_bytes()]() mutable {
    const uint64_t now_payload = counters.payload_bytes.load(), now_copies = counters.copy_bytes.load(),
                   now_stored = engine.storage_bytes();
    const double moved = double(now_payload - payload) + double(now_copies - copies) +
                         (host_copies_storage ? double(now_stored - stored) : 0);
    payload = now_payload;
    copies = now_copies;
    stored = now_stored;
    return size > 0 ? moved / double(size) : 0;
  };

  const Stopwatch writes;
  if (Status s = SequentialPass(*queue, BlockOp::write, size, options, buffers).run(); !s.ok())
    return s;
  if (Status s = flush(*queue); !s.ok()) return s;
  out->write_seconds = writes.wall_seconds();
  out->write_cpu_seconds = writes.cpu_seconds();
  out->write_memory_passes = passes();
  const Stopwatch reads;
  if (Status s = SequentialPass(*queue, BlockOp::read, size, options, buffers).run(); !s.ok())
    return s;
  out->read_seconds = reads.wall_seconds();
  out->read_cpu_seconds = reads.cpu_seconds();
  out->read_memory_passes = passes();
  out->bytes = size;
  return Status::Ok();
}

Status run_provider(Session& session, uint64_t bytes, const SequentialOptions& options,
                    CryptoTimes* out) {
  if (Status s = check_options(options, session.spec().sector_size); !s.ok()) return s;
  BufferSet sources(options.depth, options.block_bytes), targets(options.depth, options.block_bytes);
  if (!sources.complete(options.depth) || !targets.complete(options.depth))
    return Status(Errc::no_memory, "provider pass: request buffers");
  bytes -= bytes % options.block_bytes;
  const Stopwatch encrypts;
  if (Status s = CryptoPass(session, Direction::encrypt, bytes, options, sources, targets).run(); !s.ok())
    return s;
  out->encrypt_seconds = encrypts.wall_seconds();
  out->encrypt_cpu_seconds = encrypts.cpu_seconds();
  const Stopwatch decrypts;
  if (Status s = CryptoPass(session, Direction::decrypt, bytes, options, targets, sources).run(); !s.ok())
    return s;
  out->decrypt_seconds = decrypts.wall_seconds();
  out->decrypt_cpu_seconds = decrypts.cpu_seconds();
  out->bytes = bytes;
  return Status::Ok();
}

}  // namespace ublkcrypt

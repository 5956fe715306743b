// What the engine tests share: real image files in a temp dir, a real software-provider
// session (or one from a registry of the test's own), an independent decryption of the
// backing, aligned buffers, and a recorder of block completions in the order they ran.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "backends/software/software_provider.h"
#include "base/secure_bytes.h"
#include "engine/engine.h"
#include "engine/ring_queue.h"

namespace ublkcrypt::testing {

// A directory removed with everything in it at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& base) {
    std::string pattern = base + "/ublkcrypt-engine-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A file of `size` bytes filled with a pattern (so a hole or a stray write shows).
inline void make_image(const std::string& path, uint64_t size, uint8_t fill = 0xA5) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  std::vector<uint8_t> chunk(1 << 20, fill);
  for (uint64_t done = 0; done < size;) {
    size_t n = std::min<uint64_t>(chunk.size(), size - done);
    REQUIRE(::pwrite(fd, chunk.data(), n, off_t(done)) == ssize_t(n));
    done += n;
  }
  ::close(fd);
}

// Reads the backing from its own descriptor, past the engine.
inline std::vector<uint8_t> read_file(const std::string& path, uint64_t offset, size_t length) {
  std::vector<uint8_t> out(length);
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, out.data(), length, off_t(offset)) == ssize_t(length));
  ::close(fd);
  return out;
}

inline std::vector<uint8_t> whole_file(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return read_file(path, 0, size_t(st.st_size));
}

struct AlignedBuffer {
  explicit AlignedBuffer(size_t bytes)
      : data(static_cast<uint8_t*>(std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096))),
        size(bytes) {
    std::memset(data, 0, bytes);
  }
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  uint8_t* data;
  size_t size;
};

// Real OpenSSL through the software provider, as a volume would get it.
inline Registry& software_registry() {
  static Registry* registry = [] {
    auto* r = new Registry;
    r->add(make_software_provider());
    return r;
  }();
  return *registry;
}

struct TestKey {
  CipherSpec spec;
  SecureBytes key;
};

inline TestKey make_key(CipherMode mode = CipherMode::aes_xts_plain64, uint32_t key_bytes = 64,
                        uint32_t sector_size = 512, uint64_t seed = 1) {
  TestKey k;
  k.spec.mode = mode;
  k.spec.key_bytes = key_bytes;
  k.spec.sector_size = sector_size;
  REQUIRE(SecureBytes::allocate(key_bytes, &k.key).ok());
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < key_bytes; ++i) k.key.data()[i] = uint8_t(rng());
  return k;
}

inline std::unique_ptr<Session> open_session(const TestKey& k,
                                             Registry& registry = software_registry()) {
  std::unique_ptr<Session> session;
  Status s = registry.open_session(k.spec, k.key.view(), {}, &session);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return session;
}

inline std::unique_ptr<Engine> open_engine(std::unique_ptr<Storage> storage, const TestKey& k,
                                           const EngineConfig& config = {},
                                           Registry& registry = software_registry()) {
  std::unique_ptr<Engine> engine;
  Status s = Engine::create(config, std::move(storage), open_session(k, registry), &engine);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return engine;
}

// Decrypts what is on disk with a software session of its own, as another process opening
// the volume would.
inline std::vector<uint8_t> decrypt_from_disk(const std::string& path, const TestKey& key,
                                              uint64_t data_offset, uint64_t offset,
                                              size_t length) {
  std::vector<uint8_t> cipher = read_file(path, data_offset + offset, length);
  std::vector<uint8_t> plain(length);
  auto session = open_session(key);
  Status s = session->run({Direction::decrypt, cipher.data(), plain.data(),
                           offset / key.spec.sector_size,
                           uint32_t(length / key.spec.sector_size)});
  REQUIRE_MESSAGE(s.ok(), s.message());
  return plain;
}

inline std::unique_ptr<Storage> open_file(const std::string& path, bool read_only = false) {
  std::unique_ptr<Storage> storage;
  Status s = open_file_storage(path, {read_only, true}, &storage);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return storage;
}

// Completions in the order the engine ran them.
struct CompletionLog final : BlockCompletion {
  struct Entry {
    BlockRequest* request;
    Status status;
  };
  std::vector<Entry> entries;
  void block_done(BlockRequest* request, Status status) override {
    entries.push_back({request, std::move(status)});
  }
  const Entry* find(const BlockRequest* request) const {
    for (const Entry& e : entries)
      if (e.request == request) return &e;
    return nullptr;
  }
  size_t position(const BlockRequest* request) const {
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i].request == request) return i;
    return entries.size();
  }
};

// The engine's queue on a ring, as the ublk queue thread runs it.
inline std::unique_ptr<RingQueue> open_queue(Engine& engine, unsigned depth) {
  std::unique_ptr<RingQueue> queue;
  Status s = RingQueue::open(engine, depth, &queue);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return queue;
}

// Runs one request to completion and returns its status.
inline Status run_one(RingQueue& queue, BlockOp op, uint64_t offset, uint32_t length,
                      uint8_t* buffer, bool fua = false) {
  CompletionLog log;
  BlockRequest request;
  request.op = op;
  request.offset = offset;
  request.length = length;
  request.buffer = buffer;
  request.fua = fua;
  request.completion = &log;
  queue.submit(&request);
  queue.drain();
  REQUIRE(log.entries.size() == 1);
  return log.entries[0].status;
}

// Eight bytes a draw: the workloads fill hundreds of megabytes, and the ASan build pays for
// every call.
inline void fill_random(uint8_t* data, size_t size, std::mt19937_64& rng) {
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = uint8_t(rng());
}

}  // namespace ublkcrypt::testing

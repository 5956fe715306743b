// The engine's random workload: reads, writes, write_zeroes and flushes, several in
// flight, checked against a plaintext model; then the whole device read back through the
// engine, and the backing decrypted independently. What the engine tests and the failover
// tests share.
#pragma once

#include <algorithm>
#include <functional>
#include <string>

#include "tests/engine/engine_fixture.h"

namespace ublkcrypt::testing {

struct Workload {
  std::string base_dir = "/var/tmp";  // /var/tmp: an O_DIRECT file on disk; /dev/shm: tmpfs
  uint32_t sector_size = 512;
  uint64_t data_offset = 0;
  CipherMode mode = CipherMode::aes_xts_plain64;
  unsigned ops = 3000;
  // Where the engine's session comes from; the software provider's registry when null.
  Registry* registry = nullptr;
  // Called before every `pause_every`th request (0: never) with no request in flight: where
  // a test changes the engine's session between requests.
  unsigned pause_every = 0;
  std::function<void(Engine&)> pause;
};

inline uint32_t key_bytes_of(CipherMode mode) {
  switch (mode) {
    case CipherMode::aes_xts_plain64: return 64;
    case CipherMode::aes_cbc_essiv_sha256: return 32;
    case CipherMode::null:
    case CipherMode::generic: return 0;
  }
  return 0;
}

// Requests in flight never overlap a write in flight, so the model is exact. With
// cipher_null the software provider completes runs inside Session::submit, on this thread:
// the engine's inline path. The queue runs on a ring, as on a ublk queue thread: storage
// I/O rides that ring and wait_and_process() waits on it.
inline void random_workload(const Workload& w) {
  constexpr uint64_t kImageBytes = 8 << 20;
  TempDir dir(w.base_dir);
  const std::string path = dir.file("image");
  make_image(path, w.data_offset + kImageBytes);
  TestKey key = make_key(w.mode, key_bytes_of(w.mode), w.sector_size, 7);
  EngineConfig config;
  config.data_offset = w.data_offset;
  config.max_io_bytes = 256 * 1024;
  auto engine = open_engine(open_file(path), key, config,
                            w.registry != nullptr ? *w.registry : software_registry());
  REQUIRE(engine->size_bytes() == kImageBytes);
  auto queue = open_queue(*engine, 16);

  // The model starts as what the pattern-filled image decrypts to.
  std::vector<uint8_t> model = decrypt_from_disk(path, key, w.data_offset, 0, kImageBytes);

  constexpr unsigned kSlots = 12;
  struct Slot {
    explicit Slot(uint32_t bytes) : buffer(bytes) {}
    BlockRequest request;
    AlignedBuffer buffer;
    std::vector<uint8_t> written;  // plaintext of a write in flight
    bool busy = false;
  };
  std::vector<std::unique_ptr<Slot>> slots;
  for (unsigned i = 0; i < kSlots; ++i) slots.push_back(std::make_unique<Slot>(config.max_io_bytes));

  // Reads that differ from the model are counted, not checked one by one: one line says
  // how many and where the first was.
  struct Checker final : BlockCompletion {
    std::vector<uint8_t>* model;
    std::vector<std::unique_ptr<Slot>>* slots;
    unsigned completed = 0, reads = 0, writes = 0, zeroes = 0, flushes = 0, wrong_reads = 0;
    std::string first_wrong;
    void block_done(BlockRequest* request, Status status) override {
      REQUIRE_MESSAGE(status.ok(), status.message());
      Slot* slot = nullptr;
      for (auto& s : *slots)
        if (&s->request == request) slot = s.get();
      REQUIRE(slot != nullptr);
      if (request->op == BlockOp::read) {
        ++reads;
        if (std::memcmp(slot->buffer.data, model->data() + request->offset, request->length) !=
                0 &&
            wrong_reads++ == 0)
          first_wrong = "offset " + std::to_string(request->offset) + " length " +
                        std::to_string(request->length);
      } else if (request->op == BlockOp::write) {
        ++writes;
        std::memcpy(model->data() + request->offset, slot->written.data(), request->length);
      } else if (request->op == BlockOp::write_zeroes) {
        ++zeroes;
        std::memset(model->data() + request->offset, 0, request->length);
      } else {
        ++flushes;
      }
      slot->busy = false;
      ++completed;
    }
  } checker;
  checker.model = &model;
  checker.slots = &slots;

  unsigned issued = 0;
  unsigned next_pause = 0;
  auto maybe_pause = [&] {
    if (w.pause_every == 0 || issued != next_pause) return;
    queue->drain();
    w.pause(*engine);
    next_pause += w.pause_every;
  };

  std::mt19937_64 rng(w.sector_size + w.data_offset);
  auto overlaps_write_in_flight = [&](uint64_t offset, uint32_t length, bool is_write) {
    for (auto& s : slots) {
      if (!s->busy || s->request.op == BlockOp::flush) continue;
      if (!is_write && s->request.op == BlockOp::read) continue;
      if (offset < s->request.offset + s->request.length && s->request.offset < offset + length)
        return true;
    }
    return false;
  };
  while (checker.completed < w.ops) {
    for (auto& slot : slots) {
      if (slot->busy || issued >= w.ops) continue;
      maybe_pause();
      const unsigned dice = unsigned(rng() % 100);
      BlockRequest& r = slot->request;
      r = BlockRequest{};
      r.completion = &checker;
      r.buffer = slot->buffer.data;
      if (dice < 3) {
        r.op = BlockOp::flush;
      } else {
        const uint32_t max_sectors = config.max_io_bytes / w.sector_size;
        r.length = uint32_t(1 + rng() % max_sectors) * w.sector_size;
        r.offset = (rng() % ((kImageBytes - r.length) / w.sector_size + 1)) * w.sector_size;
        r.op = dice < 8 ? BlockOp::write_zeroes : dice < 50 ? BlockOp::read : BlockOp::write;
        r.fua = r.op == BlockOp::write && dice % 10 == 0;
        if (r.op == BlockOp::write_zeroes) r.buffer = nullptr;
        if (overlaps_write_in_flight(r.offset, r.length, r.op != BlockOp::read)) continue;
        if (r.op == BlockOp::write) {
          slot->written.resize(r.length);
          fill_random(slot->written.data(), r.length, rng);
          std::memcpy(slot->buffer.data, slot->written.data(), r.length);
        }
      }
      slot->busy = true;
      ++issued;
      const unsigned completed_before = checker.completed;
      queue->submit(&r);
      CHECK(checker.completed == completed_before);  // completions never inside submit()
    }
    queue->wait_and_process();
  }
  queue->drain();
  CHECK(checker.reads > w.ops / 6);
  CHECK(checker.writes > w.ops / 6);
  CHECK(checker.zeroes > w.ops / 300);
  CHECK(checker.flushes > w.ops / 300);
  CHECK_MESSAGE(checker.wrong_reads == 0, checker.wrong_reads, " of ", checker.reads,
                " reads differ from the model, the first at ", checker.first_wrong);

  // Every byte read back through the engine.
  unsigned wrong_chunks = 0;
  std::string first_wrong_chunk;
  AlignedBuffer back(config.max_io_bytes);
  for (uint64_t offset = 0; offset < kImageBytes; offset += config.max_io_bytes) {
    maybe_pause();
    ++issued;
    REQUIRE(run_one(*queue, BlockOp::read, offset, config.max_io_bytes, back.data).ok());
    if (std::memcmp(back.data, model.data() + offset, config.max_io_bytes) != 0 &&
        wrong_chunks++ == 0)
      first_wrong_chunk = "offset " + std::to_string(offset);
  }
  CHECK_MESSAGE(wrong_chunks == 0, wrong_chunks, " of ", kImageBytes / config.max_io_bytes,
                " chunks read back differ from the model, the first at ", first_wrong_chunk);
  queue.reset();
  engine.reset();

  // On disk: ciphertext, not the plaintext (cipher_null: the plaintext), and it decrypts
  // to the model.
  std::vector<uint8_t> on_disk = read_file(path, w.data_offset, kImageBytes);
  CHECK((std::memcmp(on_disk.data(), model.data(), kImageBytes) != 0) ==
        (w.mode != CipherMode::null));
  std::vector<uint8_t> decrypted = decrypt_from_disk(path, key, w.data_offset, 0, kImageBytes);
  size_t wrong_sectors = 0;
  for (uint64_t at = 0; at < kImageBytes; at += w.sector_size)
    wrong_sectors += std::memcmp(decrypted.data() + at, model.data() + at, w.sector_size) != 0;
  CHECK_MESSAGE(wrong_sectors == 0, wrong_sectors, " of ", kImageBytes / w.sector_size,
                " sectors on disk do not decrypt to the model");
  // Nothing before the data offset was touched.
  if (w.data_offset > 0) {
    std::vector<uint8_t> header = read_file(path, 0, w.data_offset);
    CHECK(std::all_of(header.begin(), header.end(), [](uint8_t b) { return b == 0xA5; }));
  }
}

}  // namespace ublkcrypt::testing

// BounceBuffers: the per-queue buffers a request's crypto writes into, so that the
// caller's buffer is never transformed in place. A write is encrypted from the caller's
// plaintext into a bounce buffer and written from there; a read lands its ciphertext in a
// bounce buffer and is decrypted from there into the caller's buffer. A crypto step that
// fails part-way (a card dying after k of n sectors) therefore leaves its input as it was,
// and the retry on the next provider transforms it whole, once (see backends/provider.h).
//
// One buffer per request the queue can hold, of the largest I/O, mapped once: pages are
// given memory when first touched, and the most recently freed buffer is handed out first,
// so a shallow workload keeps using the same few (cache-warm) buffers. Kept out of core
// dumps: they hold plaintext. Not mlock'ed here: the server locks its memory as it is
// touched (base/key_process.h), so the buffers a shallow workload never uses stay free.
// Only the queue thread uses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "engine/io_ring.h"

namespace ublkcrypt {

class BounceBuffers {
 public:
  BounceBuffers() = default;
  ~BounceBuffers();
  BounceBuffers(const BounceBuffers&) = delete;
  BounceBuffers& operator=(const BounceBuffers&) = delete;

  // `count` buffers of `bytes` each (a multiple of 4096, so each is 4096-aligned).
  Status init(unsigned count, size_t bytes);

  // A free buffer, or nullptr when all are taken.
  uint8_t* take() {
    if (free_.empty()) return nullptr;
    uint8_t* buffer = free_.back();
    free_.pop_back();
    return buffer;
  }
  void give_back(uint8_t* buffer) { free_.push_back(buffer); }

  // Declares the buffers to `ring`, whose storage reads and writes use them.
  void add_to(IoRing* ring) const { ring->add_fixed_region(base_, stride_, count_); }

 private:
  uint8_t* base_ = nullptr;
  size_t stride_ = 0;
  unsigned count_ = 0;
  size_t mapped_ = 0;
  std::vector<uint8_t*> free_;
};

}  // namespace ublkcrypt

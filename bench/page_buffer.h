// PageBuffer: memory a benchmark moves, 4096-aligned (O_DIRECT asks for it) and filled with
// random bytes before any clock starts. Random, as fio's default buffers: zram stores a
// same-filled page as one word and compresses a pattern to nothing, while ciphertext
// costs it a full page. Filled up front, because an untouched page is faulted in by the
// first request that reads it (the shared zero page) and copied again by the first that
// writes it, inside the measurement, which then counts page faults instead of the cipher.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

namespace ublkcrypt {

class PageBuffer {
 public:
  PageBuffer() = default;
  // `bytes` from the generator seeded with `seed` (the first MiB; repeated after it, so a
  // large working set costs no more than a copy); data() is null when memory ran out.
  PageBuffer(uint64_t bytes, uint64_t seed)
      : data_(static_cast<uint8_t*>(std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096))) {
    if (!data_) return;
    std::mt19937_64 rng(seed);
    const uint64_t head = std::min<uint64_t>(bytes, 1 << 20);
    for (uint64_t at = 0; at < head; at += 8) {
      const uint64_t v = rng();
      std::memcpy(data_.get() + at, &v, std::min<uint64_t>(8, head - at));
    }
    for (uint64_t at = head; at < bytes; at += head)
      std::memcpy(data_.get() + at, data_.get(), std::min(head, bytes - at));
  }
  uint8_t* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> data_;
};

}  // namespace ublkcrypt

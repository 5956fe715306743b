// Buffer: the byte vector every Opal message travels in. Command and response buffers
// carry PINs (StartSession's HostChallenge, Set on C_PIN, Get of C_PIN_MSID), so the
// allocator wipes memory before giving it back; no copy of a password survives a
// reallocation or a destructor. Long-lived secrets still belong in SecureBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/secure_bytes.h"

namespace ublkcrypt::opal {

template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) {}
  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) {
    secure_wipe(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const { return true; }
};

using Buffer = std::vector<uint8_t, WipingAllocator<uint8_t>>;

inline Buffer to_buffer(std::span<const uint8_t> bytes) { return Buffer(bytes.begin(), bytes.end()); }

// Big-endian field access: every multi-byte field on the wire is big-endian
// (Core spec 3.2.3 framing, 3.3.6 Level 0 discovery).
inline uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t load_be64(const uint8_t* p) { return uint64_t(load_be32(p)) << 32 | load_be32(p + 4); }
inline void store_be16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void store_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (24 - 8 * i));
}
inline void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, uint32_t(v >> 32));
  store_be32(p + 4, uint32_t(v));
}

}  // namespace ublkcrypt::opal

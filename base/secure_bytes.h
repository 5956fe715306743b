// SecureBytes: a buffer for key material. Locked in RAM (never swapped), excluded from
// core dumps, and wiped before it is returned to the system. Move-only: a key has one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"

namespace ublkcrypt {

class SecureBytes {
 public:
  SecureBytes() = default;
  ~SecureBytes();
  SecureBytes(SecureBytes&& other) noexcept;
  SecureBytes& operator=(SecureBytes&& other) noexcept;
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;

  // Allocates `size` zeroed bytes in locked, non-dumpable pages.
  static Status allocate(size_t size, SecureBytes* out);
  // Allocates and copies `bytes` in. The caller wipes its own copy.
  static Status copy_of(std::span<const uint8_t> bytes, SecureBytes* out);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> view() const { return {data_, size_}; }
  std::span<uint8_t> span() { return {data_, size_}; }

  // Shrinks the visible size (e.g. a passphrase read into a larger buffer). Never grows.
  void truncate(size_t size);
  // Wipes and releases now rather than at destruction.
  void reset();

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
};

// Wipes memory in a way the compiler may not elide.
void secure_wipe(void* data, size_t size);

}  // namespace ublkcrypt

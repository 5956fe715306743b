#include "base/secure_bytes.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ublkcrypt {

void secure_wipe(void* data, size_t size) {
  if (data != nullptr && size != 0) explicit_bzero(data, size);
}

SecureBytes::~SecureBytes() { reset(); }

SecureBytes::SecureBytes(SecureBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

SecureBytes& SecureBytes::operator=(SecureBytes&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

Status SecureBytes::allocate(size_t size, SecureBytes* out) {
  out->reset();
  if (size == 0) return Status::Ok();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t mapped = (size + page - 1) / page * page;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return errno_status("allocate key memory", errno);
  // Locking can fail under a tight RLIMIT_MEMLOCK; a key that could be swapped is refused.
  if (mlock(p, mapped) != 0) {
    int err = errno;
    munmap(p, mapped);
    return errno_status("lock key memory (mlock)", err);
  }
  madvise(p, mapped, MADV_DONTDUMP);
  out->data_ = static_cast<uint8_t*>(p);
  out->size_ = size;
  out->mapped_ = mapped;
  return Status::Ok();
}

Status SecureBytes::copy_of(std::span<const uint8_t> bytes, SecureBytes* out) {
  Status s = allocate(bytes.size(), out);
  if (s.ok() && !bytes.empty()) std::memcpy(out->data_, bytes.data(), bytes.size());
  return s;
}

void SecureBytes::truncate(size_t size) {
  if (size >= size_) return;
  secure_wipe(data_ + size, size_ - size);
  size_ = size;
}

void SecureBytes::reset() {
  if (data_ == nullptr) return;
  secure_wipe(data_, mapped_);
  munlock(data_, mapped_);
  munmap(data_, mapped_);
  data_ = nullptr;
  size_ = 0;
  mapped_ = 0;
}

}  // namespace ublkcrypt

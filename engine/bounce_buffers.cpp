#include "engine/bounce_buffers.h"

#include <sys/mman.h>

#include <cerrno>

namespace ublkcrypt {

Status BounceBuffers::init(unsigned count, size_t bytes) {
  const size_t stride = (bytes + 4095) / 4096 * 4096;
  mapped_ = stride * count;
  void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    mapped_ = 0;
    return errno_status("bounce buffers", errno);
  }
  (void)::madvise(p, mapped_, MADV_DONTDUMP);
  base_ = static_cast<uint8_t*>(p);
  stride_ = stride;
  count_ = count;
  free_.reserve(count);
  // Last in, first out: buffer 0 is handed out first.
  for (unsigned i = count; i > 0; --i) free_.push_back(base_ + (i - 1) * stride);
  return Status::Ok();
}

BounceBuffers::~BounceBuffers() {
  if (base_ != nullptr) ::munmap(base_, mapped_);
}

}  // namespace ublkcrypt

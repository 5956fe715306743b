#include "engine/storage_sync.h"

#include <cerrno>
#include <fmt/format.h>
#include <optional>

#include "engine/io_ring.h"

namespace ublkcrypt {

struct StorageSync::Impl final : StorageCompletion {
  IoRing ring;
  std::unique_ptr<StorageQueue> queue;
  std::string name;  // the backing, for messages
  std::optional<Status> result;
  void storage_done(StorageIo*, Status status, uint32_t) override { result = std::move(status); }
};

StorageSync::StorageSync(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StorageSync::~StorageSync() {
  impl_->queue.reset();  // its ring work (an armed eventfd read) leaves before the ring
}

Status StorageSync::open(Storage& storage, std::unique_ptr<StorageSync>* out) {
  auto impl = std::make_unique<Impl>();
  impl->name = storage.info().name;
  if (Status s = impl->ring.init(8, 0, false); !s.ok()) return s;
  if (Status s = storage.open_queue(1, &impl->ring, &impl->queue); !s.ok()) return s;
  out->reset(new StorageSync(std::move(impl)));
  return Status::Ok();
}

Status StorageSync::run(StorageOp op, uint64_t offset, uint32_t length, uint8_t* buffer) {
  StorageIo io;
  io.op = op;
  io.offset = offset;
  io.length = length;
  io.buffer = buffer;
  io.completion = impl_.get();
  impl_->result.reset();
  impl_->queue->submit(&io);
  impl_->queue->kick();
  impl_->queue->reap();
  while (!impl_->result) {
    const int r = impl_->ring.submit(1);
    if (r < 0 && r != -EINTR && r != -EBUSY && r != -EAGAIN)
      return errno_status("wait for " + impl_->name, -r);
    impl_->ring.dispatch();
    impl_->queue->reap();
  }
  if (impl_->result->ok() && op == StorageOp::read && io.transferred < length)
    return Status(Errc::io_error, fmt::format("read {} at offset {}: short read ({} of {} bytes)",
                                              impl_->name, offset, io.transferred, length));
  return *impl_->result;
}

Status StorageSync::read(uint64_t offset, uint32_t length, uint8_t* buffer) {
  return run(StorageOp::read, offset, length, buffer);
}
Status StorageSync::write(uint64_t offset, uint32_t length, const uint8_t* buffer) {
  return run(StorageOp::write, offset, length, const_cast<uint8_t*>(buffer));
}
Status StorageSync::flush() { return run(StorageOp::flush, 0, 0, nullptr); }

}  // namespace ublkcrypt

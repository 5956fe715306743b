// StorageWrapper<Queue, Args...>: a Storage that forwards to another and wraps each queue
// it opens in Queue(inner queue, args...). The storage seam's counterpart of LevelDB's
// EnvWrapper: a test that changes what the backing does (fail the Nth write, hold
// completions, a broken write-back cache) writes the queue and nothing else.
#pragma once

#include <memory>
#include <tuple>

#include "engine/storage.h"

namespace ublkcrypt {

template <typename Queue, typename... Args>
class StorageWrapper final : public Storage {
 public:
  explicit StorageWrapper(std::unique_ptr<Storage> inner, Args... args)
      : inner_(std::move(inner)), args_(args...) {}

  const StorageInfo& info() const override { return inner_->info(); }
  Status current_size(uint64_t* size_bytes) const override { return inner_->current_size(size_bytes); }
  Status set_size(uint64_t size_bytes) override { return inner_->set_size(size_bytes); }
  Status open_queue(unsigned depth, IoRing* ring, std::unique_ptr<StorageQueue>* out) override {
    std::unique_ptr<StorageQueue> inner;
    if (Status s = inner_->open_queue(depth, ring, &inner); !s.ok()) return s;
    *out = std::apply(
        [&](Args... args) { return std::make_unique<Queue>(std::move(inner), args...); }, args_);
    return Status::Ok();
  }

 private:
  std::unique_ptr<Storage> inner_;
  std::tuple<Args...> args_;
};

}  // namespace ublkcrypt

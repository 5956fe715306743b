// Synchronous I/O on a Storage, for the few places outside the data path that need some
// bytes now (a LUKS header read before any queue exists, its write-back after a keyslot
// change). Runs a queue of depth 1 on a private ring on the calling thread, so it works
// for every backing alike, whichever way its completions arrive.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "engine/storage.h"

namespace ublkcrypt {

class StorageSync {
 public:
  // Opens the queue; `storage` outlives this object.
  static Status open(Storage& storage, std::unique_ptr<StorageSync>* out);
  ~StorageSync();

  Status read(uint64_t offset, uint32_t length, uint8_t* buffer);
  Status write(uint64_t offset, uint32_t length, const uint8_t* buffer);
  Status flush();

 private:
  struct Impl;
  explicit StorageSync(std::unique_ptr<Impl> impl);
  Status run(StorageOp op, uint64_t offset, uint32_t length, uint8_t* buffer);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ublkcrypt

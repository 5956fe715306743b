// The engine's per-request state, living inside BlockRequest::internal so that nothing is
// allocated per request. Only the queue thread touches it, except `status` and `next`,
// which a provider thread writes before handing the request back through the inbox.
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>

#include "backends/provider.h"
#include "base/status.h"
#include "engine/engine.h"
#include "engine/storage.h"

namespace ublkcrypt {

struct BlockRequest::Internal {
  // The crypto and storage steps complete with a pointer to their own object; `owner`
  // leads back to the request without pointer arithmetic.
  struct Crypto : CryptoRequest {
    Internal* owner = nullptr;
  };
  struct Io : StorageIo {
    Internal* owner = nullptr;
  };

  enum class Stage : uint8_t {
    rejected,         // failed validation; completes in the next process()
    crypting,         // in the provider
    storage,          // in the backing
    waiting_writes,   // flush: earlier writes still running
    waiting_bounce,   // read, write or write_zeroes: no bounce buffer free yet
  };

  BlockRequest* request = nullptr;
  Crypto crypto;
  Io io;
  Status status;             // result of the crypto step (or of validation)
  Internal* next = nullptr;  // inbox, flush waiters or bounce waiters
  // Writes: position in the queue's order of accepted writes. Flushes: the first write
  // accepted after it (every write numbered below must finish first).
  uint64_t write_sequence = 0;
  uint32_t earlier_writes = 0;  // flush: writes it still waits for
  uint32_t zeroed = 0;          // write_zeroes: bytes already written
  uint8_t* bounce = nullptr;    // where its crypto writes (bounce_buffers.h), if it has one
  Stage stage = Stage::rejected;

  static Internal* of(BlockRequest* request) {
    return std::launder(reinterpret_cast<Internal*>(request->internal));
  }
};

static_assert(sizeof(BlockRequest::Internal) <= sizeof(BlockRequest::internal),
              "BlockRequest::internal too small for the engine's per-request state");
static_assert(alignof(BlockRequest::Internal) <= 8,
              "BlockRequest::internal is only 8-byte aligned");

}  // namespace ublkcrypt

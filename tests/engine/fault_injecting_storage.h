// FaultInjectingStorage: an Env-wrapper-style Storage for tests. It forwards everything to
// a real backing and, on the way, records every I/O the engine issued, fails the Nth write
// with an I/O error (never reaching the backing), and can hold write completions back to
// make an ordering observable without timing.
#pragma once

#include <memory>
#include <vector>

#include "engine/storage.h"
#include "engine/storage_wrapper.h"

namespace ublkcrypt::testing {

// What the test sets and reads. Lives in the test; the storage keeps a pointer to it.
struct StorageProbe {
  struct Issued {
    StorageOp op;
    uint64_t offset;
    uint32_t length;
    bool fua;
  };
  std::vector<Issued> issued;  // every I/O submitted, in order
  unsigned fail_write_number = 0;  // 1-based; 0 = never
  unsigned writes_seen = 0;
  unsigned fail_flush_number = 0;  // 1-based; 0 = never
  unsigned flushes_seen = 0;
  bool hold_writes = false;  // completions of writes wait until release_held()
  std::vector<std::pair<StorageIo*, uint32_t>> held;

  unsigned count(StorageOp op) const {
    unsigned n = 0;
    for (const Issued& io : issued) n += io.op == op;
    return n;
  }
};

class FaultInjectingQueue final : public StorageQueue, private StorageCompletion {
 public:
  FaultInjectingQueue(std::unique_ptr<StorageQueue> inner, StorageProbe* probe)
      : inner_(std::move(inner)), probe_(probe) {}

  void submit(StorageIo* io) override {
    probe_->issued.push_back({io->op, io->offset, io->length, io->fua});
    const bool fail =
        (io->op == StorageOp::write && ++probe_->writes_seen == probe_->fail_write_number) ||
        (io->op == StorageOp::flush && ++probe_->flushes_seen == probe_->fail_flush_number);
    if (fail) {
      failed_.push_back(io);  // completes at the next reap(), as a ring completion would
      return;
    }
    owners_.push_back({io, io->completion});
    io->completion = this;
    inner_->submit(io);
  }
  void kick() override { inner_->kick(); }
  void reap() override {
    for (StorageIo* io : std::exchange(failed_, {}))
      io->completion->storage_done(
          io, Status(Errc::io_error, io->op == StorageOp::flush ? "injected flush failure"
                                                                : "injected write failure"),
          0);
    if (!probe_->hold_writes) {
      for (auto [io, bytes] : std::exchange(probe_->held, {})) forward(io, Status::Ok(), bytes);
    }
    inner_->reap();
  }

 private:
  void storage_done(StorageIo* io, Status status, uint32_t bytes) override {
    if (probe_->hold_writes && io->op == StorageOp::write && status.ok()) {
      probe_->held.push_back({io, bytes});
      return;
    }
    forward(io, std::move(status), bytes);
  }
  void forward(StorageIo* io, Status status, uint32_t bytes) {
    for (auto it = owners_.begin(); it != owners_.end(); ++it) {
      if (it->first != io) continue;
      io->completion = it->second;
      owners_.erase(it);
      break;
    }
    io->completion->storage_done(io, std::move(status), bytes);
  }

  std::unique_ptr<StorageQueue> inner_;
  StorageProbe* probe_;
  std::vector<StorageIo*> failed_;
  std::vector<std::pair<StorageIo*, StorageCompletion*>> owners_;
};

using FaultInjectingStorage = StorageWrapper<FaultInjectingQueue, StorageProbe*>;

}  // namespace ublkcrypt::testing

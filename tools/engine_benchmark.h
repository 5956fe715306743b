// Driving the engine from a tool: sequential passes over an image at a queue depth (the
// `roundtrip` and `engine-bench` verbs), and the provider alone at the same depth and
// request size, so the two can be compared side by side in one run.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "backends/registry.h"
#include "base/secure_bytes.h"
#include "base/status.h"
#include "engine/engine.h"

namespace ublkcrypt {

// A fresh key from the kernel's random source, in locked memory.
Status make_random_key(uint32_t bytes, SecureBytes* out);

// Creates `path` with `size_bytes` allocated (so later passes do not pay for allocating
// blocks). Refuses an existing file unless `overwrite`.
Status create_image(const std::string& path, uint64_t size_bytes, bool overwrite);

// The whole image as one volume: file storage (O_DIRECT if asked and the filesystem takes
// it) and a session for
// `spec` from the built-in providers (`backend` as SessionOptions::backend).
Status open_image_engine(const std::string& path, const CipherSpec& spec,
                         std::span<const uint8_t> key, const std::string& backend,
                         bool direct_io, std::unique_ptr<Engine>* out);

struct SequentialOptions {
  uint32_t block_bytes = 128 * 1024;
  unsigned depth = 32;
  // Write a pattern unique to each offset and check it on the read pass. Off for pure
  // throughput (the buffers are then written as they are).
  bool verify = false;
};

struct PassTimes {
  uint64_t bytes = 0;
  double write_seconds = 0;  // every write, then one flush
  double read_seconds = 0;
  double write_cpu_seconds = 0;  // the process's, user + system, over the same interval
  double read_cpu_seconds = 0;
  // Times the host's memory was passed over per user byte (a pass reads a byte and writes
  // one): the provider's payload and extra copies, and the backing's bytes when a host copy
  // moved them (buffered or mapped I/O; O_DIRECT is the device's DMA).
  double write_memory_passes = 0;
  double read_memory_passes = 0;
};

// Writes the whole volume sequentially, flushes, then reads it back, `depth` requests in
// flight on one engine queue. With verify, a mismatch fails with corrupt, naming the first
// offset that differs.
Status run_sequential(Engine& engine, const SequentialOptions& options, PassTimes* out);

struct CryptoTimes {
  uint64_t bytes = 0;
  double encrypt_seconds = 0;
  double decrypt_seconds = 0;
  double encrypt_cpu_seconds = 0;  // the process's, user + system, over the same interval
  double decrypt_cpu_seconds = 0;
};

// The session alone: `bytes` encrypted, then decrypted, in place, in runs of
// `block_bytes` with `depth` runs in flight (all the provider's threads busy).
Status run_provider(Session& session, uint64_t bytes, const SequentialOptions& options,
                    CryptoTimes* out);

}  // namespace ublkcrypt

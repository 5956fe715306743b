// What every benchmark sets up before it measures: a random key nobody keeps (in locked
// memory, gone with the run) and an engine over a file as one scratch volume. One place, so the benchmarks measure the same thing the same way.
#pragma once

#include <memory>
#include <string>

#include "backends/provider.h"
#include "base/secure_bytes.h"
#include "base/status.h"
#include "bench/provider_load.h"
#include "engine/engine.h"
#include "engine/storage.h"

namespace ublkcrypt {

// A fresh random key of spec.key_bytes (empty for cipher_null).
Status random_key(const CipherSpec& spec, SecureBytes* out);

// An engine over the whole of `path` (a file, block device or rbd:POOL/IMAGE) for `c`'s cipher, key size and sector size under a
// random key, on a session of `backend` (SessionOptions::backend: "" picks by priority) that
// never fails over: a benchmark measures the provider it names, not whichever one is left.
Status open_scratch_engine(const std::string& path, const CryptoLoadOptions& c,
                           const std::string& backend, const FileStorageOptions& storage,
                           std::unique_ptr<Engine>* out);

// Creates `path` with `size_bytes` allocated, so a pass does not pay for allocating
// blocks. Refuses an existing file unless `overwrite`; leaves nothing behind on failure.
Status create_image(const std::string& path, uint64_t size_bytes, bool overwrite);

}  // namespace ublkcrypt

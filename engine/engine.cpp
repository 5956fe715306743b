#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/engine_impl.h"

namespace ublkcrypt {

// A queue thread runs the cipher of a request this small itself: handing it to a provider
// thread costs a wakeup there and one back (the inbox's eventfd) per batch, several times a
// 4 KiB run's cipher, while larger runs gain from the other cores (engine-bench
// --block-size 4096 measures the difference). A provider whose cipher is slower than that
// (AES without AES instructions) keeps a smaller bound of its own.
constexpr uint32_t kInlineRunBytes = 16 * 1024;

// The geometry a volume needs from its backing; every refusal names the backing.
static Status check_geometry(const EngineConfig& config, const StorageInfo& backing,
                             uint32_t sector_size, EngineConfig* resolved) {
  auto refuse = [&](Errc code, std::string cause) {
    return Status(code, fmt::format("{}: {}", backing.name, cause));
  };
  if (backing.read_only && !config.read_only)
    return refuse(Errc::permission, "backing opened read-only for a writable volume");
  const uint32_t block = backing.direct_io ? backing.logical_block_size : 512;
  if (sector_size < block)
    return refuse(Errc::invalid_argument,
                  fmt::format("{}-byte sectors are smaller than the backing's {}-byte "
                              "logical block",
                              sector_size, block));
  if (config.data_offset % block != 0)
    return refuse(Errc::invalid_argument,
                  fmt::format("data offset {} is not a multiple of the backing's {}-byte "
                              "logical block",
                              config.data_offset, block));
  if (backing.size_bytes < config.data_offset ||
      backing.size_bytes - config.data_offset < sector_size)
    return refuse(Errc::invalid_argument,
                  fmt::format("backing too small ({} bytes) for data offset {} plus one "
                              "{}-byte sector",
                              backing.size_bytes, config.data_offset, sector_size));
  const uint64_t available = backing.size_bytes - config.data_offset;
  *resolved = config;
  if (config.size_bytes == 0) {
    resolved->size_bytes = available - available % sector_size;
  } else if (config.size_bytes % sector_size != 0) {
    return refuse(Errc::invalid_argument,
                  fmt::format("volume size {} is not a multiple of the {}-byte sector",
                              config.size_bytes, sector_size));
  } else if (config.size_bytes > available) {
    return refuse(Errc::invalid_argument,
                  fmt::format("volume size {} beyond the backing ({} bytes after data "
                              "offset {})",
                              config.size_bytes, available, config.data_offset));
  }
  if (config.max_io_bytes == 0)
    resolved->max_io_bytes =
        backing.preferred_max_io_bytes > kDefaultMaxIoBytes &&
                backing.preferred_max_io_bytes % sector_size == 0
            ? std::min(backing.preferred_max_io_bytes, kLargestMaxIoBytes)
            : kDefaultMaxIoBytes;
  else if (config.max_io_bytes % sector_size != 0)
    return refuse(Errc::invalid_argument,
                  fmt::format("maximum I/O {} is not a positive multiple of the {}-byte "
                              "sector",
                              config.max_io_bytes, sector_size));
  return Status::Ok();
}

Status Engine::create(const EngineConfig& config, std::unique_ptr<Storage> storage,
                      std::unique_ptr<Session> session, std::unique_ptr<Engine>* out) {
  auto impl = std::make_unique<Impl>();
  const uint32_t sector_size = session->spec().sector_size;
  if (Status s = check_geometry(config, storage->info(), sector_size, &impl->config); !s.ok())
    return s;
  impl->geometry = VolumeGeometry{storage->info().name, impl->config.size_bytes, sector_size,
                                  impl->config.max_io_bytes, impl->config.read_only,
                                  impl->config.allow_discards};
  impl->storage = std::move(storage);
  impl->session = std::move(session);
  impl->session->set_inline_run_bytes(kInlineRunBytes);
  std::unique_ptr<Engine> engine(new Engine);
  engine->impl_ = std::move(impl);
  *out = std::move(engine);
  return Status::Ok();
}

Engine::~Engine() = default;

uint64_t Engine::size_bytes() const { return impl_->config.size_bytes; }

void Engine::set_allow_discards(bool allow) {
  impl_->config.allow_discards = allow;
  impl_->geometry.allow_discards = allow;
}

// The backing as it is now, and the volume size `size_bytes` resolves to on it.
static Status resolve_resize(const Storage& storage, const EngineConfig& config, uint32_t sector_size,
                             uint64_t size_bytes, uint64_t* backing_bytes, uint64_t* resolved) {
  if (Status s = storage.current_size(backing_bytes); !s.ok()) return s;
  StorageInfo now = storage.info();
  now.size_bytes = *backing_bytes;
  EngineConfig wanted = config;
  wanted.size_bytes = size_bytes;
  EngineConfig checked;
  if (Status s = check_geometry(wanted, now, sector_size, &checked); !s.ok()) return s;
  *resolved = checked.size_bytes;
  return Status::Ok();
}

Status Engine::resized_size(uint64_t size_bytes, uint64_t* resolved) const {
  uint64_t backing_bytes = 0;
  return resolve_resize(*impl_->storage, impl_->config, impl_->geometry.sector_size, size_bytes, &backing_bytes,
                        resolved);
}

Status Engine::resize(uint64_t size_bytes) {
  uint64_t backing_bytes = 0, resolved = 0;
  if (Status s = resolve_resize(*impl_->storage, impl_->config, impl_->geometry.sector_size, size_bytes,
                                &backing_bytes, &resolved);
      !s.ok())
    return s;
  if (Status s = impl_->storage->set_size(backing_bytes); !s.ok()) return s;
  impl_->config.size_bytes = resolved;
  impl_->geometry.size_bytes = resolved;
  return Status::Ok();
}
uint32_t Engine::sector_size() const { return impl_->geometry.sector_size; }
const EngineConfig& Engine::config() const { return impl_->config; }
const StorageInfo& Engine::storage_info() const { return impl_->storage->info(); }
Session& Engine::session() { return *impl_->session; }
uint64_t Engine::storage_bytes() const {
  return impl_->storage_bytes.load(std::memory_order_relaxed);
}

}  // namespace ublkcrypt

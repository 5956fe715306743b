#include "bench/scratch_volume.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>

#include "backends/registry.h"
#include "bench/workload.h"

namespace ublkcrypt {

Status random_key(const CipherSpec& spec, SecureBytes* out) {
  if (Status s = SecureBytes::allocate(spec.key_bytes, out); !s.ok()) return s;
  if (spec.key_bytes > 0 && RAND_bytes(out->data(), int(out->size())) != 1)
    return Status(Errc::unsupported, "bench: no random bytes for a test key");
  return Status::Ok();
}

Status open_scratch_engine(const std::string& path, const CryptoLoadOptions& c,
                           const std::string& backend, const FileStorageOptions& storage_options,
                           std::unique_ptr<Engine>* out) {
  CipherSpec spec;
  if (Status s = CipherSpec::parse(c.cipher, c.key_bits, c.sector_size, &spec); !s.ok()) return s;
  SecureBytes key;
  if (Status s = random_key(spec, &key); !s.ok()) return s;
  std::unique_ptr<Storage> storage;
  if (Status s = open_target_storage(path, storage_options, &storage); !s.ok()) return s;
  const SessionOptions options{.backend = backend, .failover = false};
  std::unique_ptr<Session> session;
  if (Status s = builtin_registry().open_session(spec, key.view(), options, &session); !s.ok())
    return s;
  return Engine::create({}, std::move(storage), std::move(session), out);
}

Status create_image(const std::string& path, uint64_t size_bytes, bool overwrite) {
  if (size_bytes < 4096 || size_bytes % 4096 != 0)
    return Status(Errc::invalid_argument,
                  fmt::format("image {}: size {} must be a positive multiple of 4096 bytes",
                              path, size_bytes));
  const int flags = O_CREAT | O_WRONLY | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    Status s = errno_status("create image " + path, errno);
    if (errno == EEXIST) s = Status(Errc::busy, s.message() + " (remove it or use --force)");
    return s;
  }
  int err = ::posix_fallocate(fd, 0, off_t(size_bytes));
  ::close(fd);
  if (err != 0) {
    ::unlink(path.c_str());
    return errno_status(fmt::format("allocate {} bytes for image {}", size_bytes, path), err);
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

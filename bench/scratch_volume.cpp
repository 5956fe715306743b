#include "bench/scratch_volume.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>

#include "backends/registry.h"

namespace ublkcrypt {

Status random_key(const CipherSpec& spec, SecureBytes* out) {
  if (Status s = SecureBytes::allocate(spec.key_bytes, out); !s.ok()) return s;
  if (spec.key_bytes > 0 && RAND_bytes(out->data(), int(out->size())) != 1)
    return Status(Errc::unsupported, "bench: no random bytes for a test key");
  return Status::Ok();
}

Status open_provider_session(Provider& provider, const CipherSpec& spec,
                             std::string_view variant, std::unique_ptr<ProviderSession>* out) {
  SecureBytes key;
  if (Status s = random_key(spec, &key); !s.ok()) return s;
  return provider.open_session(spec, key.view(), variant, out);
}

Status open_scratch_engine(const std::string& path, const CipherSpec& spec,
                           const std::string& backend, const FileStorageOptions& storage_options,
                           std::unique_ptr<Engine>* out) {
  SecureBytes key;
  if (Status s = random_key(spec, &key); !s.ok()) return s;
  std::unique_ptr<Storage> storage;
  if (Status s = open_file_storage(path, storage_options, &storage); !s.ok()) return s;
  SessionOptions options;
  options.backend = backend;
  options.failover = false;
  std::unique_ptr<Session> session;
  if (Status s = builtin_registry().open_session(spec, key.view(), options, &session); !s.ok())
    return s;
  return Engine::create({}, std::move(storage), std::move(session), out);
}

}  // namespace ublkcrypt

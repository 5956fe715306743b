// A cipher cascade (CipherSpec::cascade: TrueCrypt's "serpent-twofish-aes") served as one
// provider session: one session per cipher, on the same provider, run one after another.
//
// cryptsetup maps a cascade as stacked dm-crypt devices, the first cipher on top: a write is
// encrypted by the first cipher, then the second, and so on down to the disk; a read is
// decrypted in the opposite order. A CascadeSession runs the same stages in the same order.
//
// The failover contract (provider.h) holds for the whole run: the first stage reads the
// run's src and writes its dst, and every later stage transforms dst in place, which each
// stage's provider may do because the cascade, not the failover Session, is its consumer.
// src is never written, so a run that fails at any stage fails whole, and the Session
// retries it from src on the next provider; what it left in dst is undefined, as for any
// provider.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "backends/provider.h"

namespace ublkcrypt {

// Provider::supports for one cipher; for a cascade, ok if the provider runs every stage,
// else its reason for the first it cannot run.
Status provider_supports(const Provider& provider, const CipherSpec& spec, std::string_view variant);

// Provider::open_session for one cipher; for a cascade, a session per stage with that
// stage's share of `key`, run as one. Call provider_supports first.
Status open_on_provider(Provider& provider, const CipherSpec& spec, std::span<const uint8_t> key,
                        std::string_view variant, std::unique_ptr<ProviderSession>* out);

}  // namespace ublkcrypt

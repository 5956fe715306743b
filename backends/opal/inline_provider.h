// The "opal" provider: placement inline-device. A self-encrypting drive encrypts data as it
// passes through its controller, so the host has nothing to do but hand the plaintext on.
// The provider serves only the null cipher (what a `format --hw-opal-only` volume's
// LUKS2 segment says) and counts every byte it passes as payload encrypted inline: the
// bench sees crypto that crossed the bus once, with no host copy when src == dst.
// Priority below every host provider, so it serves a session only when named ("opal").
#pragma once

#include <memory>

#include "backends/provider.h"

namespace ublkcrypt {

std::unique_ptr<Provider> make_opal_inline_provider();

}  // namespace ublkcrypt

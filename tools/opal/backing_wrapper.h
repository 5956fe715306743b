// BackingWrapper: a Storage wrapper that only the test build installs (fixtures/test_build:
// the write-back cache whose flushes do not wait for it, behind UBLKCRYPT_TEST_EARLY_FLUSH),
// so a VM scenario can run the real server over a backing whose flush ordering is broken
// and show that the crash-consistency check catches it. open_backing_storage() passes every
// file or block device backing through wrap_backing(); the shipped `ublkcrypt` installs
// none and gets its backing back untouched.
#pragma once

#include <memory>

#include "engine/storage.h"

namespace ublkcrypt {

// Returns the backing to serve: `backing` itself, or a wrapper that owns it.
using WrapBacking = std::unique_ptr<Storage> (*)(std::unique_ptr<Storage> backing);

// Installs the wrapper; called once, at static initialisation, by the test build.
struct BackingWrapperRegistration {
  explicit BackingWrapperRegistration(WrapBacking wrap);
};

std::unique_ptr<Storage> wrap_backing(std::unique_ptr<Storage> backing);

}  // namespace ublkcrypt

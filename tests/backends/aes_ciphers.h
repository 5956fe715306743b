// The AES ciphers and key sizes the VAES kernels serve, for the tests that go through all of
// them (known answers, differential tests, the fuzz target, the stack check).
#pragma once

#include <cstdint>

namespace ublkcrypt::test {

struct AesCipher {
  const char* name;
  uint32_t key_bits;
};
inline constexpr AesCipher kAesCiphers[] = {
    {"aes-xts-plain64", 256},      {"aes-xts-plain64", 512},      {"aes-cbc-essiv:sha256", 128},
    {"aes-cbc-essiv:sha256", 192}, {"aes-cbc-essiv:sha256", 256}};

}  // namespace ublkcrypt::test

// AesRoundKeys: an AES key schedule laid out for the VAES kernels, and its expansion.
//
// The expansion is FIPS-197's (section 5.2, KeyExpansion) word by word, with SubWord done
// by AESKEYGENASSIST: no S-box table is read, so no address depends on the key. The
// decryption schedule is the equivalent inverse cipher's (section 5.3.5), which is what
// AESDEC expects: the encryption round keys in reverse order, the inner ones through
// InvMixColumns (AESIMC).
//
// Each 16-byte round key is stored four times over 64 bytes, so one aligned load puts it
// in every 128-bit lane of a ymm or zmm register. Callers keep these structures in locked
// memory (SecureBytes) and wipe them with it.
#pragma once

#include <cstdint>
#include <span>

namespace ublkcrypt {

struct alignas(64) AesRoundKeys {
  static constexpr int kMaxRounds = 14;
  uint8_t round[kMaxRounds + 1][64];  // round[r]: round key r in each 16-byte lane
  int rounds = 0;                     // 10, 12 or 14 for 16-, 24- or 32-byte keys
};

// Expands `key` (16, 24 or 32 bytes) into `encrypt`, and into `decrypt` when it is not null.
// Needs AES-NI (AesImplementation's vaes checks include it). Words are built in place in
// the destination: no stack array or heap copy of the schedule is made.
void expand_aes_key(std::span<const uint8_t> key, AesRoundKeys* encrypt, AesRoundKeys* decrypt);

}  // namespace ublkcrypt

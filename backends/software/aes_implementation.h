// AesImplementation: which code runs AES in the software provider.
//
// OpenSSL EVP is the reference and the fallback everywhere. On CPUs with VAES and
// VPCLMULQDQ the tree's own kernels (vaes_kernels.h) run AES-XTS and AES-CBC-ESSIV on
// 256-bit or 512-bit registers, which Debian 12's OpenSSL 3.0 does not: its XTS uses
// 128-bit AES-NI, its CBC encryption one block at a time.
//
// The choice is made per SectorCipher when it is keyed. UBLKCRYPT_AES_IMPL (openssl,
// vaes-avx2, vaes-avx512 or auto) overrides the default for the whole process; it is read
// once, and a value this CPU cannot run is reported on stderr and replaced by the default.
#pragma once

#include <string_view>

#include "base/status.h"

namespace ublkcrypt {

enum class AesImplementation {
  openssl,      // OpenSSL EVP (AES-NI where the CPU has it)
  vaes_avx2,    // VAES + VPCLMULQDQ on ymm: 2 blocks per register
  vaes_avx512,  // VAES + VPCLMULQDQ + AVX-512 on zmm: 4 blocks per register
};

// "openssl", "vaes-avx2", "vaes-avx512": the names UBLKCRYPT_AES_IMPL and the benchmark use.
const char* aes_implementation_name(AesImplementation impl);

// Parses one of the names above; invalid_argument naming the value otherwise.
Status parse_aes_implementation(std::string_view name, AesImplementation* out);

// Whether this CPU, with this kernel's register state enabled (XCR0), runs `impl`.
bool cpu_runs(AesImplementation impl);

// The fastest implementation this CPU runs.
AesImplementation fastest_aes_implementation();

// UBLKCRYPT_AES_IMPL if it names one this CPU runs, else fastest_aes_implementation().
// Read once per process; safe from any thread.
AesImplementation default_aes_implementation();

}  // namespace ublkcrypt

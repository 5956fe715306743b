// SectorCipher: one thread's keyed cipher for a CipherSpec, turning runs of sectors into
// dm-crypt's output.
//
// Two implementations give the same bytes (aes_implementation.h): the tree's VAES kernels
// (vaes_kernels.h), where the CPU has VAES, and OpenSSL EVP, the reference and fallback.
// Either way the key schedule is expanded once, when the SectorCipher is made, and kept
// only in locked memory (SecureBytes, or OpenSSL's own cleansed contexts); each sector then
// only sets its IV. Re-keying per sector costs more than encrypting a 4 KiB sector, so it is
// done never on the datapath.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backends/cipher_spec.h"
#include "backends/provider.h"
#include "backends/software/aes_implementation.h"
#include "base/status.h"

namespace ublkcrypt {

// Sectors [skip, skip + count) of a run: what a worker is handed of one request.
struct SectorSlice {
  const SectorRun* run = nullptr;
  uint32_t skip = 0;
  uint32_t count = 0;
};

class SectorCipher {
 public:
  ~SectorCipher();
  SectorCipher(const SectorCipher&) = delete;
  SectorCipher& operator=(const SectorCipher&) = delete;

  // Expands `key` for `spec` (which must have passed CipherSpec::parse) with `impl`, or
  // with default_aes_implementation(). The key is not kept, only its schedule. A key the
  // reference refuses (OpenSSL's XTS refuses equal halves) is refused whatever `impl` is,
  // with OpenSSL's message; an `impl` this CPU cannot run is unsupported.
  static Status make(const CipherSpec& spec, std::span<const uint8_t> key,
                     std::unique_ptr<SectorCipher>* out);
  static Status make(const CipherSpec& spec, std::span<const uint8_t> key,
                     AesImplementation impl, std::unique_ptr<SectorCipher>* out);

  // Runs every slice and sets results[i] to slice i's outcome (the VAES kernels cannot
  // fail; OpenSSL reports per sector). Sectors of different slices may run interleaved:
  // CBC encryption is serial inside a sector, so independent sectors side by side are what
  // keeps the AES units busy, and with 4 KiB requests of 4 KiB sectors they come from
  // different requests. Slices must not overlap each other. Not thread-safe: one
  // SectorCipher per thread.
  void crypt(std::span<const SectorSlice> slices, Status* results);

  // The code that runs this cipher's AES.
  AesImplementation implementation() const { return impl_; }

  // OpenSSL only: whether sectors set their IV by writing the context's IV buffer (fast)
  // rather than through EVP_CipherInit_ex2; chosen in make() only where both were seen to
  // agree.
  bool sets_iv_in_place() const;

 private:
  struct Contexts;
  struct VaesState;
  SectorCipher(const CipherSpec& spec, AesImplementation impl);

  Status key_openssl(std::span<const uint8_t> key);
  Status key_vaes(std::span<const uint8_t> key);
  Status crypt_openssl(const SectorRun& run, uint32_t skip, uint32_t count);
  void crypt_vaes(std::span<const SectorSlice> slices);

  CipherSpec spec_;
  AesImplementation impl_;
  std::unique_ptr<Contexts> contexts_;  // OpenSSL
  std::unique_ptr<VaesState> vaes_;     // VAES
};

}  // namespace ublkcrypt

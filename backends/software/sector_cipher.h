// SectorCipher: one thread's keyed OpenSSL contexts for a CipherSpec, turning a run of
// sectors into dm-crypt's output.
//
// The key schedule is expanded once, when the SectorCipher is made; each sector then only
// sets its IV on the ready context, in place where that is proven equal (see the .cpp). Re-keying per sector (EVP_CipherInit with the key)
// costs more than encrypting a 4 KiB sector with AES-NI, so it is done never on the
// datapath.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backends/cipher_spec.h"
#include "backends/provider.h"
#include "base/status.h"

namespace ublkcrypt {

class SectorCipher {
 public:
  ~SectorCipher();
  SectorCipher(const SectorCipher&) = delete;
  SectorCipher& operator=(const SectorCipher&) = delete;

  // Expands `key` for `spec` (which must have passed CipherSpec::parse). The key is not
  // kept: OpenSSL holds only its schedule, freed with cleansing on destruction.
  static Status make(const CipherSpec& spec, std::span<const uint8_t> key,
                     std::unique_ptr<SectorCipher>* out);

  // Runs `count` sectors of `run` starting `skip` sectors into it. Not thread-safe: one
  // SectorCipher per thread.
  Status crypt(const SectorRun& run, uint32_t skip, uint32_t count);

  // Whether sectors set their IV by writing the context's IV buffer (fast) rather than
  // through EVP_CipherInit_ex2; chosen in make() only where both were seen to agree.
  bool sets_iv_in_place() const;

 private:
  struct Contexts;
  explicit SectorCipher(const CipherSpec& spec);

  CipherSpec spec_;
  std::unique_ptr<Contexts> contexts_;
};

}  // namespace ublkcrypt

// CipherSpec: what a session encrypts with, in dm-crypt/LUKS2 terms.
//
// IVs follow dm-crypt exactly. The IV of a data unit is its byte offset in the decrypted
// device divided by 512, plus iv_offset — also for 4096-byte sectors, because LUKS2 and
// dm-crypt do not set iv_large_sectors. So sector n of a 4096-byte-sector volume has IV
// n*8 + iv_offset, not n.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backends/dm_cipher_name.h"
#include "base/status.h"

namespace ublkcrypt {

enum class CipherMode {
  aes_xts_plain64,       // IV = little-endian 64-bit sector number (the XTS tweak)
  aes_cbc_essiv_sha256,  // IV = AES-ECB_{SHA256(key)}(le64 sector number)
  null,                  // no encryption: datapath measurements only (LUKS2 cipher_null)
  generic,               // any other dm-crypt cipher (dm below): the kernel crypto API runs it
};

struct CipherSpec {
  CipherMode mode = CipherMode::aes_xts_plain64;
  uint32_t key_bytes = 64;     // xts: 32 or 64; cbc-essiv: 16, 24 or 32; null: 0
  uint32_t sector_size = 512;  // bytes per data unit: 512, 1024, 2048 or 4096
  uint64_t iv_offset = 0;      // added to every IV, in 512-byte units (LUKS2 "iv_tweak")
  DmCipherName dm;             // the parsed cipher string, for every mode but null and cascades
  // A TrueCrypt/VeraCrypt cipher cascade: its ciphers in the order they encrypt, each keyed
  // by its own equal share of the key, in that order (as libcryptsetup hands the volume key
  // out). Empty for one cipher. Use stage(i): the IV offset and sector size are this spec's.
  std::vector<CipherSpec> cascade;

  // Builds a spec from a dm-crypt cipher string ("aes-xts-plain64", "serpent-cbc-essiv:sha256",
  // "capi:lrw(aes)-benbi", "cipher_null-ecb" / "null"; see dm_cipher_name.h), a key size in
  // bits and a sector size, refusing what dm-crypt would refuse with a one-line reason. The
  // two AES modes the software provider runs itself get their own CipherMode.
  static Status parse(std::string_view cipher, uint32_t key_bits, uint32_t sector_size,
                      CipherSpec* out);

  // A cascade as libcryptsetup names a TrueCrypt one: its ciphers, then the chain and IV
  // mode they share ("serpent-twofish-aes" + "-xts-plain64"). Not dm-crypt's grammar (no
  // dm-crypt table takes it), so only volumes that store cascades (TCRYPT) are parsed here.
  static Status parse_cascade(std::string_view cipher, uint32_t key_bits, uint32_t sector_size,
                              CipherSpec* out);
  // Whether `cipher` names a cascade: two or more cipher names before the chain mode.
  static bool is_cascade_name(std::string_view cipher);

  // Stage `i` of a cascade as a spec of its own, with this spec's sector size and IV offset.
  CipherSpec stage(size_t i) const;

  // The canonical cipher string: "aes-xts-plain64", "cipher_null-ecb", dm.text(), or a
  // cascade's "twofish-aes-xts-plain64".
  std::string name() const;

  // Whether the IV mode reads or changes whole 512-byte sectors of data, not only their
  // numbers: lmk and tcw (backends/kernel/sector_whitening.h).
  bool whitens_sectors() const {
    return mode == CipherMode::generic && (dm.iv == IvMode::lmk || dm.iv == IvMode::tcw);
  }

  // Bytes at the end of the volume key that key the IV generator, not the cipher (dm-crypt's
  // key_extra_size): tcw's IV seed and whitening; 0 for every other mode.
  uint32_t extra_key_bytes() const;

  // The 64-bit IV (before mode-specific processing) of data unit `sector`, counted in
  // sector_size units from the start of the decrypted device.
  uint64_t iv_of(uint64_t sector) const { return sector * (sector_size / 512) + iv_offset; }
};

}  // namespace ublkcrypt

// DmCipherName: a cipher string as dm-crypt parses it.
//
//   CIPHER-CHAINMODE[-IVMODE[:IVOPTS]]   "serpent-xts-plain64", "aes-cbc-essiv:sha256",
//                                        "twofish-ecb", "aes-lrw-benbi"
//   capi:ALGORITHM[-IVMODE[:IVOPTS]]     "capi:xts(aes)-plain64", "capi:cbc(aes)-essiv:sha256"
//
// The kernel crypto API transform is CHAINMODE(CIPHER) ("xts(serpent)"), or ALGORITHM as
// given after "capi:". A chain mode without an IV mode gets "plain", as dm-crypt picks;
// ecb takes none. dm-crypt's IV generators, all computed per data unit from its IV number
// (the 512-byte-unit sector plus the volume's IV offset):
//   plain      le32 of the IV number's low 32 bits, zeros after
//   plain64    le64 of the IV number, zeros after
//   plain64be  zeros, then be64 of the IV number in the last 8 bytes
//   essiv:HASH plain64 encrypted by the block cipher keyed with HASH(key) (the kernel's
//              essiv template)
//   benbi      zeros, then be64 of (IV number << (9 - log2(block size))) + 1 at the end
//   null       zeros
//   eboiv      the block cipher, keyed with the volume key, over le64(IV number * sector
//              size) (BitLocker)
//   lmk        loop-AES: the raw MD5 state after the sector's plaintext blocks 1-31 and
//              the IV number; 512-byte sectors (sector_whitening.h)
//   tcw        TrueCrypt's old CBC mode: a seed XOR the IV number, and the ciphertext
//              whitened with 8 bytes derived from the IV number; 512-byte sectors; the
//              seed and the whitening key are the last bytes of the volume key
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ublkcrypt {

enum class IvMode { none, plain, plain64, plain64be, essiv, benbi, null, eboiv, lmk, tcw };

struct DmCipherName {
  std::string cipher;     // block cipher: "aes", "serpent"; empty for capi: names
  std::string chain;      // "xts", "cbc", "lrw", "ecb"; empty for capi: names
  std::string algorithm;  // kernel crypto API name of the data transform: "xts(serpent)"
  IvMode iv = IvMode::none;
  std::string iv_option;  // essiv's hash ("sha256"); empty otherwise
  bool capi = false;

  // Parses `text`, refusing with one line what dm-crypt refuses (keycount forms such as
  // "aes:64-cbc-lmk" are not parsed).
  static Status parse(std::string_view text, DmCipherName* out);

  // The canonical string: what cryptsetup shows and what parse() reads back.
  std::string text() const;

  // Bytes per block of the innermost cipher of `algorithm` ("xts(serpent)" -> serpent): 8
  // for the kernel's 64-bit-block ciphers, else 16. It is also the IV's size.
  size_t block_bytes() const;

  // The IV mode's name as in the cipher string: "plain64", "essiv"; "" for none.
  static std::string_view iv_name(IvMode mode);
};

}  // namespace ublkcrypt

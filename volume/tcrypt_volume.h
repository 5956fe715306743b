// A TrueCrypt or VeraCrypt volume, as `cryptsetup open --type tcrypt` opens it: libcryptsetup
// finds and decrypts the header with the passphrase (and keyfiles), and hands over the volume
// key, cipher, data offset and IV offset; nothing is activated:
//
//   TcryptParams params;
//   params.veracrypt = true;             // --veracrypt
//   UnlockedVolume volume;
//   Status s = unlock_tcrypt_volume("/dev/sdb", params, passphrase.view(), &volume);
//
// libcryptsetup decrypts the header through the kernel's crypto API (AF_ALG skcipher), as
// cryptsetup does: a kernel without algif_skcipher cannot open these volumes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {

// cryptsetup's tcrypt options, same names.
struct TcryptParams {
  std::vector<std::string> keyfiles;  // --key-file: TrueCrypt keyfiles, mixed into the passphrase
  bool veracrypt = false;             // --veracrypt: also try VeraCrypt's header and KDFs
  uint32_t veracrypt_pim = 0;         // --veracrypt-pim (0 = the default iterations)
  bool hidden = false;                // --tcrypt-hidden: the hidden volume's header
  bool system = false;                // --tcrypt-system: the system encryption header
};

// Decrypts the header of `device` with `passphrase` and `params.keyfiles` and fills `out`
// with what dm-crypt would be given: the volume key, the cipher or cipher cascade
// (spec.iv_offset included),
// the data offset and the volume's size from the header (the hidden volume's with
// params.hidden). Failures, one line each:
//   permission   no header decrypts with this passphrase and these keyfiles
//   unsupported  a legacy mode dm-crypt cannot activate either, or a cipher no provider
//                serves
//   not_found    device or a keyfile missing
// On failure `out->key` is empty and no copy of the key or passphrase remains here.
Status unlock_tcrypt_volume(const std::string& device, const TcryptParams& params,
                            std::span<const uint8_t> passphrase, UnlockedVolume* out);

}  // namespace ublkcrypt

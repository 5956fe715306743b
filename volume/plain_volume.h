// A plain dm-crypt volume: no header, so everything about it comes from the command line,
// as `cryptsetup open --type plain` takes it. libcryptsetup describes the volume
// (crypt_format with CRYPT_PLAIN, never written anywhere) and turns the passphrase into
// the volume key with the plain hash, exactly as it does for dm-crypt:
//
//   PlainParams params;                  // cryptsetup's plain defaults
//   params.offset = 2048;                // --offset
//   UnlockedVolume volume;
//   Status s = unlock_plain_volume("/dev/sdb", params, passphrase.view(), &volume);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {

// The defaults are cryptsetup's compiled-in plain defaults on Debian 12 (`cryptsetup
// --help`: "plain: aes-cbc-essiv:sha256, Key: 256 bits, Password hashing: ripemd160").
struct PlainParams {
  std::string cipher = "aes-cbc-essiv:sha256";  // --cipher, dm-crypt's spelling
  uint32_t key_bits = 256;                      // --key-size
  // --hash: how the passphrase becomes the key. "" (or "plain") takes the passphrase's
  // first key-size bytes as the key, zero-padded when shorter (libcryptsetup's rule).
  std::string hash = "ripemd160";
  uint32_t sector_size = 512;  // --sector-size
  uint64_t offset = 0;         // --offset: where the data starts, 512-byte sectors
  uint64_t skip = 0;           // --skip: added to every IV (dm-crypt's iv_offset), 512-byte sectors
  uint64_t size = 0;           // --size: 512-byte sectors; 0 = to the end of the device
};

// A cipher spec split as dm-crypt and libcryptsetup split it: "aes-cbc-essiv:sha256" is
// cipher "aes", mode "cbc-essiv:sha256"; a bare cipher name gets mode "cbc-plain"
// ("cipher_null" gets "ecb"). Empty parts when `spec` is not of that form.
struct CipherAndMode {
  std::string cipher;
  std::string mode;
  std::string spec() const { return cipher + "-" + mode; }
};
CipherAndMode split_cipher_spec(std::string_view spec);

// The cipher `params` describe (spec, key size, sector size), or why none is served here:
// unsupported naming the spec in dm-crypt's spelling ("--cipher aes" is aes-cbc-plain), or
// invalid_argument for a key or sector size the cipher does not take. Touches no device:
// checked before a passphrase is asked for.
Status plain_cipher_spec(const PlainParams& params, CipherSpec* out);

// Describes `device` as a plain volume with `params` and derives its key from `passphrase`
// (for a key file that holds the raw key: the key itself, with params.hash ""). Never
// activates dm-crypt. Failures, one line each:
//   unsupported       a cipher no provider here serves, named in dm-crypt's spelling
//   invalid_argument  a key size the cipher does not take, a hash libcryptsetup does not
//                     know, a sector size the device is not a multiple of
//   not_found         device missing
// Whether offset and size fit the device is checked where the backing is opened (the
// engine's geometry check), as dm-crypt checks it at activation.
// A cipher_null volume unlocks with an empty key whatever the passphrase: whether to serve
// it is the caller's decision (`open --allow-null-cipher`).
Status unlock_plain_volume(const std::string& device, const PlainParams& params,
                           std::span<const uint8_t> passphrase, UnlockedVolume* out);

}  // namespace ublkcrypt

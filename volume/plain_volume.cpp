#include "volume/plain_volume.h"

#include <libcryptsetup.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <memory>

#include "volume/crypt_log.h"

namespace ublkcrypt {

CipherAndMode split_cipher_spec(std::string_view spec) {
  const size_t dash = spec.find('-');
  if (spec.empty() || dash == 0 || (dash != std::string_view::npos && dash + 1 == spec.size())) return {};
  if (dash == std::string_view::npos)
    return {std::string(spec), spec == "cipher_null" ? "ecb" : "cbc-plain"};
  return {std::string(spec.substr(0, dash)), std::string(spec.substr(dash + 1))};
}

Status plain_cipher_spec(const PlainParams& params, CipherSpec* out) {
  const CipherAndMode cipher = split_cipher_spec(params.cipher);
  if (cipher.cipher.empty())
    return {Errc::invalid_argument,
            fmt::format("cipher {}: not a cipher specification (cipher-chainmode-ivmode)", params.cipher)};
  return CipherSpec::parse(cipher.spec(), params.key_bits, params.sector_size, out);
}

Status unlock_plain_volume(const std::string& device, const PlainParams& params,
                           std::span<const uint8_t> passphrase, UnlockedVolume* out) {
  // Refused before the device is touched: a spec no provider serves cannot be opened.
  UnlockedVolume volume;
  Status s = plain_cipher_spec(params, &volume.spec);
  if (!s.ok()) return s;
  const CipherAndMode cipher = split_cipher_spec(params.cipher);

  CryptLog log;
  crypt_device* raw = nullptr;
  s = crypt_open_device(device, &log, &raw);
  if (!s.ok()) return s;
  // crypt_free wipes whatever key libcryptsetup derived in its own memory.
  std::unique_ptr<crypt_device, void (*)(crypt_device*)> cd(raw, crypt_free);

  const bool hashed = !params.hash.empty() && params.hash != "plain";
  crypt_params_plain plain{};
  plain.hash = hashed ? params.hash.c_str() : nullptr;
  plain.offset = params.offset;
  plain.skip = params.skip;
  plain.size = params.size;
  plain.sector_size = params.sector_size;
  int r = crypt_format(cd.get(), CRYPT_PLAIN, cipher.cipher.c_str(), cipher.mode.c_str(), nullptr, nullptr,
                       volume.spec.key_bytes, &plain);
  if (r < 0) return crypt_failure(fmt::format("plain volume {}", device), r, log);

  // What dm-crypt would be given, as libcryptsetup holds it.
  volume.spec.iv_offset = crypt_get_iv_offset(cd.get());
  volume.data_offset_bytes = crypt_get_data_offset(cd.get()) * 512;
  volume.size_bytes = params.size * 512;  // 0: the engine takes the rest of the backing

  if (volume.spec.key_bytes > 0) {
    s = SecureBytes::allocate(volume.spec.key_bytes, &volume.key);  // zeroed: the padding
    if (!s.ok()) return s;
    if (hashed) {
      // libcryptsetup refuses a null passphrase even when it is empty.
      static const char kEmpty[] = "";
      const char* text = passphrase.empty() ? kEmpty : reinterpret_cast<const char*>(passphrase.data());
      size_t key_size = volume.key.size();
      r = crypt_volume_key_get(cd.get(), CRYPT_ANY_SLOT, reinterpret_cast<char*>(volume.key.data()), &key_size,
                               text, passphrase.size());
      // The only way this fails with a valid spec is the hash (libcryptsetup's own message
      // is the generic "Cannot retrieve volume key").
      if (r < 0)
        return {Errc::invalid_argument,
                fmt::format("hash {}: libcryptsetup cannot hash a passphrase with it", params.hash)};
    } else if (!passphrase.empty()) {
      std::memcpy(volume.key.data(), passphrase.data(), std::min<size_t>(passphrase.size(), volume.key.size()));
    }
  }
  *out = std::move(volume);
  return Status::Ok();
}

}  // namespace ublkcrypt

#include "tools/serve/key_handoff.h"

#include <cstdio>
#include <cstring>

#include "base/kernel_keyring.h"

namespace ublkcrypt {
namespace {

constexpr uint32_t kMagic = 0x31484b55;  // "UKH1"

// Host byte order: the blob never leaves this machine, nor outlives its boot.
struct Header {
  uint32_t magic;
  uint32_t key_bits;
  uint32_t sector_size;
  uint32_t cipher_bytes;
  uint64_t iv_offset;
  uint64_t data_offset;
  uint64_t size_bytes;
  uint32_t key_bytes;
  uint32_t reserved;
};

}  // namespace

std::string handoff_key_description(const std::string& name) { return "ublkcrypt:" + name; }

Status encode_handoff(const UnlockedVolume& v, SecureBytes* out) {
  const std::string cipher = v.spec.name();
  Header h{};
  h.magic = kMagic;
  h.key_bits = v.spec.key_bytes * 8;
  h.sector_size = v.spec.sector_size;
  h.cipher_bytes = static_cast<uint32_t>(cipher.size());
  h.iv_offset = v.spec.iv_offset;
  h.data_offset = v.data_offset_bytes;
  h.size_bytes = v.size_bytes;
  h.key_bytes = static_cast<uint32_t>(v.key.size());
  if (h.key_bytes != v.spec.key_bytes)
    return {Errc::invalid_argument, "volume key handoff: key of " + std::to_string(h.key_bytes) +
                                        " bytes for a " + std::to_string(h.key_bits) + "-bit cipher"};
  Status s = SecureBytes::allocate(sizeof(h) + cipher.size() + v.key.size(), out);
  if (!s.ok()) return s;
  uint8_t* p = out->data();
  std::memcpy(p, &h, sizeof(h));
  std::memcpy(p + sizeof(h), cipher.data(), cipher.size());
  if (!v.key.empty()) std::memcpy(p + sizeof(h) + cipher.size(), v.key.data(), v.key.size());
  return Status::Ok();
}

Status decode_handoff(std::span<const uint8_t> bytes, UnlockedVolume* out) {
  const Status bad{Errc::corrupt, "volume key handoff: malformed"};
  Header h;
  if (bytes.size() < sizeof(h)) return bad;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (h.magic != kMagic || h.cipher_bytes > 64 ||
      bytes.size() != sizeof(h) + h.cipher_bytes + static_cast<size_t>(h.key_bytes))
    return bad;
  const std::string cipher(reinterpret_cast<const char*>(bytes.data() + sizeof(h)), h.cipher_bytes);
  UnlockedVolume v;
  const auto parse = CipherSpec::is_cascade_name(cipher) ? CipherSpec::parse_cascade : CipherSpec::parse;
  Status s = parse(cipher, h.key_bits, h.sector_size, &v.spec);
  if (!s.ok()) return s.in("volume key handoff");
  if (v.spec.key_bytes != h.key_bytes) return bad;
  v.spec.iv_offset = h.iv_offset;
  v.data_offset_bytes = h.data_offset;
  v.size_bytes = h.size_bytes;
  if (h.key_bytes > 0) {
    s = SecureBytes::copy_of(bytes.subspan(sizeof(h) + h.cipher_bytes), &v.key);
    if (!s.ok()) return s;
  }
  *out = std::move(v);
  return Status::Ok();
}

Status park_volume_key(const std::string& name, const UnlockedVolume& volume) {
  SecureBytes blob;
  Status s = encode_handoff(volume, &blob);
  if (!s.ok()) return s;
  return keyring_store(handoff_key_description(name), blob);
}

Status fetch_parked_volume_key(const std::string& name, UnlockedVolume* out) {
  SecureBytes blob;
  Status s = keyring_load(handoff_key_description(name), &blob);
  if (s.code() == Errc::not_found)
    return {Errc::not_found, "volume " + name + ": no key left for recovery in the kernel keyring (key " +
                                 handoff_key_description(name) + ")"};
  if (!s.ok()) return s;
  return decode_handoff(blob.view(), out);
}

void discard_parked_volume_key(const std::string& name) {
  Status s = keyring_discard(handoff_key_description(name));
  if (!s.ok()) std::fprintf(stderr, "ublkcrypt: %s: %s\n", name.c_str(), s.message().c_str());
}

}  // namespace ublkcrypt

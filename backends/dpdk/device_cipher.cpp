#include "backends/dpdk/device_cipher.h"

#include <rte_cryptodev.h>
#include <rte_mbuf.h>

#include <fmt/format.h>

namespace ublkcrypt {
namespace {

const char* algorithm_name(rte_crypto_cipher_algorithm algorithm) {
  switch (algorithm) {
    case RTE_CRYPTO_CIPHER_AES_XTS:
      return "AES-XTS";
    case RTE_CRYPTO_CIPHER_AES_CBC:
      return "AES-CBC";
    case RTE_CRYPTO_CIPHER_NULL:
      return "NULL";
    default:
      return "?";
  }
}

}  // namespace

uint32_t largest_operation_bytes(std::string_view driver) {
  // crypto_virtio from DPDK 22.11.9 and 25.07 ("crypto/virtio: add request check on request
  // side") refuses in its enqueue path any operation whose data ends past
  // RTE_MBUF_DEFAULT_BUF_SIZE, and keeps an op cookie for each refusal: a queue pair fed
  // bigger sectors never completes one and, after 1024 refusals, takes nothing at all.
  if (driver == "crypto_virtio") return RTE_MBUF_DEFAULT_BUF_SIZE;
  return 0;
}

uint16_t operation_iv_offset() {
  return static_cast<uint16_t>(sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op));
}

Status device_cipher_for(const CipherSpec& spec, uint8_t id, std::string_view who,
                         DeviceCipher* out) {
  DeviceCipher cipher;
  rte_crypto_cipher_algorithm algorithm;
  switch (spec.mode) {
    case CipherMode::aes_xts_plain64:
      algorithm = RTE_CRYPTO_CIPHER_AES_XTS;
      cipher.iv_bytes = 16;
      break;
    case CipherMode::aes_cbc_essiv_sha256:
      algorithm = RTE_CRYPTO_CIPHER_AES_CBC;
      cipher.iv_bytes = 16;
      cipher.essiv = true;
      break;
    case CipherMode::null:
      algorithm = RTE_CRYPTO_CIPHER_NULL;
      break;
    default:
      return Status(Errc::unsupported, fmt::format("{}: {} has no DPDK form here (aes-xts-plain64, "
                                                   "aes-cbc-essiv:sha256 and cipher_null-ecb have)",
                                                   who, spec.name()));
  }
  cipher.algorithm = algorithm;
  cipher.key_bytes = static_cast<uint16_t>(spec.key_bytes);
  rte_cryptodev_sym_capability_idx index{};
  index.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
  index.algo.cipher = algorithm;
  const rte_cryptodev_symmetric_capability* capability =
      rte_cryptodev_sym_capability_get(id, &index);
  if (capability == nullptr)
    return Status(Errc::unsupported, fmt::format("{}: the device does not offer {} (no {})", who,
                                                 spec.name(), algorithm_name(algorithm)));
  if (rte_cryptodev_sym_capability_check_cipher(capability, cipher.key_bytes, cipher.iv_bytes) != 0)
    return Status(Errc::unsupported,
                  fmt::format("{}: the device does not offer {} with a {}-bit key ({} takes "
                              "keys of {} to {} bytes)",
                              who, spec.name(), spec.key_bytes * 8, algorithm_name(algorithm),
                              capability->cipher.key_size.min, capability->cipher.key_size.max));
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(id, &info);
  const uint32_t largest =
      largest_operation_bytes(info.driver_name != nullptr ? info.driver_name : "");
  if (largest != 0 && spec.sector_size > largest)
    return Status(Errc::unsupported,
                  fmt::format("{}: the device does not offer {} for {}-byte sectors (its driver, "
                              "{}, takes operations of {} bytes at most)",
                              who, spec.name(), spec.sector_size, info.driver_name, largest));
  *out = cipher;
  return Status::Ok();
}

}  // namespace ublkcrypt

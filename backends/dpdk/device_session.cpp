#include "backends/dpdk/device_session.h"

#include <rte_cryptodev.h>
#include <rte_errno.h>

#include <fmt/format.h>

#include "base/secure_bytes.h"

namespace ublkcrypt {
namespace {

Status create(CryptoDevice* device, rte_crypto_sym_xform* xform, const CipherSpec& spec,
              void** out) {
  *out = rte_cryptodev_sym_session_create(device->id(), xform, device->session_pool());
  if (*out != nullptr) return Status::Ok();
  // Unprefixed, as every open_session error: the Session names the provider and device.
  return Status(Errc::io_error, fmt::format("the device refused a session for {}: {}",
                                            spec.name(), rte_strerror(rte_errno)));
}

}  // namespace

Status DeviceSession::open(CryptoDevice* device, const CipherSpec& spec, const DeviceCipher& cipher,
                           std::span<const uint8_t> key, ProviderCounters* counters,
                           std::shared_ptr<DeviceSession>* out) {
  std::shared_ptr<DeviceSession> session(new DeviceSession(device, spec, cipher, counters));
  SecureBytes copy;
  if (Status s = SecureBytes::copy_of(key, &copy); !s.ok()) return s;
  for (unsigned qp = 0; qp < device->queue_pairs(); ++qp) {
    // The device runs the bare cipher: ESSIV, where the spec has it, is ours to compute.
    SectorIv iv = SectorIv::plain64();
    if (Status s = SectorIv::for_spec(spec, cipher.essiv, copy.view(), &iv); !s.ok()) return s;
    session->ivs_.push_back(std::move(iv));
  }
  rte_crypto_sym_xform xform{};
  xform.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
  xform.cipher.algo = static_cast<rte_crypto_cipher_algorithm>(cipher.algorithm);
  xform.cipher.key.data = copy.empty() ? nullptr : copy.data();
  xform.cipher.key.length = cipher.key_bytes;
  xform.cipher.iv.offset = operation_iv_offset();
  xform.cipher.iv.length = cipher.iv_bytes;
  xform.cipher.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT;
  Status s = create(device, &xform, spec, &session->encrypt_);
  xform.cipher.op = RTE_CRYPTO_CIPHER_OP_DECRYPT;
  if (s.ok()) s = create(device, &xform, spec, &session->decrypt_);
  copy.reset();  // the device has its own copy now
  if (!s.ok()) return s;
  *out = std::move(session);
  return Status::Ok();
}

DeviceSession::~DeviceSession() {
  // Freeing clears the keys from the device's session memory.
  if (encrypt_ != nullptr) rte_cryptodev_sym_session_free(device_->id(), encrypt_);
  if (decrypt_ != nullptr) rte_cryptodev_sym_session_free(device_->id(), decrypt_);
}

void DeviceSession::compute_ivs(unsigned queue_pair, std::span<const uint64_t> iv_numbers,
                                std::span<uint8_t> ivs) {
  if (cipher_.iv_bytes != 0) (void)ivs_[queue_pair].compute(iv_numbers, ivs);
}

}  // namespace ublkcrypt

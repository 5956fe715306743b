// DeviceSession: one cipher spec and key on one DPDK crypto device: the device's symmetric
// sessions (one per direction) and ublkcrypt's IV generators, one per queue pair (a
// generator is not thread-safe, and each queue pair's lock already serialises its users).
//
// The key goes to the device only: the session takes a copy into locked memory for the
// device's session setup and wipes it as soon as the device has it. The device keeps the
// keys in its session memory until the DeviceSession is destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backends/cipher_spec.h"
#include "backends/dpdk/crypto_device.h"
#include "backends/dpdk/device_cipher.h"
#include "backends/kernel/sector_iv.h"
#include "backends/provider.h"

namespace ublkcrypt {

class DeviceSession {
 public:
  static Status open(CryptoDevice* device, const CipherSpec& spec, const DeviceCipher& cipher,
                     std::span<const uint8_t> key, ProviderCounters* counters,
                     std::shared_ptr<DeviceSession>* out);
  ~DeviceSession();
  DeviceSession(const DeviceSession&) = delete;
  DeviceSession& operator=(const DeviceSession&) = delete;

  const CipherSpec& spec() const { return spec_; }
  const DeviceCipher& cipher() const { return cipher_; }
  ProviderCounters& counters() const { return *counters_; }
  void* device_session(Direction direction) const {
    return direction == Direction::encrypt ? encrypt_ : decrypt_;
  }

  // Writes one IV block (cipher().iv_bytes) per IV number (CipherSpec::iv_of) into `ivs`.
  // Only under queue pair `queue_pair`'s lock. Cannot fail: plain64 and ESSIV are
  // computed in memory (only eboiv, which no device cipher uses, has a transform to fail).
  void compute_ivs(unsigned queue_pair, std::span<const uint64_t> iv_numbers,
                   std::span<uint8_t> ivs);

 private:
  DeviceSession(CryptoDevice* device, const CipherSpec& spec, const DeviceCipher& cipher,
                ProviderCounters* counters)
      : device_(device), spec_(spec), cipher_(cipher), counters_(counters) {}

  CryptoDevice* device_;
  CipherSpec spec_;
  DeviceCipher cipher_;
  ProviderCounters* counters_;
  void* encrypt_ = nullptr;
  void* decrypt_ = nullptr;
  std::vector<SectorIv> ivs_;  // one per queue pair
};

}  // namespace ublkcrypt

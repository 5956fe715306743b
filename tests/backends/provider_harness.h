// Helpers for the provider tests: hex, byte patterns, and running one sector run on a
// provider session synchronously (a ProviderCallback that waits).
#pragma once

#include <openssl/evp.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "backends/provider.h"

namespace ublkcrypt::test {

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

inline std::string to_hex(const uint8_t* data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

inline std::string sha256_hex(const std::vector<uint8_t>& data) {
  uint8_t digest[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

// Byte i = (i*mul + add) mod 256: the patterns known_answers.sh uses.
inline std::vector<uint8_t> pattern(size_t size, unsigned mul, unsigned add) {
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>((i * mul + add) % 256);
  return out;
}

// Waits for a number of completions, from a provider or through a Session, keeping the
// first error.
class Waiter final : public ProviderCallback, public CryptoCompletion {
 public:
  void provider_done(CryptoRequest*, Status status) override { record(std::move(status)); }
  void crypto_done(CryptoRequest*, Status status) override { record(std::move(status)); }

  Status wait_for(size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return done_ >= n; });
    return first_error_;
  }

  size_t done() {
    std::lock_guard lock(mutex_);
    return done_;
  }

 private:
  void record(Status status) {
    std::lock_guard lock(mutex_);
    if (!status.ok() && first_error_.ok()) first_error_ = status;
    ++done_;
    cv_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  size_t done_ = 0;
  Status first_error_;
};

inline Status run_once(ProviderSession& session, const SectorRun& run) {
  Waiter waiter;
  CryptoRequest request;
  request.run = run;
  CryptoRequest* one[] = {&request};
  session.submit(one, &waiter);
  return waiter.wait_for(1);
}

inline std::unique_ptr<ProviderSession> open(Provider& provider, const CipherSpec& spec,
                                             const std::vector<uint8_t>& key) {
  std::unique_ptr<ProviderSession> session;
  Status s = provider.open_session(spec, key, "", &session);
  if (!s.ok()) throw std::runtime_error(s.message());
  return session;
}

// Encrypts (or decrypts) `data` as sectors starting at `first_sector`, out of place.
inline std::vector<uint8_t> crypt(Provider& provider, const CipherSpec& spec,
                                  const std::vector<uint8_t>& key, Direction direction,
                                  const std::vector<uint8_t>& data, uint64_t first_sector) {
  auto session = open(provider, spec, key);
  std::vector<uint8_t> out(data.size());
  SectorRun run{direction, data.data(), out.data(), first_sector,
                static_cast<uint32_t>(data.size() / spec.sector_size)};
  Status s = run_once(*session, run);
  if (!s.ok()) throw std::runtime_error(s.message());
  return out;
}

inline CipherSpec spec_of(std::string_view cipher, uint32_t key_bits, uint32_t sector_size,
                          uint64_t iv_offset = 0) {
  CipherSpec spec;
  Status s = CipherSpec::parse(cipher, key_bits, sector_size, &spec);
  if (!s.ok()) throw std::runtime_error(s.message());
  spec.iv_offset = iv_offset;
  return spec;
}

}  // namespace ublkcrypt::test

#include "volume/opal_segment.h"

#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <cerrno>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "volume/crypt_log.h"
#include "volume/pbkdf.h"

namespace ublkcrypt {
namespace {

constexpr char kPasswordLabel[] = "ublkcrypt opal range password v1";

nlohmann::json to_json(const OpalSegment& s) {
  return {{"type", kOpalTokenType}, {"keyslots", nlohmann::json::array()},
          {"mode", s.mode},        {"drive", s.drive},
          {"range", s.range},      {"user", s.user},
          {"start", std::to_string(s.start)},  // LUKS2 stores 64-bit numbers as strings
          {"length", std::to_string(s.length)},
          {"block_size", s.block_size}};
}

Status from_json(const std::string& device, const char* text, OpalSegment* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const char* what) {
    return Status(Errc::corrupt, fmt::format("device {}: token {}: {}", device, kOpalTokenType, what));
  };
  if (!j.is_object()) return bad("not a JSON object");
  try {
    OpalSegment s;
    s.mode = j.at("mode").get<std::string>();
    s.drive = j.at("drive").get<std::string>();
    s.range = j.at("range").get<uint32_t>();
    s.user = j.at("user").get<uint32_t>();
    s.start = std::stoull(j.at("start").get<std::string>());
    s.length = std::stoull(j.at("length").get<std::string>());
    s.block_size = j.at("block_size").get<uint32_t>();
    if (s.mode != "hw-opal-only" && s.mode != "hw-opal") return bad(("unknown mode " + s.mode).c_str());
    if (s.range == 0 || s.user == 0 || s.length == 0 || s.block_size == 0) return bad("range, user or length is 0");
    *out = std::move(s);
    return Status::Ok();
  } catch (const std::exception&) {
    return bad("missing or mistyped field");
  }
}

// A crypt_device with its log routed to `log`; freed with the handle.
struct Handle {
  crypt_device* cd = nullptr;
  CryptLog log;
  ~Handle() {
    if (cd) crypt_free(cd);
  }
  Status init(const std::string& device) {
    struct stat st;
    if (stat(device.c_str(), &st) != 0) return errno_status(fmt::format("device {}", device), errno);
    log.attach(nullptr);
    int r = crypt_init(&cd, device.c_str());
    if (r < 0) return crypt_failure(fmt::format("device {}", device), r, thread_crypt_log());
    log.attach(cd);
    return Status::Ok();
  }
};

}  // namespace

Status format_opal_header(const std::string& device, const FormatOptions& options, const OpalSegment& segment,
                          const SecureBytes& volume_key, Passphrase passphrase) {
  if (options.type != "luks2") return Status(Errc::invalid_argument, "--hw-opal needs a LUKS2 header (--type luks2)");
  if (Status s = check_pbkdf(options.pbkdf, CRYPT_LUKS2); !s.ok()) return s;
  const std::string cipher = segment.hw_only() ? "cipher_null-ecb" : options.cipher;
  CipherSpec spec;
  if (Status s = CipherSpec::parse(cipher, uint32_t(volume_key.size() * 8), options.sector_size ? options.sector_size : 512, &spec);
      !s.ok()) {
    return s;
  }
  const uint64_t offset_bytes = segment.start * segment.block_size;
  if (offset_bytes % 512 != 0 || offset_bytes < (16u << 20)) {
    return Status(Errc::invalid_argument, fmt::format("format {}: the Opal range starts at byte {}: the LUKS2 "
                                                      "header needs the first 16 MiB", device, offset_bytes));
  }
  Handle h;
  if (Status s = h.init(device); !s.ok()) return s;
  // The data segment starts exactly at the locking range, so the header stays in the
  // global range, readable while the volume's range is locked.
  int r = crypt_set_data_offset(h.cd, offset_bytes / 512);
  crypt_pbkdf_type pbkdf = to_crypt_pbkdf(options.pbkdf, CRYPT_LUKS2);
  crypt_params_luks2 params{};
  params.pbkdf = &pbkdf;
  params.sector_size = options.sector_size ? options.sector_size : 512;
  params.label = options.label.empty() ? nullptr : options.label.c_str();
  const size_t dash = cipher.find('-');
  const std::string name = cipher.substr(0, dash), mode = cipher.substr(dash + 1);
  if (r >= 0) {
    r = crypt_format(h.cd, CRYPT_LUKS2, name.c_str(), mode.c_str(), nullptr,
                     reinterpret_cast<const char*>(volume_key.data()), volume_key.size(), &params);
  }
  if (r < 0) return crypt_failure(fmt::format("format {}", device), r, h.log);
  r = crypt_keyslot_add_by_volume_key(h.cd, options.keyslot.value_or(CRYPT_ANY_SLOT),
                                      reinterpret_cast<const char*>(volume_key.data()), volume_key.size(),
                                      reinterpret_cast<const char*>(passphrase.data()), passphrase.size());
  if (r < 0) return crypt_failure(fmt::format("format {}: add key slot", device), r, h.log);
  const std::string token = to_json(segment).dump();
  r = crypt_token_json_set(h.cd, CRYPT_ANY_TOKEN, token.c_str());
  if (r < 0) return crypt_failure(fmt::format("format {}: write token {}", device, kOpalTokenType), r, h.log);
  return Status::Ok();
}

Status read_opal_segment(const std::string& device, OpalSegment* out) {
  Handle h;
  if (Status s = h.init(device); !s.ok()) return s;
  int r = crypt_load(h.cd, CRYPT_LUKS2, nullptr);
  if (r == -EINVAL) return Status(Errc::corrupt, fmt::format("device {}: not a LUKS2 device", device));
  if (r < 0) return crypt_failure(fmt::format("load LUKS header of {}", device), r, h.log);
  for (int token = 0; token < 32; ++token) {
    const char* type = nullptr;
    crypt_token_info info = crypt_token_status(h.cd, token, &type);
    if (info == CRYPT_TOKEN_INVALID) break;
    if (info == CRYPT_TOKEN_INACTIVE || type == nullptr || std::string(type) != kOpalTokenType) continue;
    const char* json = nullptr;
    r = crypt_token_json_get(h.cd, token, &json);
    if (r < 0) return crypt_failure(fmt::format("device {}: read token {}", device, token), r, h.log);
    return from_json(device, json, out);
  }
  return Status(Errc::not_found, fmt::format("device {}: no {} token (not a --hw-opal volume)", device, kOpalTokenType));
}

Status derive_range_password(const SecureBytes& volume_key, SecureBytes* out) {
  if (volume_key.empty()) return Status(Errc::invalid_argument, "opal: empty volume key");
  if (Status s = SecureBytes::allocate(32, out); !s.ok()) return s;
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), volume_key.data(), int(volume_key.size()), reinterpret_cast<const uint8_t*>(kPasswordLabel),
           sizeof kPasswordLabel - 1, out->data(), &n) == nullptr ||
      n != 32) {
    out->reset();
    return Status(Errc::io_error, "opal: HMAC-SHA256 failed");
  }
  return Status::Ok();
}

}  // namespace ublkcrypt

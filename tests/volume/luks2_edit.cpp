#include "tests/volume/luks2_edit.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace ublkcrypt::test {
namespace {

// LUKS2 on-disk format: a 4096-byte binary header, then the JSON area, hdr_size bytes in
// all; the second copy at offset hdr_size. Big-endian fields.
constexpr size_t kHdrSizeAt = 8, kChecksumAt = 448, kBinaryHeader = 4096;

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

struct Fd {
  int fd;
  explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {
    if (fd < 0) throw std::runtime_error("open " + path);
  }
  ~Fd() { ::close(fd); }
  void read(void* buf, size_t n, uint64_t at) const {
    if (::pread(fd, buf, n, off_t(at)) != ssize_t(n)) throw std::runtime_error("short read");
  }
  void write(const void* buf, size_t n, uint64_t at) const {
    if (::pwrite(fd, buf, n, off_t(at)) != ssize_t(n)) throw std::runtime_error("short write");
  }
};

std::vector<uint8_t> base64(const std::string& text) {
  std::vector<uint8_t> out(text.size());
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const uint8_t*>(text.data()), int(text.size()));
  if (n < 0) throw std::runtime_error("base64 " + text);
  n -= int(std::count(text.end() - std::min<size_t>(2, text.size()), text.end(), '='));
  out.resize(size_t(n));
  return out;
}

}  // namespace

void edit_luks2_metadata(const std::string& image, const std::function<void(nlohmann::json&)>& edit) {
  Fd f(image);
  uint8_t first[kBinaryHeader];
  f.read(first, sizeof first, 0);
  const uint64_t hdr_size = be64(first + kHdrSizeAt);
  for (uint64_t at : {uint64_t{0}, hdr_size}) {
    std::vector<uint8_t> blob(hdr_size);
    f.read(blob.data(), blob.size(), at);
    const char* json = reinterpret_cast<const char*>(blob.data() + kBinaryHeader);
    nlohmann::json meta = nlohmann::json::parse(std::string(json, strnlen(json, hdr_size - kBinaryHeader)));
    edit(meta);
    const std::string text = meta.dump();
    if (text.size() >= hdr_size - kBinaryHeader) throw std::runtime_error("metadata too large");
    std::fill(blob.begin() + kBinaryHeader, blob.end(), 0);
    std::memcpy(blob.data() + kBinaryHeader, text.data(), text.size());
    std::fill(blob.begin() + kChecksumAt, blob.begin() + kChecksumAt + 64, 0);
    unsigned int n = 0;
    EVP_Digest(blob.data(), blob.size(), blob.data() + kChecksumAt, &n, EVP_sha256(), nullptr);
    f.write(blob.data(), blob.size(), at);
  }
}

void store_keyslot_in_clear(const std::string& image, int slot, const std::string& passphrase) {
  nlohmann::json keyslot;
  edit_luks2_metadata(image, [&](nlohmann::json& meta) { keyslot = meta["keyslots"][std::to_string(slot)]; });
  const auto& kdf = keyslot["kdf"];
  const auto& area = keyslot["area"];
  if (kdf["type"] != "pbkdf2" || area["encryption"] != "aes-xts-plain64") {
    throw std::runtime_error("store_keyslot_in_clear: a pbkdf2 keyslot with an aes-xts-plain64 area only");
  }
  const std::vector<uint8_t> salt = base64(kdf["salt"].get<std::string>());
  std::vector<uint8_t> key(area["key_size"].get<size_t>());
  const EVP_MD* hash = EVP_get_digestbyname(kdf["hash"].get<std::string>().c_str());
  if (PKCS5_PBKDF2_HMAC(passphrase.data(), int(passphrase.size()), salt.data(), int(salt.size()),
                        kdf["iterations"].get<int>(), hash, int(key.size()), key.data()) != 1) {
    throw std::runtime_error("pbkdf2");
  }
  const uint64_t offset = std::stoull(area["offset"].get<std::string>());
  const uint64_t size = std::stoull(area["size"].get<std::string>());
  Fd f(image);
  std::vector<uint8_t> sector(512), plain(512);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher = key.size() == 64 ? EVP_aes_256_xts() : EVP_aes_128_xts();
  for (uint64_t n = 0; n * 512 < size; ++n) {
    uint8_t iv[16] = {};
    for (int i = 0; i < 8; ++i) iv[i] = uint8_t(n >> (8 * i));  // plain64 from the area's start
    f.read(sector.data(), 512, offset + n * 512);
    int len = 0;
    if (EVP_DecryptInit_ex(ctx, cipher, nullptr, key.data(), iv) != 1 ||
        EVP_DecryptUpdate(ctx, plain.data(), &len, sector.data(), 512) != 1) {
      throw std::runtime_error("decrypt keyslot area");
    }
    f.write(plain.data(), 512, offset + n * 512);
  }
  EVP_CIPHER_CTX_free(ctx);
  edit_luks2_metadata(image, [&](nlohmann::json& meta) {
    meta["keyslots"][std::to_string(slot)]["area"]["encryption"] = "cipher_null-ecb";
  });
}

}  // namespace ublkcrypt::test

#include "backends/kernel/sector_iv.h"

#include <linux/if_alg.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>

#include "backends/kernel/alg_socket.h"
#include "base/secure_bytes.h"

namespace ublkcrypt {

struct SectorIv::Essiv {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~Essiv() { EVP_CIPHER_CTX_free(ctx); }
};

SectorIv::~SectorIv() {
  if (eboiv_operation_ >= 0) close(eboiv_operation_);
}
SectorIv::SectorIv(SectorIv&& other) noexcept { *this = std::move(other); }
SectorIv& SectorIv::operator=(SectorIv&& other) noexcept {
  if (this == &other) return *this;
  if (eboiv_operation_ >= 0) close(eboiv_operation_);
  mode_ = other.mode_;
  iv_bytes_ = other.iv_bytes_;
  sector_size_ = other.sector_size_;
  essiv_ = std::move(other.essiv_);
  eboiv_operation_ = std::exchange(other.eboiv_operation_, -1);
  return *this;
}

SectorIv SectorIv::plain64() { return SectorIv(); }

Status SectorIv::essiv_sha256(std::span<const uint8_t> key, SectorIv* out) {
  SecureBytes salt;
  if (Status s = SecureBytes::allocate(SHA256_DIGEST_LENGTH, &salt); !s.ok()) return s;
  unsigned salt_len = 0;
  auto essiv = std::make_unique<Essiv>();
  essiv->ctx = EVP_CIPHER_CTX_new();
  // dm-crypt's essiv keys the IV cipher (the volume's cipher, AES) with the whole digest:
  // 32 bytes, so AES-256 whatever the volume's key size.
  if (essiv->ctx == nullptr ||
      EVP_Digest(key.data(), key.size(), salt.data(), &salt_len, EVP_sha256(), nullptr) != 1 ||
      EVP_EncryptInit_ex(essiv->ctx, EVP_aes_256_ecb(), nullptr, salt.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(essiv->ctx, 0) != 1)
    return Status(Errc::no_memory, "ESSIV salt cipher: OpenSSL could not set up AES-256-ECB");
  SectorIv iv;
  iv.mode_ = IvMode::essiv;
  iv.essiv_ = std::move(essiv);
  *out = std::move(iv);
  return Status::Ok();
}

Status SectorIv::for_spec(const CipherSpec& spec, bool userspace_essiv,
                          std::span<const uint8_t> key, SectorIv* out) {
  if (userspace_essiv) return essiv_sha256(key, out);
  SectorIv iv;
  iv.sector_size_ = spec.sector_size;
  if (spec.mode != CipherMode::generic) {
    *out = std::move(iv);  // xts(aes), essiv(cbc(aes),sha256): plain64 input
    return Status::Ok();
  }
  const DmCipherName& dm = spec.dm;
  // The kernel's essiv template takes the plain64 block and does the rest.
  iv.mode_ = dm.iv == IvMode::essiv ? IvMode::plain64 : dm.iv;
  iv.iv_bytes_ = dm.iv == IvMode::none ? 0 : dm.block_bytes();
  if (dm.iv == IvMode::eboiv) {
    // cbc(X) with a zero block and IV b is X(b): the IV is X_key(le64(offset)), one ECB
    // call per batch on a transform of the volume's own cipher and key.
    const std::string ecb =
        "ecb(" + dm.algorithm.substr(4, dm.algorithm.size() - 5) + ")";
    int transform = -1;
    if (Status s = open_alg_transform(ecb, key, &transform); !s.ok())
      return s.in(fmt::format("eboiv IVs of {}", spec.name()));
    Status s = accept_alg_operation(transform, &iv.eboiv_operation_);
    close(transform);
    if (!s.ok()) return s.in(fmt::format("eboiv IVs of {}", spec.name()));
  }
  *out = std::move(iv);
  return Status::Ok();
}

static void put_le(uint8_t* p, uint64_t v, int bytes) {
  for (int b = 0; b < bytes; ++b) p[b] = static_cast<uint8_t>(v >> (8 * b));
}
static void put_be64(uint8_t* p, uint64_t v) {
  for (int b = 0; b < 8; ++b) p[b] = static_cast<uint8_t>(v >> (8 * (7 - b)));
}

// One ECB encryption of `blocks` in place on an AF_ALG operation socket.
static Status ecb_encrypt(int operation, std::span<uint8_t> blocks) {
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(uint32_t))] = {};
  iovec iov{blocks.data(), blocks.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* op = CMSG_FIRSTHDR(&msg);
  op->cmsg_level = SOL_ALG;
  op->cmsg_type = ALG_SET_OP;
  op->cmsg_len = CMSG_LEN(sizeof(uint32_t));
  const uint32_t encrypt = ALG_OP_ENCRYPT;
  std::memcpy(CMSG_DATA(op), &encrypt, sizeof(encrypt));
  if (sendmsg(operation, &msg, 0) != static_cast<ssize_t>(blocks.size()))
    return errno_status("eboiv: AF_ALG send", errno);
  if (read(operation, blocks.data(), blocks.size()) != static_cast<ssize_t>(blocks.size()))
    return errno_status("eboiv: AF_ALG read", errno);
  return Status::Ok();
}

Status SectorIv::compute(std::span<const uint64_t> iv_numbers, std::span<uint8_t> ivs) {
  const size_t n = iv_bytes_;
  if (n == 0) return Status::Ok();
  std::memset(ivs.data(), 0, iv_numbers.size() * n);
  for (size_t i = 0; i < iv_numbers.size(); ++i) {
    uint8_t* block = ivs.data() + i * n;
    const uint64_t v = iv_numbers[i];
    switch (mode_) {
      case IvMode::plain: put_le(block, v & 0xffffffffu, 4); break;
      case IvMode::plain64:
      case IvMode::essiv: put_le(block, v, 8); break;
      case IvMode::plain64be: put_be64(block + n - 8, v); break;
      case IvMode::benbi: {
        // The IV counts cipher blocks from 1: 512 / block size of them per IV number.
        const int shift = n == 8 ? 6 : 5;
        put_be64(block + n - 8, (v << shift) + 1);
        break;
      }
      case IvMode::eboiv: put_le(block, v * sector_size_, 8); break;
      case IvMode::null:
      case IvMode::none:
      case IvMode::lmk:
      case IvMode::tcw: break;
    }
  }
  if (iv_numbers.empty()) return Status::Ok();
  if (essiv_) {
    // One ECB call for the whole batch: the blocks are independent.
    int len = 0;
    EVP_EncryptUpdate(essiv_->ctx, ivs.data(), &len, ivs.data(),
                      static_cast<int>(iv_numbers.size() * n));
  }
  if (eboiv_operation_ >= 0) return ecb_encrypt(eboiv_operation_, ivs.first(iv_numbers.size() * n));
  return Status::Ok();
}

}  // namespace ublkcrypt

#include "backends/kernel/alg_socket.h"

#include <linux/if_alg.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

namespace ublkcrypt {

static Status no_af_alg() {
  return Status(Errc::unsupported,
                "kernel crypto API (AF_ALG) not available on this kernel: use --backend software");
}

Status probe_af_alg() {
  int fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno == EAFNOSUPPORT ? no_af_alg() : errno_status("socket(AF_ALG)", errno);
  close(fd);
  return Status::Ok();
}

Status open_alg_transform(std::string_view salg_name, std::span<const uint8_t> key, int* fd) {
  sockaddr_alg addr{};
  addr.salg_family = AF_ALG;
  std::memcpy(addr.salg_type, "skcipher", sizeof("skcipher"));
  if (salg_name.size() >= sizeof(addr.salg_name))
    return Status(Errc::invalid_argument,
                  fmt::format("AF_ALG name {}: longer than {} bytes", salg_name,
                              sizeof(addr.salg_name) - 1));
  std::memcpy(addr.salg_name, salg_name.data(), salg_name.size());

  int s = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return errno == EAFNOSUPPORT ? no_af_alg() : errno_status("socket(AF_ALG)", errno);
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(s);
    // ENOENT covers both "no such algorithm" and "no skcipher type" (algif_skcipher
    // missing); the caller has already checked /proc/crypto for the former.
    if (err == ENOENT)
      return Status(Errc::not_found,
                    fmt::format("AF_ALG bind skcipher {}: no such algorithm, or algif_skcipher "
                                "is not loaded", salg_name));
    return errno_status(fmt::format("AF_ALG bind skcipher {}", salg_name), err);
  }
  if (setsockopt(s, SOL_ALG, ALG_SET_KEY, key.data(), static_cast<socklen_t>(key.size())) != 0) {
    int err = errno;
    close(s);
    return errno_status(fmt::format("AF_ALG set {}-byte key on {}", key.size(), salg_name), err);
  }
  *fd = s;
  return Status::Ok();
}

Status accept_alg_operation(int transform, int* fd) {
  int s = accept4(transform, nullptr, nullptr, SOCK_CLOEXEC);
  if (s < 0) return errno_status("AF_ALG accept operation socket", errno);
  *fd = s;
  return Status::Ok();
}

}  // namespace ublkcrypt

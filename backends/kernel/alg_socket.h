// AF_ALG sockets: the user-space door to the kernel crypto API.
//
// A transform socket is bound to one skcipher (by algorithm or driver name) and holds the
// key. Each accept() on it yields an operation socket: a sendmsg carries the direction, the
// IV and the input, a read returns the output. One operation socket runs one request at a
// time (the IV lives in the socket), so parallelism means several operation sockets.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/status.h"

namespace ublkcrypt {

// Ok when this kernel has AF_ALG; otherwise the one-line hint to use software.
Status probe_af_alg();

// Opens a transform socket bound to skcipher `salg_name` and sets `key`. On success *fd is
// the socket; the key is now only in the kernel (the caller wipes its copy).
Status open_alg_transform(std::string_view salg_name, std::span<const uint8_t> key, int* fd);

// One operation socket of `transform`.
Status accept_alg_operation(int transform, int* fd);

}  // namespace ublkcrypt

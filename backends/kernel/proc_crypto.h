// /proc/crypto: what the kernel crypto API offers, and which of it is a card.
//
// The kernel lists every instantiated algorithm as a block of "field : value" lines
// separated by blank lines. Templates (xts(...), essiv(...)) appear only once something has
// instantiated them, so an algorithm missing here may still bind by name; a driver name
// must be here to be chosen.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ublkcrypt {

struct KernelAlgorithm {
  std::string name;    // algorithm: "cbc(aes)"
  std::string driver;  // implementation: "virtio_crypto_aes_cbc", "cbc-aes-aesni"
  std::string module;  // "virtio_crypto", "aesni_intel", "kernel" (built in)
  int priority = 0;    // the kernel binds the highest priority when given a bare name
  std::string type;    // "skcipher", "cipher", "shash" ...
  bool async = false;  // completes through a callback (cards, SIMD wrappers)
  bool internal = false;  // not reachable from AF_ALG

  // True when the driver hands data to a device across a bus (QAT, CCP, virtio-crypto ...)
  // rather than running on the host's cores. /proc/crypto has no such field ("async" is
  // also set by the SIMD wrappers of aesni), so this goes by the known card drivers.
  bool is_card() const;
};

// Parses the text of /proc/crypto. Unknown fields are ignored; a block without name or
// driver is dropped.
std::vector<KernelAlgorithm> parse_proc_crypto(std::string_view text);

// Reads and parses `path` (normally /proc/crypto).
Status read_proc_crypto(const std::string& path, std::vector<KernelAlgorithm>* out);

}  // namespace ublkcrypt

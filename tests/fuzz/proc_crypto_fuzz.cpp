// Fuzz target: the /proc/crypto parser (backends/kernel/proc_crypto.h) and the kernel
// provider's choices made from what it returns. Whatever the text: no crash, every entry
// has a name and a driver, and a binding chosen from the entries is one of them.
#include <cstdlib>
#include <string_view>

#include "backends/cipher_spec.h"
#include "backends/kernel/kernel_binding.h"
#include "backends/kernel/proc_crypto.h"
#include "tests/fuzz/fuzz_seeds.h"
#include "tests/kernel/proc_crypto_fixture.h"

using namespace ublkcrypt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<KernelAlgorithm> algorithms = parse_proc_crypto(text);
  for (const KernelAlgorithm& a : algorithms) {
    if (a.name.empty() || a.driver.empty()) std::abort();
    (void)a.is_card();
  }
  for (const char* cipher : {"aes-xts-plain64", "aes-cbc-essiv:sha256"}) {
    CipherSpec spec;
    if (!CipherSpec::parse(cipher, 256, 512, &spec).ok()) std::abort();
    for (const KernelAlgorithm* a : kernel_candidates(spec, algorithms)) {
      if (a < algorithms.data() || a >= algorithms.data() + algorithms.size()) std::abort();
    }
    for (std::string_view variant : {"", "cbc(aes)", "virtio_crypto_aes_cbc"}) {
      KernelBinding binding;
      (void)resolve_kernel_binding(spec, variant, algorithms, &binding);
    }
  }
  return 0;
}

std::vector<std::vector<uint8_t>> fuzz_seeds() {
  const std::string_view vm(kVmProcCrypto);
  std::vector<std::vector<uint8_t>> seeds;
  seeds.emplace_back(vm.begin(), vm.end());
  // Its first block alone, and blocks run together without the blank line.
  const std::string_view first = vm.substr(0, vm.find("\n\n") + 1);
  seeds.emplace_back(first.begin(), first.end());
  std::string joined(vm);
  for (size_t at; (at = joined.find("\n\n")) != std::string::npos;) joined.erase(at, 1);
  seeds.emplace_back(joined.begin(), joined.end());
  return seeds;
}

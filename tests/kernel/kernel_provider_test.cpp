// The kernel provider on the host that runs the unit tests. Where that kernel has no AF_ALG
// (as on the build hosts), what is tested here is the refusal; AF_ALG behaviour is tested
// in the VM (kernel_provider_vmtest, scenarios card_*.sh).
#include "backends/kernel/kernel_provider.h"

#include <doctest/doctest.h>

#include "backends/kernel/alg_socket.h"
#include "backends/registry.h"

using namespace ublkcrypt;

TEST_CASE("without AF_ALG the kernel provider says so and points at software") {
  if (probe_af_alg().ok()) {
    MESSAGE("this kernel has AF_ALG; the refusal path is not reachable here");
    return;
  }
  auto provider = make_kernel_provider();
  CipherSpec spec;
  REQUIRE(CipherSpec::parse("aes-cbc-essiv:sha256", 256, 512, &spec).ok());
  Status s = provider->supports(spec, "virtio_crypto_aes_cbc");
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message() ==
        "kernel crypto API (AF_ALG) not available on this kernel: use --backend software");
  CHECK(provider->info().placement == Placement::host_cpu);
}

TEST_CASE("the kernel provider is built in, below software") {
  Registry& registry = builtin_registry();
  Provider* kernel = registry.find("kernel");
  Provider* software = registry.find("software");
  REQUIRE(kernel != nullptr);
  REQUIRE(software != nullptr);
  CHECK(kernel->info().priority < software->info().priority);
}

TEST_CASE("options from the environment: deadline and sockets, bad values ignored") {
  setenv("UBLKCRYPT_KERNEL_DEADLINE_MS", "500", 1);
  setenv("UBLKCRYPT_KERNEL_SOCKETS", "zero", 1);
  KernelProviderOptions options = KernelProviderOptions::from_environment();
  CHECK(options.deadline.count() == 500);
  CHECK(options.op_sockets == KernelProviderOptions{}.op_sockets);
  unsetenv("UBLKCRYPT_KERNEL_DEADLINE_MS");
  unsetenv("UBLKCRYPT_KERNEL_SOCKETS");
}

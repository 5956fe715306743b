#include "backends/kernel/proc_crypto.h"

#include <doctest/doctest.h>

#include "tests/kernel/proc_crypto_fixture.h"

using namespace ublkcrypt;

TEST_CASE("/proc/crypto blocks become algorithms with driver, module, priority, flags") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  REQUIRE(algorithms.size() == 7);
  const KernelAlgorithm& card = algorithms[1];
  CHECK(card.name == "cbc(aes)");
  CHECK(card.driver == "virtio_crypto_aes_cbc");
  CHECK(card.module == "virtio_crypto");
  CHECK(card.priority == 150);
  CHECK(card.type == "skcipher");
  CHECK(card.async);
  CHECK_FALSE(card.internal);
  CHECK(algorithms[3].internal);
  CHECK_FALSE(algorithms[5].async);
  CHECK(algorithms[6].type == "cipher");
}

TEST_CASE("a card is recognised by its driver, also under a template; SIMD wrappers are not") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  CHECK(algorithms[0].is_card());  // essiv over virtio_crypto_aes_cbc
  CHECK(algorithms[1].is_card());
  CHECK_FALSE(algorithms[2].is_card());  // async, but aesni on the host's cores
  CHECK_FALSE(algorithms[4].is_card());
  CHECK_FALSE(algorithms[5].is_card());
}

TEST_CASE("missing blank lines and stray lines do not merge or invent algorithms") {
  auto algorithms = parse_proc_crypto(
      "name : a\ndriver : a-generic\nname : b\ndriver : b-generic\ngarbage\n\n\n"
      "name : no-driver\n\n");
  REQUIRE(algorithms.size() == 2);
  CHECK(algorithms[0].driver == "a-generic");
  CHECK(algorithms[1].name == "b");
}

TEST_CASE("an unreadable /proc/crypto is an error naming the path") {
  std::vector<KernelAlgorithm> algorithms;
  Status s = read_proc_crypto("/nonexistent/crypto", &algorithms);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message().find("/nonexistent/crypto") == 0);
}

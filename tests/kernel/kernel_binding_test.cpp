#include "backends/kernel/kernel_binding.h"

#include <doctest/doctest.h>

#include "tests/kernel/proc_crypto_fixture.h"

using namespace ublkcrypt;

namespace {

CipherSpec spec_of(const char* cipher, uint32_t key_bits) {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse(cipher, key_bits, 4096, &spec).ok());
  return spec;
}

}  // namespace

TEST_CASE("a card's bare cbc(aes) driver serves ESSIV with IVs computed by ublkcrypt") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  KernelBinding b;
  REQUIRE(resolve_kernel_binding(spec_of("aes-cbc-essiv:sha256", 256), "virtio_crypto_aes_cbc",
                                 algorithms, &b).ok());
  CHECK(b.salg_name == "virtio_crypto_aes_cbc");
  CHECK(b.userspace_essiv);
  CHECK(b.card);
}

TEST_CASE("an essiv template driver and the bare names leave the ESSIV to the kernel") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  const CipherSpec essiv = spec_of("aes-cbc-essiv:sha256", 256);
  KernelBinding b;
  REQUIRE(resolve_kernel_binding(essiv, "essiv(virtio_crypto_aes_cbc,sha256-avx2)", algorithms,
                                 &b).ok());
  CHECK_FALSE(b.userspace_essiv);
  CHECK(b.card);

  REQUIRE(resolve_kernel_binding(essiv, "", algorithms, &b).ok());
  CHECK(b.salg_name == "essiv(cbc(aes),sha256)");
  CHECK_FALSE(b.userspace_essiv);

  // The bare algorithm name: the kernel picks aesni (400) over the card (150).
  REQUIRE(resolve_kernel_binding(essiv, "cbc(aes)", algorithms, &b).ok());
  CHECK(b.userspace_essiv);
  CHECK(b.driver == "cbc-aes-aesni");
  CHECK_FALSE(b.card);

  REQUIRE(resolve_kernel_binding(spec_of("aes-xts-plain64", 512), "", algorithms, &b).ok());
  CHECK(b.salg_name == "xts(aes)");
  CHECK(b.driver == "xts-aes-vaes-avx512");
}

TEST_CASE("an unknown driver is refused naming it and listing the candidates") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  KernelBinding b;
  Status s = resolve_kernel_binding(spec_of("aes-cbc-essiv:sha256", 256), "foo", algorithms, &b);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() ==
        "kernel:foo: no such driver in /proc/crypto (candidates for cbc(aes) or "
        "essiv(cbc(aes),sha256): cbc-aes-aesni, essiv(virtio_crypto_aes_cbc,sha256-avx2), "
        "virtio_crypto_aes_cbc)");
}

TEST_CASE("a driver for another cipher is refused: the card has no XTS") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  KernelBinding b;
  Status s = resolve_kernel_binding(spec_of("aes-xts-plain64", 512), "virtio_crypto_aes_cbc",
                                    algorithms, &b);
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message() ==
        "kernel:virtio_crypto_aes_cbc: driver implements cbc(aes), not what aes-xts-plain64 "
        "needs (candidates for xts(aes): xts-aes-vaes-avx512, xts(ecb(aes-generic)))");
}

TEST_CASE("internal drivers are not candidates: AF_ALG cannot reach them") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  KernelBinding b;
  CHECK(resolve_kernel_binding(spec_of("aes-xts-plain64", 512), "__xts-aes-vaes-avx512",
                               algorithms, &b).code() == Errc::not_found);
}

TEST_CASE("cipher_null is left to software") {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse("cipher_null-ecb", 0, 512, &spec).ok());
  KernelBinding b;
  Status s = resolve_kernel_binding(spec, "", {}, &b);
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message().find("kernel: cipher cipher_null-ecb") == 0);
}

TEST_CASE("any other dm-crypt cipher binds CHAINMODE(CIPHER), ESSIV through the template") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  KernelBinding b;
  REQUIRE(resolve_kernel_binding(spec_of("serpent-xts-plain64", 512), "", algorithms, &b).ok());
  CHECK(b.salg_name == "xts(serpent)");
  CHECK_FALSE(b.userspace_essiv);
  REQUIRE(resolve_kernel_binding(spec_of("twofish-cbc-essiv:sha512", 256), "", algorithms, &b)
              .ok());
  CHECK(b.salg_name == "essiv(cbc(twofish),sha512)");
  CHECK_FALSE(b.userspace_essiv);
  REQUIRE(resolve_kernel_binding(spec_of("capi:lrw(aes)-benbi", 384), "", algorithms, &b).ok());
  CHECK(b.salg_name == "lrw(aes)");
  // A template over a named driver, as for AES.
  REQUIRE(resolve_kernel_binding(spec_of("aes-cbc-plain", 256), "cbc(aes-generic)", algorithms,
                                 &b).ok());
  CHECK(b.salg_name == "cbc(aes-generic)");
  // The driver of another chain mode is refused, naming what would fit.
  Status s = resolve_kernel_binding(spec_of("aes-cbc-plain", 256), "xts-aes-vaes-avx512",
                                    algorithms, &b);
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message().find("not what aes-cbc-plain needs") != std::string::npos);
}

TEST_CASE("cbc(aes) serving a generic spec keeps that spec's IVs: no ESSIV added") {
  auto algorithms = parse_proc_crypto(kVmProcCrypto);
  KernelBinding b;
  for (const char* variant : {"", "cbc(aes)", "cbc-aes-aesni", "cbc(aes-generic)"}) {
    CAPTURE(variant);
    REQUIRE(resolve_kernel_binding(spec_of("aes-cbc-plain64", 256), variant, algorithms, &b)
                .ok());
    CHECK_FALSE(b.userspace_essiv);
  }
}

#include "backends/software/aes_implementation.h"

#include <cpuid.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>

namespace ublkcrypt {

namespace {

// CPUID and XGETBV by hand: clang's __builtin_cpu_supports knows no "vaes" feature.
struct CpuFeatures {
  bool aesni = false, pclmul = false, avx2 = false, vaes = false, vpclmulqdq = false;
  bool avx512f = false, avx512vl = false, avx512bw = false;
  bool ymm_state = false, zmm_state = false;  // the kernel saves these registers (XCR0)
};

uint64_t xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t{edx} << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.pclmul = (c & bit_PCLMUL) != 0;
  f.aesni = (c & bit_AES) != 0;
  const bool osxsave = (c & bit_OSXSAVE) != 0;
  if (osxsave) {
    const uint64_t xcr = xcr0();
    f.ymm_state = (xcr & 0x6) == 0x6;     // SSE and AVX state
    f.zmm_state = (xcr & 0xe6) == 0xe6;   // and opmask, ZMM0-15 upper halves, ZMM16-31
  }
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = (b & bit_AVX2) != 0;
  f.avx512f = (b & bit_AVX512F) != 0;
  f.avx512bw = (b & bit_AVX512BW) != 0;
  f.avx512vl = (b & bit_AVX512VL) != 0;
  f.vaes = (c & (1u << 9)) != 0;         // CPUID.(EAX=7,ECX=0):ECX[9]
  f.vpclmulqdq = (c & (1u << 10)) != 0;  // CPUID.(EAX=7,ECX=0):ECX[10]
  return f;
}

const CpuFeatures& cpu() {
  static const CpuFeatures features = detect();
  return features;
}

AesImplementation from_environment() {
  const char* text = std::getenv("UBLKCRYPT_AES_IMPL");
  const AesImplementation fastest = fastest_aes_implementation();
  if (text == nullptr || *text == '\0' || std::string_view(text) == "auto") return fastest;
  AesImplementation wanted;
  if (Status s = parse_aes_implementation(text, &wanted); !s.ok()) {
    fmt::print(stderr, "ublkcrypt: UBLKCRYPT_AES_IMPL: {}; using {}\n", s.message(),
               aes_implementation_name(fastest));
    return fastest;
  }
  if (!cpu_runs(wanted)) {
    fmt::print(stderr, "ublkcrypt: UBLKCRYPT_AES_IMPL={}: this CPU cannot run it; using {}\n",
               text, aes_implementation_name(fastest));
    return fastest;
  }
  return wanted;
}

}  // namespace

const char* aes_implementation_name(AesImplementation impl) {
  switch (impl) {
    case AesImplementation::openssl: return "openssl";
    case AesImplementation::vaes_avx2: return "vaes-avx2";
    case AesImplementation::vaes_avx512: return "vaes-avx512";
  }
  return "unknown";
}

Status parse_aes_implementation(std::string_view name, AesImplementation* out) {
  for (AesImplementation impl : {AesImplementation::openssl, AesImplementation::vaes_avx2,
                                 AesImplementation::vaes_avx512}) {
    if (name == aes_implementation_name(impl)) {
      *out = impl;
      return Status::Ok();
    }
  }
  return Status(Errc::invalid_argument,
                fmt::format("AES implementation {}: unknown (openssl, vaes-avx2, vaes-avx512, "
                            "auto)",
                            name));
}

bool cpu_runs(AesImplementation impl) {
  const CpuFeatures& f = cpu();
  // Key expansion uses AES-NI; the tweak arithmetic PCLMULQDQ on the wide registers.
  const bool vaes_avx2 =
      f.aesni && f.pclmul && f.ymm_state && f.avx2 && f.vaes && f.vpclmulqdq;
  switch (impl) {
    case AesImplementation::openssl: return true;
    case AesImplementation::vaes_avx2: return vaes_avx2;
    case AesImplementation::vaes_avx512:
      return vaes_avx2 && f.zmm_state && f.avx512f && f.avx512vl && f.avx512bw;
  }
  return false;
}

AesImplementation fastest_aes_implementation() {
  if (cpu_runs(AesImplementation::vaes_avx512)) return AesImplementation::vaes_avx512;
  if (cpu_runs(AesImplementation::vaes_avx2)) return AesImplementation::vaes_avx2;
  return AesImplementation::openssl;
}

AesImplementation default_aes_implementation() {
  static const AesImplementation chosen = from_environment();
  return chosen;
}

}  // namespace ublkcrypt

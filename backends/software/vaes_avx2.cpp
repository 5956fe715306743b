// The VAES kernels on ymm registers (VEX-encoded VAES, no AVX-512): two AES blocks per
// register. Sixteen registers cannot hold 15 round keys beside the data, so the keys are
// read from the schedule at each round (one load per round, shared by every register),
// 16 blocks are in flight per XTS step (eight registers: twelve ran as fast on many sectors
// per call and slower on one, their spills making the frame the wipe zeroes larger;
// sixteen spill the data), and CBC encryption interleaves 16 sectors in eight registers.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "backends/software/vaes_kernels.h"
#include "backends/software/stack_wipe.h"

#define VAES_TARGET "aes,pclmul,sse4.1,avx,avx2,vaes,vpclmulqdq"
#define VAES_FN __attribute__((target(VAES_TARGET), always_inline)) inline
#define VAES_ENTRY __attribute__((target(VAES_TARGET)))

namespace ublkcrypt::vaes {

namespace avx2 {

struct Lanes {
  using V = __m256i;
  static constexpr size_t kBlocks = 2;
  static constexpr size_t kStepRegs = 4;  // per CBC-decryption step
  static constexpr size_t kXtsRegs = 8;   // per XTS step
  static constexpr bool kZmm = false;  // zmm16-31 to wipe on the way out
  static constexpr bool kKeysInRegisters = false;

  VAES_FN static V load(const void* p) { return _mm256_loadu_si256(static_cast<const V*>(p)); }
  VAES_FN static void store(void* p, V v) { _mm256_storeu_si256(static_cast<V*>(p), v); }
  VAES_FN static V load_key(const uint8_t* p) {
    return _mm256_load_si256(reinterpret_cast<const V*>(p));
  }
  VAES_FN static __m128i load_block(const uint8_t* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  }
  VAES_FN static void store_block(uint8_t* p, __m128i b) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), b);
  }

  VAES_FN static V aesenc(V x, V k) { return _mm256_aesenc_epi128(x, k); }
  VAES_FN static V aesenclast(V x, V k) { return _mm256_aesenclast_epi128(x, k); }
  VAES_FN static V aesdec(V x, V k) { return _mm256_aesdec_epi128(x, k); }
  VAES_FN static V aesdeclast(V x, V k) { return _mm256_aesdeclast_epi128(x, k); }
  VAES_FN static V xor2(V a, V b) { return _mm256_xor_si256(a, b); }
  VAES_FN static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }

  VAES_FN static V block_in_every_lane(const uint8_t* block) {
    return _mm256_broadcastsi128_si256(load_block(block));
  }
  VAES_FN static V iv_lanes(const Sector* lanes) {
    return _mm256_set_epi64x(0, static_cast<long long>(lanes[1].iv), 0,
                             static_cast<long long>(lanes[0].iv));
  }
  VAES_FN static V gather(const uint8_t* p, size_t stride) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(load_block(p)),
                                   load_block(p + stride), 1);
  }
  VAES_FN static void scatter(uint8_t* p, size_t stride, V v) {
    store_block(p, _mm256_castsi256_si128(v));
    store_block(p + stride, _mm256_extracti128_si256(v, 1));
  }
  // [high block of `before`, low block of `v`].
  VAES_FN static V previous_blocks(V v, V before) {
    return _mm256_permute2x128_si256(before, v, 0x21);
  }

  // GF(2^128) as in vaes_avx512.cpp, two lanes at a time.
  VAES_FN static V fold(V bits_out) {
    const V poly = _mm256_broadcastsi128_si256(_mm_set_epi64x(0, 0x87));
    return _mm256_clmulepi64_epi128(bits_out, poly, 0x00);
  }
  template <int k>
  VAES_FN static V times_x(V t) {
    const V high = _mm256_srli_epi64(t, 64 - k);
    return xor3(_mm256_slli_epi64(t, k), _mm256_bslli_epi128(high, 8),
                fold(_mm256_bsrli_epi128(high, 8)));
  }
  template <int n>
  VAES_FN static V times_x_bytes(V t) {
    return xor2(_mm256_bslli_epi128(t, n), fold(_mm256_bsrli_epi128(t, 16 - n)));
  }
  // T, T*x from T in both lanes.
  VAES_FN static V times_lane_index_powers(V t) {
    const V shift = _mm256_set_epi64x(1, 1, 0, 0);
    const V high = _mm256_srlv_epi64(t, _mm256_sub_epi64(_mm256_set1_epi64x(64), shift));
    return xor3(_mm256_sllv_epi64(t, shift), _mm256_bslli_epi128(high, 8),
                fold(_mm256_bsrli_epi128(high, 8)));
  }
};

#include "backends/software/vaes_modes.inc"

}  // namespace avx2

const Kernels& avx2_kernels() { return avx2::kKernels; }

}  // namespace ublkcrypt::vaes

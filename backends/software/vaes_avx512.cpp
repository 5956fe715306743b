// The VAES kernels on zmm registers: four AES blocks per register, 32 registers, so the
// round keys stay in registers and 16 blocks are in flight per round.
// GCC 12's AVX-512 intrinsics start from a deliberately uninitialised "undefined" vector,
// which -Wmaybe-uninitialized reports wherever they are inlined (GCC bug 105593, fixed in
// GCC 13). Only the header's own code is exempted.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cstdint>

#include "backends/software/vaes_kernels.h"
#include "backends/software/stack_wipe.h"

#define VAES_TARGET "aes,pclmul,sse4.1,avx,avx2,vaes,vpclmulqdq,avx512f,avx512vl,avx512bw"
#define VAES_FN __attribute__((target(VAES_TARGET), always_inline)) inline
#define VAES_ENTRY __attribute__((target(VAES_TARGET)))

namespace ublkcrypt::vaes {

namespace avx512 {

struct Lanes {
  using V = __m512i;
  static constexpr size_t kBlocks = 4;
  static constexpr size_t kStepRegs = 4;  // per CBC-decryption step
  static constexpr size_t kXtsRegs = 4;   // per XTS step
  static constexpr bool kZmm = true;  // zmm16-31 to wipe on the way out
  static constexpr bool kKeysInRegisters = true;

  VAES_FN static V load(const void* p) { return _mm512_loadu_si512(p); }
  VAES_FN static void store(void* p, V v) { _mm512_storeu_si512(p, v); }
  VAES_FN static V load_key(const uint8_t* p) { return _mm512_load_si512(p); }

  VAES_FN static V aesenc(V x, V k) { return _mm512_aesenc_epi128(x, k); }
  VAES_FN static V aesenclast(V x, V k) { return _mm512_aesenclast_epi128(x, k); }
  VAES_FN static V aesdec(V x, V k) { return _mm512_aesdec_epi128(x, k); }
  VAES_FN static V aesdeclast(V x, V k) { return _mm512_aesdeclast_epi128(x, k); }
  VAES_FN static V xor2(V a, V b) { return _mm512_xor_si512(a, b); }
  // a ^ b ^ c in one instruction: 0x96 is the truth table of a three-input xor.
  VAES_FN static V xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }

  VAES_FN static __m128i load_block(const uint8_t* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  }
  VAES_FN static void store_block(uint8_t* p, __m128i b) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), b);
  }
  VAES_FN static V block_in_every_lane(const uint8_t* block) {
    return _mm512_broadcast_i32x4(load_block(block));
  }
  // Lane i: le64(lanes[i].iv) || 0^64, plain64's block.
  VAES_FN static V iv_lanes(const Sector* lanes) {
    return _mm512_set_epi64(0, static_cast<long long>(lanes[3].iv), 0,
                            static_cast<long long>(lanes[2].iv), 0,
                            static_cast<long long>(lanes[1].iv), 0,
                            static_cast<long long>(lanes[0].iv));
  }
  // Lane i: the block at p + i * stride.
  VAES_FN static V gather(const uint8_t* p, size_t stride) {
    V v = _mm512_castsi128_si512(load_block(p));
    v = _mm512_inserti32x4(v, load_block(p + stride), 1);
    v = _mm512_inserti32x4(v, load_block(p + 2 * stride), 2);
    return _mm512_inserti32x4(v, load_block(p + 3 * stride), 3);
  }
  VAES_FN static void scatter(uint8_t* p, size_t stride, V v) {
    store_block(p, _mm512_castsi512_si128(v));
    store_block(p + stride, _mm512_extracti32x4_epi32(v, 1));
    store_block(p + 2 * stride, _mm512_extracti32x4_epi32(v, 2));
    store_block(p + 3 * stride, _mm512_extracti32x4_epi32(v, 3));
  }
  // [last block of `before`, blocks 0..2 of `v`]: each block's predecessor in a sector.
  VAES_FN static V previous_blocks(V v, V before) { return _mm512_alignr_epi64(v, before, 6); }

  // GF(2^128) in IEEE 1619's convention, lane by lane. `bits_out` holds, per lane, the
  // bits a shift pushed past bit 127 (in its low qword); x^128 = x^7 + x^2 + x + 1 folds
  // them back in as a carry-less product with 0x87.
  VAES_FN static V fold(V bits_out) {
    const V poly = _mm512_broadcast_i32x4(_mm_set_epi64x(0, 0x87));
    return _mm512_clmulepi64_epi128(bits_out, poly, 0x00);
  }
  // Every lane times x^k, 0 < k < 57.
  template <int k>
  VAES_FN static V times_x(V t) {
    const V high = _mm512_srli_epi64(t, 64 - k);  // bits leaving each qword
    return xor3(_mm512_slli_epi64(t, k), _mm512_bslli_epi128(high, 8),
                fold(_mm512_bsrli_epi128(high, 8)));
  }
  // Every lane times x^(8n): a byte shift.
  template <int n>
  VAES_FN static V times_x_bytes(V t) {
    return xor2(_mm512_bslli_epi128(t, n), fold(_mm512_bsrli_epi128(t, 16 - n)));
  }
  // Lane i times x^i, from the same value in every lane: T, T*x, T*x^2, T*x^3.
  VAES_FN static V times_lane_index_powers(V t) {
    const V shift = _mm512_set_epi64(3, 3, 2, 2, 1, 1, 0, 0);
    // A count of 64 shifts everything out: lane 0 loses no bits.
    const V high = _mm512_srlv_epi64(t, _mm512_sub_epi64(_mm512_set1_epi64(64), shift));
    return xor3(_mm512_sllv_epi64(t, shift), _mm512_bslli_epi128(high, 8),
                fold(_mm512_bsrli_epi128(high, 8)));
  }
};

#include "backends/software/vaes_modes.inc"

}  // namespace avx512

const Kernels& avx512_kernels() { return avx512::kKernels; }

}  // namespace ublkcrypt::vaes

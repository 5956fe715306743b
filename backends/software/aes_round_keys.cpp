#include "backends/software/aes_round_keys.h"

#include <immintrin.h>

#include <cstring>

namespace ublkcrypt {

namespace {

#define UBLKCRYPT_AESNI __attribute__((target("aes,sse4.1")))

// FIPS-197 SubWord: the S-box on each byte of a word, here through AESKEYGENASSIST, whose
// lowest dword is SubWord of its source's second dword.
UBLKCRYPT_AESNI uint32_t sub_word(uint32_t w) {
  const __m128i assist = _mm_aeskeygenassist_si128(_mm_set_epi32(0, 0, static_cast<int>(w), 0), 0);
  return static_cast<uint32_t>(_mm_cvtsi128_si32(assist));
}

// FIPS-197 words are byte strings [a0 a1 a2 a3]; loaded little-endian, a0 is the low byte,
// so RotWord ([a1 a2 a3 a0]) is a right rotation by 8 and Rcon's byte goes in the low byte.
uint32_t rot_word(uint32_t w) { return (w >> 8) | (w << 24); }

// Word i of the schedule lives in the first lane of round key i / 4.
uint8_t* word_at(AesRoundKeys* keys, int i) { return keys->round[i / 4] + 4 * (i % 4); }

UBLKCRYPT_AESNI void spread_lanes(AesRoundKeys* keys) {
  for (int r = 0; r <= keys->rounds; ++r) {
    const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(keys->round[r]));
    for (int lane = 1; lane < 4; ++lane)
      _mm_store_si128(reinterpret_cast<__m128i*>(keys->round[r] + 16 * lane), k);
  }
}

}  // namespace

UBLKCRYPT_AESNI void expand_aes_key(std::span<const uint8_t> key, AesRoundKeys* encrypt,
                                    AesRoundKeys* decrypt) {
  static constexpr uint8_t kRcon[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};
  const int nk = static_cast<int>(key.size() / 4);  // 4, 6 or 8 words
  const int rounds = nk + 6;
  encrypt->rounds = rounds;
  std::memcpy(encrypt->round[0], key.data(), 16);
  std::memcpy(encrypt->round[1], key.data() + 16, key.size() - 16);
  // Words are copied through memcpy (alignment, aliasing); the loop's branches depend on
  // the word index only, never on key bytes.
  for (int i = nk; i < 4 * (rounds + 1); ++i) {
    uint32_t temp, before;
    std::memcpy(&temp, word_at(encrypt, i - 1), 4);
    std::memcpy(&before, word_at(encrypt, i - nk), 4);
    if (i % nk == 0) {
      temp = sub_word(rot_word(temp)) ^ kRcon[i / nk - 1];
    } else if (nk > 6 && i % nk == 4) {
      temp = sub_word(temp);
    }
    const uint32_t word = before ^ temp;
    std::memcpy(word_at(encrypt, i), &word, 4);
  }
  spread_lanes(encrypt);
  if (decrypt == nullptr) return;
  decrypt->rounds = rounds;
  for (int r = 0; r <= rounds; ++r) {
    __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(encrypt->round[rounds - r]));
    if (r != 0 && r != rounds) k = _mm_aesimc_si128(k);
    _mm_store_si128(reinterpret_cast<__m128i*>(decrypt->round[r]), k);
  }
  spread_lanes(decrypt);
}

}  // namespace ublkcrypt

// VAES kernels: AES-XTS (dm-crypt's plain64 tweak) and AES-CBC (ESSIV IVs) over whole
// sectors, on ymm (VAES-AVX2) or zmm (AVX-512) registers.
//
// Why the tree has its own AES code: Debian 12's OpenSSL 3.0 runs XTS on 128-bit AES-NI
// and CBC encryption one block at a time (its libcrypto has no ymm/zmm VAES code at all);
// isa-l_crypto, which has AVX-512 VAES XTS, is not packaged; nettle has no VAES. Debian
// 12's libgcrypt 1.10 does have VAES XTS, on ymm only, and its one-stream API cannot run
// independent CBC chains side by side, which is all CBC encryption can gain from VAES.
// These kernels add zmm XTS and multi-sector CBC. They are written from the algorithms:
// FIPS-197 for the cipher (through the AES instructions) and its key expansion
// (aes_round_keys.h), IEEE 1619-2007 for XTS, dm-crypt's plain64 and essiv for the IVs.
// OpenSSL EVP stays the reference: the tests compare every kernel with it.
//
// XTS (IEEE 1619 section 5.3.1, no ciphertext stealing: sectors are whole blocks). Block j
// of a sector is C = E_K1(P xor T_j) xor T_j with T_0 = E_K2(le64(IV) || 0^64) and
// T_{j+1} = T_j * x in GF(2^128) (the little-endian convention: shift left one bit,
// fold the bit leaving bit 127 back as 0x87). A register of n lanes holds T_j .. T_{j+n-1};
// each step moves every lane on by x^(blocks per step) with a byte shift and one carry-less
// multiply (VPCLMULQDQ) of the bits shifted out by 0x87. The tweak is xored into the first
// round key and into the last one (AESENCLAST/AESDECLAST xor their key last), so neither
// whitening xor sits on the data's path. Sixteen blocks (four zmm or eight ymm registers)
// are in flight at each round.
//
// CBC encryption is a chain inside a sector, but sectors are independent: lane i of a
// register carries sector i's chain, so one VAES instruction advances up to 16 sectors
// (four zmm or eight ymm registers) by one round; the sectors' bytes are staged a cache
// line at a time (see cbc_encrypt_chains). Decryption has no chain to wait for: each
// block's xor with the previous ciphertext block rides in the last round key (AESDECLAST
// xors its key last), and 16 (or 8) blocks of one sector run side by side. ESSIV IVs are
// E_{SHA256(key)}(le64(IV)), computed for all of a call's sectors together.
//
// Constant time: the data path uses only AES instructions, xors, shifts, shuffles and
// carry-less multiplies on the keys, tweaks and data. There are no table lookups, and no
// branch or memory address depends on a key, a tweak or the data: branches and addresses
// follow only the sector count, sector size, sector numbers and buffer addresses, which are
// public. Key expansion uses AESKEYGENASSIST and AESIMC, not an S-box table.
//
// Round keys and the sectors' tweaks and IVs: the key schedules live in SectorKeys, which
// the caller keeps in locked memory; the tweak/IV blocks a call computes, and CBC's
// staged lines, sit in stack arrays. The AVX-512 kernels hold the round keys in registers
// (32 zmm registers are enough); the AVX2 kernels read them from SectorKeys at each use.
// The arrays, and whatever the compiler spills on its own (the AVX2 kernels spill chain
// values, tweaks and round keys; at -O0 everything is on the stack), are wiped together:
// every kernel runs in its own frame, zeroed whole after it returns, and the vector registers
// are zeroed with it (stack_wipe.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/software/aes_round_keys.h"

namespace ublkcrypt::vaes {

// The keys one SectorCipher needs. Kept in locked memory by the caller.
struct SectorKeys {
  AesRoundKeys encrypt;  // the data key (XTS: the first half of dm-crypt's key)
  AesRoundKeys decrypt;  // the same key's equivalent inverse cipher
  AesRoundKeys iv;       // XTS: the second half (encrypts tweaks); ESSIV: SHA-256(key)
};

// One sector: where it is read from and written to, and its 64-bit IV as CipherSpec::iv_of
// gives it (plain64's value; ESSIV encrypts it).
struct Sector {
  const uint8_t* src;
  uint8_t* dst;
  uint64_t iv;
};

// Sectors per call: CBC encryption interleaves up to this many.
constexpr size_t kMaxSectors = 16;

// Transforms `count` sectors (1..kMaxSectors) of `sector_bytes` bytes each, a multiple of
// 256 (every size CipherSpec accepts: 512..4096). Each sector is in place (src == dst) or
// its src and dst do not overlap; different sectors do not overlap.
using SectorKernel = void (*)(const SectorKeys& keys, const Sector* sectors, size_t count,
                              size_t sector_bytes);

struct Kernels {
  SectorKernel xts_encrypt;        // keys.encrypt.rounds: 10 or 14
  SectorKernel xts_decrypt;
  SectorKernel cbc_essiv_encrypt;  // keys.encrypt.rounds: 10, 12 or 14; keys.iv: 14
  SectorKernel cbc_essiv_decrypt;
};

// Only on a CPU that runs them (cpu_runs in aes_implementation.h).
const Kernels& avx512_kernels();
const Kernels& avx2_kernels();

}  // namespace ublkcrypt::vaes

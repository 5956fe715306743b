// Fuzz target: the VAES kernels against OpenSSL, the reference. The input picks the cipher
// and key size, which VAES implementation, the sector size, the sector count, the first
// sector and iv_offset (all 64 bits of IV reachable), the buffers' alignments, in place or
// out of place, the direction, where the run is cut into two slices of one crypt() call,
// and the key; the bytes after the key, repeated, are the data. Any difference from
// OpenSSL's bytes, a src written out of place, a key one refuses and the other takes, or a
// failed round trip aborts.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "backends/cipher_spec.h"
#include "backends/software/aes_implementation.h"
#include "backends/software/sector_cipher.h"
#include "tests/fuzz/fuzz_seeds.h"

using namespace ublkcrypt;

namespace {

struct Cipher {
  const char* name;
  uint32_t key_bits;
};
constexpr Cipher kCiphers[] = {{"aes-xts-plain64", 256},      {"aes-xts-plain64", 512},
                               {"aes-cbc-essiv:sha256", 128}, {"aes-cbc-essiv:sha256", 192},
                               {"aes-cbc-essiv:sha256", 256}};

// The fixed-size head of an input; the key follows it, then the data.
struct Head {
  uint8_t cipher;         // index into kCiphers (mod)
  uint8_t impl;           // which runnable VAES implementation (mod)
  uint8_t sector_shift;   // sector size 512 << (mod 4)
  uint8_t count;          // sectors: 1 + (mod 20), at most 32 KiB
  uint8_t first[8];       // first sector, little-endian
  uint8_t iv_offset[2];
  uint8_t src_align;      // mod 64
  uint8_t dst_align;      // mod 64; bit 7: in place
  uint8_t flags;          // bit 0: decrypt; bit 1: the second slice goes first
  uint8_t cut;            // the first slice's sector count (mod count + 1)
};
constexpr size_t kHeadBytes = sizeof(Head);
static_assert(kHeadBytes == 18);

std::vector<AesImplementation> vaes_implementations() {
  std::vector<AesImplementation> out;
  for (AesImplementation impl : {AesImplementation::vaes_avx2, AesImplementation::vaes_avx512})
    if (cpu_runs(impl)) out.push_back(impl);
  return out;
}

void crypt_or_abort(SectorCipher& cipher, std::span<const SectorSlice> slices) {
  Status results[2];
  cipher.crypt(slices, results);
  for (size_t i = 0; i < slices.size(); ++i)
    if (!results[i].ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<AesImplementation> impls = vaes_implementations();
  if (impls.empty() || size < kHeadBytes) return 0;
  Head head;
  std::memcpy(&head, data, kHeadBytes);
  const Cipher& c = kCiphers[head.cipher % std::size(kCiphers)];
  const AesImplementation impl = impls[head.impl % impls.size()];
  const uint32_t sector_size = 512u << (head.sector_shift % 4);
  const uint32_t count = std::min<uint32_t>(1 + head.count % 20, 32768 / sector_size);
  uint64_t first = 0;
  for (int i = 7; i >= 0; --i) first = first << 8 | head.first[i];
  CipherSpec spec;
  if (!CipherSpec::parse(c.name, c.key_bits, sector_size, &spec).ok()) std::abort();
  spec.iv_offset = head.iv_offset[0] | uint64_t{head.iv_offset[1]} << 8;
  const size_t key_bytes = c.key_bits / 8;
  if (size < kHeadBytes + key_bytes) return 0;
  const std::span<const uint8_t> key(data + kHeadBytes, key_bytes);
  const std::span<const uint8_t> fill(data + kHeadBytes + key_bytes,
                                      size - kHeadBytes - key_bytes);

  std::unique_ptr<SectorCipher> reference, fast;
  const bool reference_keyed =
      SectorCipher::make(spec, key, AesImplementation::openssl, &reference).ok();
  const bool fast_keyed = SectorCipher::make(spec, key, impl, &fast).ok();
  if (reference_keyed != fast_keyed) std::abort();
  if (!reference_keyed) return 0;

  const size_t bytes = size_t{sector_size} * count;
  std::vector<uint8_t> input(bytes);
  for (size_t i = 0; i < bytes; ++i) input[i] = fill.empty() ? uint8_t(i) : fill[i % fill.size()];
  const Direction direction = head.flags & 1 ? Direction::decrypt : Direction::encrypt;

  std::vector<uint8_t> expected(bytes);
  const SectorRun whole{direction, input.data(), expected.data(), first, count};
  const SectorSlice reference_slice{&whole, 0, count};
  crypt_or_abort(*reference, std::span(&reference_slice, 1));

  std::vector<uint8_t> from(bytes + 64), to(bytes + 64);
  uint8_t* src = from.data() + head.src_align % 64;
  const bool in_place = head.dst_align & 0x80;
  uint8_t* dst = in_place ? src : to.data() + head.dst_align % 64;
  std::memcpy(src, input.data(), bytes);
  const SectorRun run{direction, src, dst, first, count};
  const uint32_t cut = head.cut % (count + 1);
  SectorSlice slices[2] = {{&run, 0, cut}, {&run, cut, count - cut}};
  if (head.flags & 2) std::swap(slices[0], slices[1]);
  crypt_or_abort(*fast, slices);
  if (std::memcmp(dst, expected.data(), bytes) != 0) std::abort();
  if (!in_place && std::memcmp(src, input.data(), bytes) != 0) std::abort();

  // And back, in place.
  const SectorRun back{direction == Direction::encrypt ? Direction::decrypt : Direction::encrypt,
                       dst, dst, first, count};
  const SectorSlice all{&back, 0, count};
  crypt_or_abort(*fast, std::span(&all, 1));
  if (std::memcmp(dst, input.data(), bytes) != 0) std::abort();
  return 0;
}

std::vector<std::vector<uint8_t>> fuzz_seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  // Every cipher; sector sizes and counts that reach each CBC lane group and a second batch.
  const uint8_t shapes[][3] = {{0, 0, 0}, {1, 3, 5}, {2, 0, 18}, {3, 1, 3}, {4, 0, 16}, {4, 3, 7}};
  for (size_t i = 0; i < std::size(shapes); ++i) {
    Head head{};
    head.cipher = shapes[i][0];
    head.impl = static_cast<uint8_t>(i);
    head.sector_shift = shapes[i][1];
    head.count = shapes[i][2];
    head.first[0] = static_cast<uint8_t>(7 * i);
    head.first[7] = i % 2 ? 0xff : 0;
    head.iv_offset[0] = static_cast<uint8_t>(i);
    head.src_align = static_cast<uint8_t>(3 * i);
    head.dst_align = static_cast<uint8_t>(i % 3 == 0 ? 0x80 : 5 * i);
    head.flags = static_cast<uint8_t>(i % 4);
    head.cut = static_cast<uint8_t>(i + 1);
    std::vector<uint8_t> seed(kHeadBytes);
    std::memcpy(seed.data(), &head, kHeadBytes);
    for (uint32_t k = 0; k < kCiphers[head.cipher].key_bits / 8; ++k)
      seed.push_back(static_cast<uint8_t>(k * 13 + i));
    for (int k = 0; k < 8; ++k) seed.push_back(static_cast<uint8_t>(k * 29 + 1));
    seeds.push_back(std::move(seed));
  }
  return seeds;
}

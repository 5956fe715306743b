// The AES implementations side by side (aes_implementation.h): FIPS-197 key expansion, the
// IEEE 1619 vectors and the outside known answers through every implementation this CPU
// runs, and each VAES kernel against OpenSSL, the reference, over random keys, sector
// numbers, sizes, counts and buffer alignments, in place and out of place, and batches of
// slices that mix requests and directions.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "backends/software/aes_implementation.h"
#include "backends/software/aes_round_keys.h"
#include "backends/software/sector_cipher.h"
#include "tests/backends/aes_ciphers.h"
#include "tests/backends/known_answers.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

constexpr AesImplementation kAll[] = {AesImplementation::openssl, AesImplementation::vaes_avx2,
                                      AesImplementation::vaes_avx512};

std::vector<AesImplementation> runnable(bool with_openssl) {
  std::vector<AesImplementation> out;
  for (AesImplementation impl : kAll) {
    if (impl == AesImplementation::openssl && !with_openssl) continue;
    if (cpu_runs(impl)) {
      out.push_back(impl);
    } else {
      MESSAGE("this CPU does not run ", std::string(aes_implementation_name(impl)), ": not tested");
    }
  }
  return out;
}

std::unique_ptr<SectorCipher> keyed(const CipherSpec& spec, std::span<const uint8_t> key,
                                    AesImplementation impl) {
  std::unique_ptr<SectorCipher> cipher;
  Status s = SectorCipher::make(spec, key, impl, &cipher);
  if (!s.ok()) throw std::runtime_error(s.message());
  REQUIRE(cipher->implementation() == impl);
  return cipher;
}

void run(SectorCipher& cipher, const SectorRun& sectors) {
  const SectorSlice slice{&sectors, 0, sectors.sector_count};
  Status result;
  cipher.crypt(std::span(&slice, 1), &result);
  REQUIRE(result.ok());
}

// `data` through `cipher` as sectors from `first`, out of place.
std::vector<uint8_t> crypt_with(SectorCipher& cipher, uint32_t sector_size, Direction direction,
                                const std::vector<uint8_t>& data, uint64_t first) {
  std::vector<uint8_t> out(data.size());
  run(cipher, SectorRun{direction, data.data(), out.data(), first,
                        static_cast<uint32_t>(data.size() / sector_size)});
  return out;
}

std::vector<uint8_t> crypt_with(AesImplementation impl, const CipherSpec& spec,
                                const std::vector<uint8_t>& key, Direction direction,
                                const std::vector<uint8_t>& data, uint64_t first) {
  return crypt_with(*keyed(spec, key, impl), spec.sector_size, direction, data, first);
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> out(n);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

}  // namespace

TEST_CASE("FIPS-197 Appendix A: key expansion, both schedules, every lane") {
  if (!cpu_runs(AesImplementation::vaes_avx2)) return;  // the expansion uses AES-NI
  struct Case {
    const char* key;
    int rounds;
    const char* last;  // the final round key: w[4*Nr .. 4*Nr+3]
  };
  const Case cases[] = {
      {"2b7e151628aed2a6abf7158809cf4f3c", 10, "d014f9a8c9ee2589e13f0cc8b6630ca6"},
      {"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", 12,
       "e98ba06f448c773c8ecc720401002202"},
      {"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", 14,
       "fe4890d1e6188d0b046df344706c631e"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.key);
    auto key = from_hex(c.key);
    AesRoundKeys encrypt, decrypt;
    expand_aes_key(key, &encrypt, &decrypt);
    REQUIRE(encrypt.rounds == c.rounds);
    REQUIRE(decrypt.rounds == c.rounds);
    for (int lane = 0; lane < 4; ++lane) {
      CAPTURE(lane);
      CHECK(to_hex(encrypt.round[0] + 16 * lane, 16) == std::string(c.key).substr(0, 32));
      CHECK(to_hex(encrypt.round[c.rounds] + 16 * lane, 16) == c.last);
      // The equivalent inverse cipher starts from the last round key, ends with the first.
      CHECK(to_hex(decrypt.round[0] + 16 * lane, 16) == c.last);
      CHECK(to_hex(decrypt.round[c.rounds] + 16 * lane, 16) == to_hex(encrypt.round[0], 16));
    }
  }
}

TEST_CASE("IEEE 1619-2007 vectors 4, 5, 10 and 14 through every implementation") {
  for (AesImplementation impl : runnable(true)) {
    CAPTURE(aes_implementation_name(impl));
    struct Vector {
      const char* key;
      uint32_t key_bits;
      uint64_t sequence;
      const char* cipher;
    };
    for (const Vector& v : {Vector{kKey4, 256, 0, kCipher4}, Vector{kKey10, 512, 0xff, kCipher10},
                            Vector{kKey10, 512, 0xffffffffffULL, kCipher14}}) {
      CAPTURE(v.sequence);
      CipherSpec spec = spec_of("aes-xts-plain64", v.key_bits, 512);
      auto key = from_hex(v.key);
      auto expected = from_hex(v.cipher);
      CHECK(crypt_with(impl, spec, key, Direction::encrypt, ieee_plaintext(), v.sequence) ==
            expected);
      CHECK(crypt_with(impl, spec, key, Direction::decrypt, expected, v.sequence) ==
            ieee_plaintext());
    }
    // Vector 5: vector 4's ciphertext as plaintext, sequence 1.
    CipherSpec spec = spec_of("aes-xts-plain64", 256, 512);
    auto c5 = crypt_with(impl, spec, from_hex(kKey4), Direction::encrypt, from_hex(kCipher4), 1);
    CHECK(to_hex(c5.data(), 16) == "264d3ca8512194fec312c8c9891f279f");
    // A 4096-byte sector counts its IV in 512-byte units: sector 31 + iv_offset 7 is IV ff.
    CipherSpec large = spec_of("aes-xts-plain64", 512, 4096, 7);
    auto out = crypt_with(impl, large, from_hex(kKey10), Direction::encrypt,
                          pattern(4096, 1, 0), 31);
    CHECK(std::vector<uint8_t>(out.begin(), out.begin() + 512) == from_hex(kCipher10));
  }
}

TEST_CASE("the known answers from outside ublkcrypt through every implementation") {
  for (AesImplementation impl : runnable(true)) {
    CAPTURE(aes_implementation_name(impl));
    for (const KnownAnswer& c : kKnownAnswers) {
      CAPTURE(c.what);
      CipherSpec spec = spec_of(c.cipher, c.key_bits, c.sector_size, c.iv_offset);
      auto key = pattern(c.key_bits / 8, 3, 1);
      auto plain = pattern(c.sector_size, 31, 7);
      auto out = crypt_with(impl, spec, key, Direction::encrypt, plain, c.sector);
      CHECK(sha256_hex(out) == c.sha256);
      CHECK(crypt_with(impl, spec, key, Direction::decrypt, out, c.sector) == plain);
    }
  }
}

// Random cases, each checked against OpenSSL: encryption and decryption of random bytes,
// out of place and in place, at random alignments. Sector numbers range over all 64 bits
// (the IV wraps as dm-crypt's does), counts cross the kernels' 16-sector batches.
TEST_CASE("every VAES kernel gives OpenSSL's bytes on random keys, sectors and buffers") {
  const uint64_t seed = 0x5eed0016;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (AesImplementation impl : runnable(false)) {
    CAPTURE(aes_implementation_name(impl));
    for (const AesCipher& c : kAesCiphers) {
      CAPTURE(c.name);
      CAPTURE(c.key_bits);
      // Every sector size twice: how many steps a kernel runs per sector depends on it.
      for (int trial = 0; trial < 8; ++trial) {
        CAPTURE(trial);
        const uint32_t size = 512u << (trial % 4);
        const uint32_t count = 1 + static_cast<uint32_t>(rng() % std::max(1u, 40960 / size));
        const uint64_t first = trial % 2 == 0 ? rng() : rng() % 100000;
        CipherSpec spec = spec_of(c.name, c.key_bits, size, rng() % 4096);
        CAPTURE(size);
        CAPTURE(count);
        CAPTURE(first);
        const auto key = random_bytes(rng, c.key_bits / 8);
        auto reference = keyed(spec, key, AesImplementation::openssl);
        auto fast = keyed(spec, key, impl);
        const size_t bytes = size_t{size} * count;
        const auto input = random_bytes(rng, bytes);
        for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
          CAPTURE(direction == Direction::encrypt ? "encrypt" : "decrypt");
          const auto expected = crypt_with(*reference, size, direction, input, first);
          // Out of place, both buffers at odd offsets.
          std::vector<uint8_t> from(bytes + 64), to(bytes + 64);
          uint8_t* src = from.data() + rng() % 64;
          uint8_t* dst = to.data() + rng() % 64;
          std::copy(input.begin(), input.end(), src);
          run(*fast, SectorRun{direction, src, dst, first, count});
          CHECK(std::equal(expected.begin(), expected.end(), dst));
          CHECK(std::equal(input.begin(), input.end(), src));  // src is never written
          // In place.
          run(*fast, SectorRun{direction, src, src, first, count});
          CHECK(std::equal(expected.begin(), expected.end(), src));
        }
      }
    }
  }
}

// The software provider hands a worker's whole slice to one crypt() call: sectors of
// different requests, some cut into pieces, reads and writes mixed, in any order. Each
// request must come out as OpenSSL gives it alone.
TEST_CASE("a batch of slices from several runs and both directions equals each run alone") {
  std::mt19937_64 rng(16);
  for (AesImplementation impl : runnable(false)) {
    CAPTURE(aes_implementation_name(impl));
    for (const AesCipher& c : kAesCiphers) {
      for (uint32_t size : {512u, 4096u}) {
        CAPTURE(c.name);
        CAPTURE(c.key_bits);
        CAPTURE(size);
        CipherSpec spec = spec_of(c.name, c.key_bits, size, 3);
        const auto key = random_bytes(rng, c.key_bits / 8);
        auto reference = keyed(spec, key, AesImplementation::openssl);
        auto fast = keyed(spec, key, impl);
        // Counts around the 16-sector batch, and single sectors as 4 KiB requests are.
        const uint32_t counts[] = {1, 1, 3, 17, 1, 16, 2, 5, 1, 1, 1};
        struct Request {
          std::vector<uint8_t> input, buffer, expected;
          SectorRun run;
        };
        std::vector<Request> requests(std::size(counts));
        std::vector<SectorSlice> slices;
        for (size_t i = 0; i < requests.size(); ++i) {
          Request& r = requests[i];
          const Direction direction = rng() % 3 == 0 ? Direction::decrypt : Direction::encrypt;
          const uint64_t first = 1000 * i + rng() % 7;
          r.input = random_bytes(rng, size_t{size} * counts[i]);
          r.expected = crypt_with(*reference, size, direction, r.input, first);
          const bool in_place = i % 4 == 1;
          r.buffer = in_place ? r.input : std::vector<uint8_t>(r.input.size());
          r.run = SectorRun{direction, in_place ? r.buffer.data() : r.input.data(),
                            r.buffer.data(), first, counts[i]};
          if (counts[i] == 17) {  // cut in three, as a run split across workers is
            slices.push_back(SectorSlice{&r.run, 0, 5});
            slices.push_back(SectorSlice{&r.run, 5, 11});
            slices.push_back(SectorSlice{&r.run, 16, 1});
          } else {
            slices.push_back(SectorSlice{&r.run, 0, counts[i]});
          }
        }
        std::shuffle(slices.begin(), slices.end(), rng);
        std::vector<Status> results(slices.size());
        fast->crypt(slices, results.data());
        for (const Status& s : results) CHECK(s.ok());
        for (size_t i = 0; i < requests.size(); ++i) {
          CAPTURE(i);
          CHECK(requests[i].buffer == requests[i].expected);
        }
      }
    }
  }
}

TEST_CASE("every implementation refuses what OpenSSL refuses: XTS keys with equal halves") {
  CipherSpec spec = spec_of("aes-xts-plain64", 256, 4096);
  const std::vector<uint8_t> twin_halves(32, 0x42);
  for (AesImplementation impl : runnable(true)) {
    CAPTURE(aes_implementation_name(impl));
    std::unique_ptr<SectorCipher> cipher;
    Status s = SectorCipher::make(spec, twin_halves, impl, &cipher);
    CHECK(s.code() == Errc::invalid_argument);
    CHECK(s.message().starts_with("OpenSSL AES-128-XTS: key refused: "));
  }
}

TEST_CASE("implementation names: each parses back, anything else is refused with the list") {
  for (AesImplementation impl : kAll) {
    AesImplementation parsed = AesImplementation::openssl;
    REQUIRE(parse_aes_implementation(aes_implementation_name(impl), &parsed).ok());
    CHECK(parsed == impl);
  }
  AesImplementation parsed;
  Status s = parse_aes_implementation("aesni", &parsed);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() ==
        "AES implementation aesni: unknown (openssl, vaes-avx2, vaes-avx512, auto)");
  CHECK(cpu_runs(AesImplementation::openssl));
  CHECK(cpu_runs(fastest_aes_implementation()));
  CHECK(cpu_runs(default_aes_implementation()));
}

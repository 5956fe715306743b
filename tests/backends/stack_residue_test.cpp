// What the VAES kernels leave on the stack of the thread that ran them (stack_wipe.h). Each
// implementation runs on a thread whose stack is a zeroed buffer of this test's; once that
// thread has ended, no 16-byte block of a secret may be found in the buffer at any byte
// offset: the plaintext, the round keys of both schedules of the data key and of the IV
// key, the first XTS tweaks or ESSIV IVs of the sectors.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/mman.h>

#include <array>
#include <cstring>
#include <random>
#include <map>
#include <string>

#include "backends/software/aes_implementation.h"
#include "backends/software/aes_round_keys.h"
#include "backends/software/sector_cipher.h"
#include "tests/backends/aes_ciphers.h"
#include "tests/backends/provider_harness.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

using Block = std::array<uint8_t, 16>;
using Secrets = std::map<Block, std::string>;  // each secret block and what it is

// Large enough for an -O0 ASan frame; the thread's own start-up uses the top of it.
constexpr size_t kStackBytes = 1 << 20;

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> out(n);
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

void add_blocks(std::span<const uint8_t> bytes, const std::string& what, Secrets* secrets) {
  for (size_t at = 0; at + 16 <= bytes.size(); at += 16) {
    Block b;
    std::memcpy(b.data(), bytes.data() + at, 16);
    secrets->emplace(b, what);
  }
}

// Every round key, lane 0, of both schedules of `key` (`name`).
void add_round_keys(std::span<const uint8_t> key, const char* name, Secrets* secrets) {
  AesRoundKeys encrypt, decrypt;
  expand_aes_key(key, &encrypt, &decrypt);
  for (int r = 0; r <= encrypt.rounds; ++r) {
    add_blocks(std::span(encrypt.round[r], 16), fmt::format("{} round key {}", name, r), secrets);
    add_blocks(std::span(decrypt.round[r], 16),
               fmt::format("{} decryption round key {}", name, r), secrets);
  }
}

// E_ivkey(le64(sector) || 0^64) for each sector: XTS's first tweak, or ESSIV's IV.
void add_encrypted_ivs(std::span<const uint8_t> iv_key, uint64_t first, uint32_t count,
                       Secrets* secrets) {
  std::vector<uint8_t> in(size_t{count} * 16, 0), out(in.size());
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t sector = first + i;
    for (int b = 0; b < 8; ++b) in[i * 16 + b] = static_cast<uint8_t>(sector >> (8 * b));
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(EVP_EncryptInit_ex2(ctx, iv_key.size() == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb(),
                              iv_key.data(), nullptr, nullptr) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  int len = 0;
  REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1);
  EVP_CIPHER_CTX_free(ctx);
  add_blocks(out, "a first tweak or ESSIV IV", secrets);
}

struct Job {
  SectorCipher* cipher;
  std::vector<SectorRun> runs;
  std::vector<Status> results;
};

void* run_job(void* arg) {
  auto* job = static_cast<Job*>(arg);
  std::vector<SectorSlice> slices;
  for (const SectorRun& run : job->runs) slices.push_back(SectorSlice{&run, 0, run.sector_count});
  job->results.resize(slices.size());
  job->cipher->crypt(slices, job->results.data());
  return nullptr;
}

// Runs `job` on a thread whose stack is `stack`.
void run_on_stack(Job* job, std::span<uint8_t> stack) {
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstack(&attr, stack.data(), stack.size()) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, &attr, run_job, job) == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  pthread_attr_destroy(&attr);
}

// What secret blocks lie in `stack`, by kind. Byte by byte and unsanitized: ASan may still
// hold the dead thread's stack poisoned.
__attribute__((no_sanitize("address"))) std::map<std::string, size_t> residue(
    std::span<const uint8_t> stack, const Secrets& secrets) {
  std::map<std::string, size_t> found;
  for (size_t at = 0; at + 16 <= stack.size(); ++at) {
    Block b;
    bool zero = true;
    for (size_t i = 0; i < 16; ++i) {
      b[i] = stack[at + i];
      zero = zero && b[i] == 0;
    }
    if (zero) continue;
    if (auto it = secrets.find(b); it != secrets.end()) ++found[it->second];
  }
  return found;
}

}  // namespace

TEST_CASE("the VAES kernels leave no plaintext, round key, tweak or IV on the stack") {
  std::mt19937_64 rng(20261205);
  void* mapped = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  REQUIRE(mapped != MAP_FAILED);
  const std::span<uint8_t> stack(static_cast<uint8_t*>(mapped), kStackBytes);
  bool tested = false;
  for (AesImplementation impl : {AesImplementation::vaes_avx2, AesImplementation::vaes_avx512}) {
    if (!cpu_runs(impl)) {
      MESSAGE("this CPU does not run ", std::string(aes_implementation_name(impl)), ": not tested");
      continue;
    }
    tested = true;
    for (const AesCipher& c : kAesCiphers) {
      for (Direction direction : {Direction::encrypt, Direction::decrypt}) {
        const std::string what = fmt::format("{} {} {}-bit {}", aes_implementation_name(impl),
                                             c.name, c.key_bits,
                                             direction == Direction::encrypt ? "encrypt" : "decrypt");
        CAPTURE(what);
        const CipherSpec spec = spec_of(c.name, c.key_bits, 4096);
        const std::vector<uint8_t> key = random_bytes(rng, c.key_bits / 8);
        std::unique_ptr<SectorCipher> cipher;
        REQUIRE(SectorCipher::make(spec, key, impl, &cipher).ok());

        // A full kernel call (16 sectors: every CBC lane) and a short one, in place.
        const uint32_t counts[] = {16, 3};
        const uint64_t firsts[] = {1000, 77};
        const std::vector<uint8_t> plain = random_bytes(rng, 19 * size_t{spec.sector_size});
        std::vector<uint8_t> buffer = plain;
        Job job{cipher.get(), {}, {}};
        size_t offset = 0;
        for (size_t i = 0; i < 2; ++i) {
          uint8_t* at = buffer.data() + offset;
          job.runs.push_back(SectorRun{direction, at, at, firsts[i], counts[i]});
          offset += size_t{counts[i]} * spec.sector_size;
        }
        if (direction == Direction::decrypt) {
          // Ciphertext of `plain`, made on this thread.
          Job encrypt = job;
          for (SectorRun& run : encrypt.runs) run.direction = Direction::encrypt;
          run_job(&encrypt);
        }

        Secrets secrets;
        add_blocks(plain, "plaintext", &secrets);
        const bool xts = spec.mode == CipherMode::aes_xts_plain64;
        const size_t half = key.size() / 2;
        const std::vector<uint8_t> data_key(key.begin(), xts ? key.begin() + half : key.end());
        std::vector<uint8_t> iv_key(xts ? key.begin() + half : key.end(), key.end());
        if (!xts) {
          iv_key.resize(32);
          unsigned int n = 0;
          REQUIRE(EVP_Digest(key.data(), key.size(), iv_key.data(), &n, EVP_sha256(), nullptr));
        }
        add_round_keys(data_key, "data key", &secrets);
        add_round_keys(iv_key, "IV key", &secrets);
        for (size_t i = 0; i < 2; ++i) add_encrypted_ivs(iv_key, firsts[i], counts[i], &secrets);

        std::memset(stack.data(), 0, stack.size());
        run_on_stack(&job, stack);
        for (const Status& s : job.results) REQUIRE(s.ok());
        if (direction == Direction::decrypt) REQUIRE(buffer == plain);
        std::string left;
        for (const auto& [kind, count] : residue(stack, secrets))
          left += fmt::format("{}{} x {}", left.empty() ? "" : ", ", kind, count);
        CAPTURE(left);
        CHECK(left.empty());
      }
    }
  }
  if (!tested) MESSAGE("no VAES implementation runs here: nothing tested");
  munmap(mapped, kStackBytes);
}

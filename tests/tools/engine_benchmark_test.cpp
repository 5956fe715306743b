#include "tools/engine_benchmark.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/volume/scratch.h"

using namespace ublkcrypt;
using ublkcrypt::test::run;
using ublkcrypt::test::Scratch;

namespace {

constexpr uint64_t kImageBytes = 4 << 20;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Writes the whole image through an engine for `cipher` and reads it back verified.
void verified_pass(const std::string& path, const char* cipher, uint32_t key_bits) {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse(cipher, key_bits, 4096, &spec).ok());
  SecureBytes key;
  REQUIRE(make_random_key(spec.key_bytes, &key).ok());
  REQUIRE(create_image(path, kImageBytes, false).ok());
  std::unique_ptr<Engine> engine;
  REQUIRE(open_image_engine(path, spec, key.view(), "", false, &engine).ok());
  SequentialOptions options{128 * 1024, 32, true};
  PassTimes times;
  Status s = run_sequential(*engine, options, &times);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(times.bytes == kImageBytes);
  CHECK(times.write_seconds > 0);
  CHECK(times.read_seconds > 0);
  // Buffered I/O: each user byte passes once through the cipher and once through the
  // kernel's copy to or from the page cache, and no more (out of place costs no pass).
  CHECK(times.write_memory_passes == doctest::Approx(2.0));
  CHECK(times.read_memory_passes == doctest::Approx(2.0));
}

}  // namespace

TEST_CASE("create_image allocates the size asked and refuses an existing file unless told") {
  Scratch scratch;
  const std::string path = scratch.path("img");
  REQUIRE(create_image(path, kImageBytes, false).ok());
  CHECK(size_of(path) == kImageBytes);
  Status s = create_image(path, kImageBytes, false);
  CHECK(!s.ok());
  CHECK(s.message().find(path) != std::string::npos);
  CHECK(create_image(path, 2 * kImageBytes, true).ok());
  CHECK(size_of(path) == 2 * kImageBytes);
}

TEST_CASE("a verified sequential pass: plaintext through cipher_null, ciphertext through aes") {
  Scratch scratch;
  verified_pass(scratch.path("plain"), "cipher_null-ecb", 0);
  verified_pass(scratch.path("aes"), "aes-xts-plain64", 512);
  const std::string plain = contents(scratch.path("plain"));
  const std::string encrypted = contents(scratch.path("aes"));
  REQUIRE(plain.size() == kImageBytes);
  REQUIRE(encrypted.size() == kImageBytes);
  // The pattern is unique per offset, so no two sectors of it are alike; none of it may
  // reach the encrypted image, sector for sector.
  CHECK(plain.compare(0, 4096, plain, 4096, 4096) != 0);
  for (uint64_t at = 0; at < kImageBytes; at += 4096) {
    CAPTURE(at);
    REQUIRE(plain.compare(at, 4096, encrypted, at, 4096) != 0);
  }
}

TEST_CASE("the provider alone: every byte encrypted and decrypted, both timed") {
  CipherSpec spec;
  REQUIRE(CipherSpec::parse("aes-xts-plain64", 512, 4096, &spec).ok());
  SecureBytes key;
  REQUIRE(make_random_key(spec.key_bytes, &key).ok());
  std::unique_ptr<Session> session;
  SessionOptions options;
  REQUIRE(builtin_registry().open_session(spec, key.view(), options, &session).ok());
  const ProviderCounters& counters = session->provider()->counters();
  const uint64_t before = counters.payload_bytes.load();
  CryptoTimes times;
  REQUIRE(run_provider(*session, 8 << 20, SequentialOptions{128 * 1024, 32, false}, &times).ok());
  CHECK(times.bytes == (8u << 20));
  CHECK(times.encrypt_seconds > 0);
  CHECK(times.decrypt_seconds > 0);
  CHECK(counters.payload_bytes.load() - before == 2 * times.bytes);  // there and back
}

TEST_CASE("ublkcrypt engine-bench prints every cell and the ratio, and leaves no image") {
  Scratch scratch;
  const std::string image = scratch.path("bench.img");
  auto r = run(std::string(UBLKCRYPT_BINARY) + " engine-bench --size 16M --rounds 1 --path " +
               image + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  for (const char* row : {"plain engine (cipher_null)", "provider alone (encrypt / decrypt)",
                          "encrypted engine", "encrypted / min(plain, provider)",
                          "both parts' CPU)", "encrypted / core ceiling"}) {
    CAPTURE(row);
    const size_t at = r.output.find(row);
    REQUIRE(at != std::string::npos);
    std::istringstream line(r.output.substr(at + std::string(row).size()));
    double write = 0, read = 0;
    line >> write >> read;
    CHECK(write > 0);
    CHECK(read > 0);
  }
  CHECK(size_of(image) == 0);  // removed
}

TEST_CASE("engine-bench and roundtrip refuse bad input in one line") {
  Scratch scratch;
  const std::string tool = std::string(UBLKCRYPT_BINARY) + " ";
  auto r = run(tool + "engine-bench --size 16M --rounds 1 --path " + scratch.path("no/dir.img") +
               " 2>&1");
  CHECK(r.exit_code == 4);
  CHECK(r.output.find(scratch.path("no/dir.img")) != std::string::npos);
  CHECK(r.output.find('\n') == r.output.size() - 1);

  r = run(tool + "roundtrip --size 1000 --path " + scratch.path("small.img") + " 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("size 1000") != std::string::npos);
  CHECK(size_of(scratch.path("small.img")) == 0);  // nothing written

  r = run(tool + "engine-bench --size 16M -c twofish-xts-plain64 --path " +
          scratch.path("x.img") + " 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("twofish-xts-plain64") != std::string::npos);
  CHECK(size_of(scratch.path("x.img")) == 0);
}

// Volumes formatted here are accepted by cryptsetup, and format refuses what it could not
// serve before writing anything.
#include <doctest/doctest.h>

#include <vector>

#include "tests/volume/scratch.h"
#include "volume/existing_content.h"
#include "volume/format.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

static FormatOptions fast(std::string cipher, uint32_t key_bits, uint32_t sector_size) {
  FormatOptions o;
  o.cipher = std::move(cipher);
  o.key_bits = key_bits;
  o.sector_size = sector_size;
  o.pbkdf.type = "pbkdf2";
  o.pbkdf.force_iterations = 1000;
  return o;
}

TEST_CASE("a volume formatted here is accepted by cryptsetup with the same key") {
  Scratch scratch;
  std::string key_file = scratch.file("pass", "s3cret passphrase");
  struct {
    const char* cipher;
    uint32_t key_bits, sector_size;
  } cases[] = {{"aes-xts-plain64", 512, 512},
               {"aes-xts-plain64", 256, 4096},
               {"aes-cbc-essiv:sha256", 256, 512}};
  for (const auto& c : cases) {
    CAPTURE(c.cipher);
    CAPTURE(c.sector_size);
    std::string img = scratch.image("img", 40 << 20);
    FormatOptions options = fast(c.cipher, c.key_bits, c.sector_size);
    options.label = "test-volume";
    std::unique_ptr<LuksVolume> volume;
    Status s = format_volume(img, options, bytes("s3cret passphrase"), &volume);
    REQUIRE_MESSAGE(s.ok(), s.message());

    Run dump = run("cryptsetup luksDump " + img);
    REQUIRE_MESSAGE(dump.exit_code == 0, dump.output);
    CHECK(dump.output.find("Version:       \t2") != std::string::npos);
    CHECK(dump.output.find(std::string("cipher: ") + c.cipher) != std::string::npos);
    CHECK(dump.output.find("sector: " + std::to_string(c.sector_size) + " [bytes]") !=
          std::string::npos);
    CHECK(dump.output.find("\ttest-volume\n") != std::string::npos);
    CHECK(dump.output.find("UUID:          \t" + volume->uuid()) != std::string::npos);

    Run test = run("cryptsetup open --test-passphrase --key-file " + key_file + " " + img);
    CHECK_MESSAGE(test.exit_code == 0, test.output);

    UnlockedVolume unlocked;
    REQUIRE(volume->unlock(bytes("s3cret passphrase"), std::nullopt, &unlocked).ok());
    std::vector<uint8_t> ours(unlocked.key.view().begin(), unlocked.key.view().end());
    CHECK(ours == cryptsetup_volume_key(img, key_file));
    CHECK(unlocked.spec.sector_size == c.sector_size);
  }
}

TEST_CASE("format refuses an unsupported cipher and leaves the device untouched") {
  Scratch scratch;
  std::string img = scratch.image("img", 32 << 20);
  Status s = format_volume(img, fast("serpent-cbc-random", 512, 512), bytes("pw"), nullptr);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("serpent-cbc-random") != std::string::npos);
  std::string what = "unset";
  REQUIRE(describe_existing_content(img, &what).ok());
  CHECK(what.empty());

  s = format_volume(img, fast("aes-xts-plain64", 320, 512), bytes("pw"), nullptr);
  CHECK(s.code() == Errc::invalid_argument);
  s = format_volume(scratch.path("missing"), fast("aes-xts-plain64", 512, 512), bytes("pw"),
                    nullptr);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "device " + scratch.path("missing") + ": No such file or directory");
}

TEST_CASE("existing LUKS headers and filesystems are recognised") {
  Scratch scratch;
  std::string key_file = scratch.file("pass", "pw");
  std::string luks = scratch.image("luks", 32 << 20);
  REQUIRE(run(luks_format_command(luks, key_file, "aes-xts-plain64", 256, 512)).exit_code == 0);
  std::string what;
  REQUIRE(describe_existing_content(luks, &what).ok());
  CHECK(what == "a LUKS2 header");

  std::string ext4 = scratch.image("ext4", 32 << 20);
  Run mkfs = run("mkfs.ext4 -q -F " + ext4);
  REQUIRE_MESSAGE(mkfs.exit_code == 0, mkfs.output);
  REQUIRE(describe_existing_content(ext4, &what).ok());
  CHECK(what == "an ext2/3/4 filesystem");

  std::string swap = scratch.image("swap", 32 << 20);
  if (run("mkswap " + swap).exit_code == 0) {
    REQUIRE(describe_existing_content(swap, &what).ok());
    CHECK(what == "swap space");
  }
}

// Volumes made by `cryptsetup luksFormat` unlock here to the same key and geometry.
#include <doctest/doctest.h>

#include <vector>

#include "tests/volume/scratch.h"
#include "volume/luks_volume.h"
#include "volume/unlocked_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

struct Case {
  const char* cipher;
  uint32_t key_bits;
  uint32_t sector_size;
  CipherMode mode;
};

}  // namespace

TEST_CASE("a cryptsetup-made volume unlocks to cryptsetup's volume key and geometry") {
  const Case cases[] = {
      {"aes-xts-plain64", 256, 512, CipherMode::aes_xts_plain64},
      {"aes-xts-plain64", 512, 512, CipherMode::aes_xts_plain64},
      {"aes-xts-plain64", 256, 4096, CipherMode::aes_xts_plain64},
      {"aes-xts-plain64", 512, 4096, CipherMode::aes_xts_plain64},
      {"aes-cbc-essiv:sha256", 256, 512, CipherMode::aes_cbc_essiv_sha256},
  };
  Scratch scratch;
  std::string key_file = scratch.file("pass", "correct horse");
  for (const Case& c : cases) {
    CAPTURE(c.cipher);
    CAPTURE(c.key_bits);
    CAPTURE(c.sector_size);
    std::string img = scratch.image("img", 64 << 20);
    Run made = run(luks_format_command(img, key_file, c.cipher, c.key_bits, c.sector_size));
    REQUIRE_MESSAGE(made.exit_code == 0, made.output);

    UnlockedVolume volume;
    Status s = unlock_volume(img, bytes("correct horse"), std::nullopt, &volume);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(volume.spec.mode == c.mode);
    CHECK(volume.spec.key_bytes == c.key_bits / 8);
    CHECK(volume.spec.sector_size == c.sector_size);
    CHECK(volume.spec.iv_offset == 0);
    CHECK(volume.data_offset_bytes == 16u << 20);  // LUKS2 default: 16 MiB of metadata
    CHECK(volume.size_bytes == (64u << 20) - (16u << 20));
    CHECK(volume.keyslot == 0);
    CHECK(volume.uuid.size() == 36);
    std::vector<uint8_t> expected = cryptsetup_volume_key(img, key_file);
    std::vector<uint8_t> got(volume.key.view().begin(), volume.key.view().end());
    CHECK(got == expected);
  }
}

TEST_CASE("a wrong passphrase is a permission error and leaves no key behind") {
  Scratch scratch;
  std::string img = scratch.image("img", 32 << 20);
  std::string key_file = scratch.file("pass", "right");
  REQUIRE(run(luks_format_command(img, key_file, "aes-xts-plain64", 512, 512)).exit_code == 0);
  UnlockedVolume volume;
  Status s = unlock_volume(img, bytes("wrong"), std::nullopt, &volume);
  CHECK(s.code() == Errc::permission);
  CHECK(s.message() == "wrong passphrase for " + img + " (no key slot matches)");
  CHECK(volume.key.empty());

  s = unlock_volume(img, bytes("right"), 3, &volume);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == img + ": key slot 3 is not active");
  s = unlock_volume(img, bytes("right"), 40, &volume);
  CHECK(s.code() == Errc::invalid_argument);
  s = unlock_volume(img, bytes("wrong"), 0, &volume);
  CHECK(s.code() == Errc::permission);
  CHECK(s.message() == "wrong passphrase for key slot 0 of " + img);
}

TEST_CASE("iv_offset and LUKS1 headers are read too") {
  Scratch scratch;
  std::string key_file = scratch.file("pass", "pw");
  std::string img = scratch.image("img", 32 << 20);
  Run made = run("cryptsetup luksFormat -q --type luks1 " + std::string(kFastKdf) +
                 " --cipher aes-xts-plain64 --key-size 256 --key-file " + key_file + " " + img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  UnlockedVolume volume;
  Status s = unlock_volume(img, bytes("pw"), std::nullopt, &volume);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(volume.spec.key_bytes == 32);
  CHECK(volume.data_offset_bytes == 4096 * 512);  // LUKS1: 2 MiB, 4096 sectors
  std::vector<uint8_t> got(volume.key.view().begin(), volume.key.view().end());
  CHECK(got == cryptsetup_volume_key(img, key_file));
}

TEST_CASE("LUKS2 persistent allow-discards: stored as cryptsetup stores it, read back by unlock") {
  FormattedImage f;
  std::unique_ptr<LuksVolume> volume;
  REQUIRE(LuksVolume::load(f.img, &volume).ok());
  bool allowed = true;
  REQUIRE(volume->allows_discards(&allowed).ok());
  CHECK_FALSE(allowed);

  REQUIRE(volume->store_allow_discards(true).ok());
  Run dump = run("cryptsetup luksDump " + f.img);
  REQUIRE_MESSAGE(dump.exit_code == 0, dump.output);
  CHECK(dump.output.find("Flags:       \tallow-discards") != std::string::npos);
  UnlockedVolume unlocked;
  REQUIRE(unlock_volume(f.img, bytes("pw"), std::nullopt, &unlocked).ok());
  CHECK(unlocked.allow_discards);

  // --persistent without the flag clears it, as cryptsetup's does.
  REQUIRE(LuksVolume::load(f.img, &volume).ok());
  REQUIRE(volume->store_allow_discards(false).ok());
  dump = run("cryptsetup luksDump " + f.img);
  CHECK(dump.output.find("allow-discards") == std::string::npos);
  UnlockedVolume again;
  REQUIRE(unlock_volume(f.img, bytes("pw"), std::nullopt, &again).ok());
  CHECK_FALSE(again.allow_discards);
}

TEST_CASE("LUKS1 has no persistent flags: --persistent is refused, naming the header") {
  Scratch scratch;
  std::string img = scratch.image("img", 32 << 20);
  std::string key_file = scratch.file("pass", "pw");
  Run made = run("cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file " + key_file +
                 " " + img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  std::unique_ptr<LuksVolume> volume;
  REQUIRE(LuksVolume::load(img, &volume).ok());
  bool allowed = true;
  REQUIRE(volume->allows_discards(&allowed).ok());
  CHECK_FALSE(allowed);
  Status s = volume->store_allow_discards(true);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "device " + img + ": --persistent needs a LUKS2 header; LUKS1 stores no activation flags");
}

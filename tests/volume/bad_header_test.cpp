// Damaged, truncated and unsupported volumes fail with one clear line.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "tests/volume/scratch.h"
#include "volume/unlocked_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

static void zero(const std::string& path, off_t offset, size_t length) {
  int fd = open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  std::vector<char> zeros(length, 0);
  REQUIRE(pwrite(fd, zeros.data(), length, offset) == static_cast<ssize_t>(length));
  close(fd);
}

namespace {
using Volume = FormattedImage;
}  // namespace

TEST_CASE("a destroyed primary header is recovered from the secondary copy") {
  Volume v;
  std::vector<uint8_t> expected = cryptsetup_volume_key(v.img, v.key_file);
  zero(v.img, 0, 4096);  // the primary binary header and the start of its JSON
  UnlockedVolume volume;
  Status s = unlock_volume(v.img, bytes("pw"), std::nullopt, &volume);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::vector<uint8_t> got(volume.key.view().begin(), volume.key.view().end());
  CHECK(got == expected);
}

TEST_CASE("both headers destroyed: not a LUKS device") {
  Volume v;
  zero(v.img, 0, 64 << 10);  // both 16 KiB header copies
  UnlockedVolume volume;
  Status s = unlock_volume(v.img, bytes("pw"), std::nullopt, &volume);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message() == "device " + v.img + ": not a LUKS device (no valid LUKS header found)");
}

TEST_CASE("a device shorter than its data segment is the wrong device") {
  Volume v;
  std::filesystem::resize_file(v.img, 16 << 20);  // exactly the metadata, no data
  UnlockedVolume volume;
  Status s = unlock_volume(v.img, bytes("pw"), std::nullopt, &volume);
  CHECK(s.code() == Errc::io_error);
  CHECK(s.message().find("too short for its LUKS data segment") != std::string::npos);
  CHECK(volume.key.empty());
}

TEST_CASE("an unsupported cipher in a cryptsetup header is named") {
  // serpent needs dm-crypt or AF_ALG for cryptsetup to format it (the VM has them, the host
  // may not); aes-cbc-plain64 goes through cryptsetup's userspace crypto everywhere.
  for (const char* cipher : {"aes-cbc-plain64", "serpent-xts-plain64"}) {
    CAPTURE(cipher);
    Scratch scratch;
    std::string img = scratch.image("img", 32 << 20);
    std::string key_file = scratch.file("pass", "pw");
    Run made = run(luks_format_command(img, key_file, cipher, 256, 512));
    if (made.exit_code != 0 && std::string(cipher) == "serpent-xts-plain64") {
      MESSAGE("skipped serpent: cryptsetup cannot format it here: " << made.output);
      continue;
    }
    REQUIRE_MESSAGE(made.exit_code == 0, made.output);
    UnlockedVolume volume;
    Status s = unlock_volume(img, bytes("pw"), std::nullopt, &volume);
    CHECK(s.code() == Errc::unsupported);
    CHECK(s.message().find(cipher) != std::string::npos);
    CHECK(s.message().find(img) != std::string::npos);
  }
}

TEST_CASE("a device that does not exist") {
  UnlockedVolume volume;
  Status s = unlock_volume("/nonexistent/disk", bytes("pw"), std::nullopt, &volume);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "device /nonexistent/disk: No such file or directory");
}

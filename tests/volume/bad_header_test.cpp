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

// A header whose IV mode ublkcrypt does not implement (lmk) is refused by name in the VM
// (tests/volume/luks_interop.sh): cryptsetup needs dm-crypt to format one.
TEST_CASE("any other dm-crypt cipher in a header unlocks, for the kernel provider to run") {
  Scratch scratch;
  std::string img = scratch.image("img", 32 << 20);
  std::string key_file = scratch.file("pass", "pw");
  Run made = run(luks_format_command(img, key_file, "aes-cbc-plain64", 256, 512));
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  UnlockedVolume volume;
  REQUIRE(unlock_volume(img, bytes("pw"), std::nullopt, &volume).ok());
  CHECK(volume.spec.mode == CipherMode::generic);
  CHECK(volume.spec.name() == "aes-cbc-plain64");
  CHECK(volume.spec.dm.algorithm == "cbc(aes)");
  CHECK(volume.key.size() == 32);
}

TEST_CASE("a device that does not exist") {
  UnlockedVolume volume;
  Status s = unlock_volume("/nonexistent/disk", bytes("pw"), std::nullopt, &volume);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "device /nonexistent/disk: No such file or directory");
}

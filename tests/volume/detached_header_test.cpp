// Detached LUKS headers (cryptsetup's --header, issue 18) in the volume layer, with
// cryptsetup on image files as the oracle: a volume cryptsetup formats with its header in a
// file unlocks here to cryptsetup's volume key and geometry, and one formatted here opens in
// cryptsetup, with the data device holding data only (offset 0 unless --offset).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "tests/volume/scratch.h"
#include "volume/format.h"
#include "volume/luks_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

FormatOptions fast_options(const std::string& type, const std::string& header) {
  FormatOptions o;
  o.type = type;
  o.pbkdf.type = "pbkdf2";
  o.pbkdf.force_iterations = 1000;
  o.header = header;
  return o;
}

}  // namespace

TEST_CASE("a volume cryptsetup formats with --header unlocks through the header file only") {
  for (const std::string type : {"luks2", "luks1"}) {
    CAPTURE(type);
    Scratch scratch;
    const std::string img = scratch.image("img", 8 << 20);
    const std::string hdr = scratch.path("hdr");
    const std::string key_file = scratch.file("pass", "pw");
    Run made = run("cryptsetup luksFormat -q --type " + type + " " + kFastKdf + " --header " + hdr +
                   " --key-file " + key_file + " " + img);
    REQUIRE_MESSAGE(made.exit_code == 0, made.output);
    CHECK(all_zero(img));  // cryptsetup wrote only the header file

    // Without the header the data device is no LUKS volume.
    UnlockedVolume volume;
    Status s = unlock_volume(img, bytes("pw"), std::nullopt, &volume);
    CHECK(s.code() == Errc::corrupt);
    CHECK(s.message() == "device " + img + ": not a LUKS device (no valid LUKS header found)");

    s = unlock_volume(img, bytes("pw"), std::nullopt, &volume, hdr);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(volume.data_offset_bytes == 0);
    CHECK(volume.size_bytes == uint64_t(8) << 20);  // the whole data device
    const std::vector<uint8_t> key(volume.key.data(), volume.key.data() + volume.key.size());
    CHECK(key == cryptsetup_volume_key(hdr, key_file));

    std::unique_ptr<LuksVolume> luks;
    REQUIRE(LuksVolume::load(img, hdr, &luks).ok());
    CHECK(luks->uuid() == run("cryptsetup luksUUID " + hdr).output.substr(0, 36));
    CHECK(luks->header() == hdr);
    CHECK(luks->check_version(type).ok());
    CHECK(probe_luks(img, hdr).ok());
    CHECK(probe_luks(img).code() == Errc::corrupt);

    CHECK(unlock_volume(img, bytes("wrong"), std::nullopt, &volume, hdr).code() == Errc::permission);
  }
}

TEST_CASE("a header file that is not LUKS, or missing, is named as the header") {
  Scratch scratch;
  const std::string img = scratch.image("img", 8 << 20);
  const std::string zeros = scratch.image("zeros", 1 << 20);
  UnlockedVolume volume;
  Status s = unlock_volume(img, bytes("pw"), std::nullopt, &volume, zeros);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message() == "header " + zeros + ": not a LUKS header (no valid LUKS header found)");
  s = unlock_volume(img, bytes("pw"), std::nullopt, &volume, scratch.path("missing"));
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "header " + scratch.path("missing") + ": No such file or directory");
}

TEST_CASE("format with a detached header writes only the header, and cryptsetup opens the volume") {
  for (const std::string type : {"luks2", "luks1"}) {
    CAPTURE(type);
    Scratch scratch;
    const std::string img = scratch.image("img", 8 << 20);
    const std::string hdr = scratch.path("hdr");
    const std::string key_file = scratch.file("pass", "pw");
    std::unique_ptr<LuksVolume> luks;
    Status s = format_volume(img, fast_options(type, hdr), bytes("pw"), &luks);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(all_zero(img));
    struct stat st;
    REQUIRE(stat(hdr.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);  // it holds the keyslots, as cryptsetup's does
    CHECK(luks->data_offset_bytes() == 0);

    Run opened = run("cryptsetup open --test-passphrase --header " + hdr + " --key-file " + key_file + " " + img);
    CHECK_MESSAGE(opened.exit_code == 0, opened.output);
    Run dumped = run("cryptsetup luksDump " + hdr);
    CHECK(dumped.output.find(type == "luks2" ? "offset: 0 [bytes]" : "Payload offset:\t0") != std::string::npos);

    UnlockedVolume volume;
    REQUIRE(unlock_volume(img, bytes("pw"), std::nullopt, &volume, hdr).ok());
    const std::vector<uint8_t> key(volume.key.data(), volume.key.data() + volume.key.size());
    CHECK(key == cryptsetup_volume_key(hdr, key_file));
    CHECK(volume.size_bytes == uint64_t(8) << 20);
  }
}

TEST_CASE("format --header with --offset starts the data there, as cryptsetup's --offset") {
  Scratch scratch;
  const std::string img = scratch.image("img", 8 << 20);
  const std::string hdr = scratch.path("hdr");
  FormatOptions options = fast_options("luks2", hdr);
  options.data_offset_sectors = 2048;
  REQUIRE(format_volume(img, options, bytes("pw"), nullptr).ok());
  UnlockedVolume volume;
  REQUIRE(unlock_volume(img, bytes("pw"), std::nullopt, &volume, hdr).ok());
  CHECK(volume.data_offset_bytes == 2048 * 512);
  CHECK(volume.size_bytes == (uint64_t(8) << 20) - 2048 * 512);
  CHECK(run("cryptsetup luksDump " + hdr).output.find("offset: 1048576 [bytes]") != std::string::npos);
}

TEST_CASE("format --header on a missing data device leaves no header file behind") {
  Scratch scratch;
  const std::string hdr = scratch.path("hdr");
  Status s = format_volume(scratch.path("nodevice"), fast_options("luks2", hdr), bytes("pw"), nullptr);
  CHECK(s.code() == Errc::not_found);
  struct stat st;
  CHECK(stat(hdr.c_str(), &st) != 0);
}

TEST_CASE("header backup and restore of a detached header go to and from the header file") {
  Scratch scratch;
  const std::string img = scratch.image("img", 8 << 20);
  const std::string hdr = scratch.path("hdr");
  REQUIRE(format_volume(img, fast_options("luks2", hdr), bytes("pw"), nullptr).ok());
  std::unique_ptr<LuksVolume> luks;
  REQUIRE(LuksVolume::load(img, hdr, &luks).ok());
  const std::string backup = scratch.path("backup");
  REQUIRE(luks->backup_header(backup).ok());
  REQUIRE(luks->erase().ok());
  luks.reset();
  UnlockedVolume volume;
  CHECK_FALSE(unlock_volume(img, bytes("pw"), std::nullopt, &volume, hdr).ok());  // no keyslot left
  Status s = restore_header(img, backup, hdr);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(unlock_volume(img, bytes("pw"), std::nullopt, &volume, hdr).ok());
  CHECK(all_zero(img));  // the restore, too, went to the header only
}

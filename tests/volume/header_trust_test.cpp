// Headers are not taken on trust (issue 15). Volumes cryptsetup made, then edited the way a
// newer cryptsetup or an attacker would leave them (tests/volume/luks2_edit.h):
//  - LUKS2 requirement flags, unknown or a reencryption in progress: refused, named. Before,
//    such a volume unlocked and would have been served with one key over data partly under
//    another.
//  - a keyslot stored in the clear (cipher_null area): only the empty passphrase opens it,
//    as cryptsetup requires. Before, any passphrase opened it (libcryptsetup 2.6.1 does).
//  - a cipher_null data segment: unlocks in the volume layer; `open` refuses to serve it
//    unencrypted without --allow-null-cipher.
#include <doctest/doctest.h>

#include "tests/volume/luks2_edit.h"
#include "tests/volume/scratch.h"
#include "volume/unlocked_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

struct Volume : FormattedImage {
  void require(const std::string& flag) {
    edit_luks2_metadata(img, [&](nlohmann::json& meta) {
      meta["config"]["requirements"]["mandatory"] = nlohmann::json::array({flag});
    });
  }
};

Status unlock(const std::string& img, const std::string& passphrase, UnlockedVolume* out = nullptr,
              std::optional<int> slot = std::nullopt) {
  UnlockedVolume volume;
  Status s = unlock_volume(img, bytes(passphrase), slot, out ? out : &volume);
  return s;
}

Run cli(const std::string& args) { return run(std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null"); }

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1 && s.rfind("ublkcrypt: ", 0) == 0;
}

}  // namespace

TEST_CASE("an unknown LUKS2 requirement flag: refused, the flag named, as cryptsetup refuses activation") {
  Volume v;
  v.require("frobnicate-v9");
  Run dump = run("cryptsetup luksDump " + v.img);
  REQUIRE_MESSAGE(dump.output.find("Requirements:\tfrobnicate-v9") != std::string::npos, dump.output);
  UnlockedVolume volume;
  Status s = unlock(v.img, "pw", &volume);
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message() == "device " + v.img +
                           ": unmet LUKS2 requirement flag frobnicate-v9 (unknown to this libcryptsetup): not opened");
  CHECK(volume.key.empty());

  Run r = cli("open --key-file " + v.key_file + " " + v.img + " trust-req");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(one_line(r.output), r.output);
  CHECK(r.output.find("frobnicate-v9") != std::string::npos);
}

TEST_CASE("a reencryption in progress (a known requirement flag): refused with what to do") {
  Volume v;
  v.require("offline-reencrypt");
  Status s = unlock(v.img, "pw");
  CHECK(s.code() == Errc::unsupported);
  CHECK(s.message() == "device " + v.img +
                           ": LUKS2 requirement flag offline-reencrypt (reencryption in progress): finish it with "
                           "cryptsetup reencrypt first");
}

TEST_CASE("a keyslot stored in the clear opens with the empty passphrase only") {
  Volume v;
  std::string second = v.scratch.file("pass2", "second");
  REQUIRE(run("cryptsetup luksAddKey --batch-mode " + std::string(kFastKdf) + " --key-file " + v.key_file + " " +
              v.img + " " + second)
              .exit_code == 0);
  const std::vector<uint8_t> expected = cryptsetup_volume_key(v.img, v.key_file);
  store_keyslot_in_clear(v.img, 0, "pw");
  // Where libcryptsetup can read a cipher_null area at all (AF_ALG or dm-crypt: the VM, not
  // this host), 2.6.1 opens slot 0 with any passphrase: the hole closed here.
  std::string empty = v.scratch.file("empty", "");
  std::string wrong = v.scratch.file("wrong", "not the passphrase");
  const bool readable = run("cryptsetup open --test-passphrase --key-file " + empty + " " + v.img).exit_code == 0;
  MESSAGE("cipher_null keyslot areas readable here: " << readable << "; cryptsetup with a wrong passphrase: exit "
                                                      << run("cryptsetup open --test-passphrase --key-file " +
                                                             wrong + " " + v.img)
                                                             .exit_code);

  for (const std::string passphrase : {"pw", "not the passphrase"}) {
    CAPTURE(passphrase);
    UnlockedVolume volume;
    Status s = unlock(v.img, passphrase, &volume);
    CHECK(s.code() == Errc::permission);
    CHECK(s.message() == "wrong passphrase for " + v.img + " (no key slot matches)");
    CHECK(volume.key.empty());
    s = unlock(v.img, passphrase, &volume, 0);
    CHECK(s.code() == Errc::permission);
    CHECK(s.message() == "wrong passphrase for key slot 0 of " + v.img +
                             ": the slot is stored unencrypted (cipher_null), only the empty passphrase opens it");
  }
  // The other slot still opens with its own passphrase; the clear one with the empty one.
  for (const std::string passphrase : {"second", ""}) {
    CAPTURE(passphrase);
    if (passphrase.empty() && !readable) {
      MESSAGE("skipped the empty passphrase: libcryptsetup cannot read a cipher_null keyslot area here");
      continue;
    }
    UnlockedVolume volume;
    Status s = unlock(v.img, passphrase, &volume);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(std::vector<uint8_t>(volume.key.view().begin(), volume.key.view().end()) == expected);
    CHECK(volume.keyslot == (passphrase.empty() ? 0 : 1));
  }
}

TEST_CASE("a cipher_null data segment is served only with --allow-null-cipher") {
  Volume v;
  edit_luks2_metadata(v.img, [](nlohmann::json& meta) { meta["segments"]["0"]["encryption"] = "cipher_null-ecb"; });
  UnlockedVolume volume;
  Status s = unlock(v.img, "pw", &volume);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(volume.spec.mode == CipherMode::null);

  Run r = cli("open --key-file " + v.key_file + " " + v.img + " trust-null");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(one_line(r.output), r.output);
  CHECK(r.output == "ublkcrypt: device " + v.img +
                        ": its LUKS data segment is cipher_null-ecb, which does not encrypt: add --allow-null-cipher "
                        "to open it anyway\n");
  // With the flag the volume gets past the header; on a host without ublk the disk is what
  // fails next (in the VM it opens).
  r = cli("open --allow-null-cipher --key-file " + v.key_file + " " + v.img + " trust-null");
  CHECK(r.output.find("cipher_null") == std::string::npos);
  if (r.exit_code == 0) CHECK(cli("close trust-null").exit_code == 0);
}

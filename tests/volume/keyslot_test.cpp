// Keyslot changes made by either tool are honoured by the other.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/volume/scratch.h"
#include "volume/luks_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

struct Volume {
  Scratch scratch;
  std::string img = scratch.image("img", 32 << 20);
  std::string first = scratch.file("first", "first passphrase");
  std::unique_ptr<LuksVolume> luks;

  Volume() {
    Run made = run(luks_format_command(img, first, "aes-xts-plain64", 512, 512));
    REQUIRE_MESSAGE(made.exit_code == 0, made.output);
    reload();
  }
  void reload() {
    Status s = LuksVolume::load(img, &luks);
    REQUIRE_MESSAGE(s.ok(), s.message());
    REQUIRE(luks->set_pbkdf({"pbkdf2", 0, 1000, 0}).ok());
  }
  bool cryptsetup_accepts(const std::string& key_file) {
    return run("cryptsetup open --test-passphrase --key-file " + key_file + " " + img)
               .exit_code == 0;
  }
};

}  // namespace

TEST_CASE("keys added or removed here are honoured by cryptsetup") {
  Volume v;
  std::string second = v.scratch.file("second", "second passphrase");
  int slot = -1;
  Status s = v.luks->add_key(bytes("first passphrase"), bytes("second passphrase"), 5, &slot);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(slot == 5);
  CHECK(v.cryptsetup_accepts(second));

  s = v.luks->add_key(bytes("nope"), bytes("third"), std::nullopt, &slot);
  CHECK(s.code() == Errc::permission);

  int removed = -1;
  REQUIRE(v.luks->remove_key(bytes("first passphrase"), &removed).ok());
  CHECK(removed == 0);
  CHECK_FALSE(v.cryptsetup_accepts(v.first));
  CHECK(v.cryptsetup_accepts(second));

  std::string third = v.scratch.file("third", "third passphrase");
  int changed = -1;
  REQUIRE(v.luks->change_key(bytes("second passphrase"), bytes("third passphrase"), std::nullopt,
                             &changed).ok());
  CHECK_FALSE(v.cryptsetup_accepts(second));
  CHECK(v.cryptsetup_accepts(third));

  s = v.luks->kill_slot(7);
  CHECK(s.code() == Errc::not_found);
  s = v.luks->kill_slot(99);
  CHECK(s.code() == Errc::invalid_argument);
  REQUIRE(v.luks->kill_slot(changed).ok());
  CHECK_FALSE(v.cryptsetup_accepts(third));
}

TEST_CASE("keys added or killed by cryptsetup are honoured here") {
  Volume v;
  std::string second = v.scratch.file("second", "second passphrase");
  Run add = run("cryptsetup luksAddKey " + std::string(kFastKdf) + " --key-file " + v.first +
                " --key-slot 3 " + v.img + " " + second);
  REQUIRE_MESSAGE(add.exit_code == 0, add.output);
  v.reload();
  UnlockedVolume unlocked;
  REQUIRE(v.luks->unlock(bytes("second passphrase"), std::nullopt, &unlocked).ok());
  CHECK(unlocked.keyslot == 3);

  Run kill = run("cryptsetup luksKillSlot --batch-mode " + v.img + " 0");
  REQUIRE_MESSAGE(kill.exit_code == 0, kill.output);
  v.reload();
  CHECK(v.luks->unlock(bytes("first passphrase"), std::nullopt, &unlocked).code() ==
        Errc::permission);
  auto slots = v.luks->keyslots();
  CHECK_FALSE(slots[0].active);
  CHECK(slots[3].active);
}

TEST_CASE("erase destroys every keyslot; a header backup brings them back") {
  Volume v;
  std::string backup = v.scratch.path("header.bak");
  REQUIRE(v.luks->backup_header(backup).ok());
  CHECK(v.luks->backup_header(backup).code() == Errc::busy);
  CHECK(run("cryptsetup isLuks " + backup).exit_code == 0);

  REQUIRE(v.luks->erase().ok());
  CHECK_FALSE(v.cryptsetup_accepts(v.first));

  REQUIRE(restore_header(v.img, backup).ok());
  CHECK(v.cryptsetup_accepts(v.first));

  std::string junk = v.scratch.file("junk", std::string(8192, 'x'));
  Status s = restore_header(v.img, junk);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find(v.img) != std::string::npos);
  CHECK(v.cryptsetup_accepts(v.first));
}

TEST_CASE("dump as text and JSON names the volume's cipher and keyslots") {
  Volume v;
  std::string text, json;
  REQUIRE(v.luks->dump_text(&text).ok());
  CHECK(text.find("LUKS header information") != std::string::npos);
  CHECK(text.find("aes-xts-plain64") != std::string::npos);
  REQUIRE(v.luks->dump_json(&json).ok());
  auto meta = nlohmann::json::parse(json);
  CHECK(meta["segments"]["0"]["encryption"] == "aes-xts-plain64");
  CHECK(meta["keyslots"].contains("0"));
  CHECK(probe_luks(v.img).ok());
  CHECK(probe_luks(v.first).code() == Errc::corrupt);
  CHECK(probe_luks(v.scratch.path("nothing")).code() == Errc::not_found);
}

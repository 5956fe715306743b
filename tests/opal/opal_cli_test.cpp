// `ublkcrypt opal ...` and `format --hw-opal` as a user runs them, on emulated drives:
// exit codes (tools/exit_codes.h), one-line messages naming the drive and the cause, and
// the drive state each step leaves behind. The data path through ublk is the VM's
// (tests/vm/scenarios/opal_luks.sh); here open's unlock half runs in-process.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/volume/scratch.h"
#include "tools/opal/opal_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

Run cli(const std::string& args) { return run(std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null"); }

bool has(const Run& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

nlohmann::json json_of(const Run& r) {
  nlohmann::json j = nlohmann::json::parse(r.output, nullptr, false);
  REQUIRE_MESSAGE(j.is_object(), r.output);
  return j;
}

// A fresh emulated drive owned with password "admin-pw", Locking SP active.
struct OwnedDrive {
  Scratch scratch;
  std::string file = scratch.path("drive.img");
  std::string dev = "emu:" + file;
  std::string psid = scratch.file("psid", "PSID-LABEL-0123456789");
  std::string admin = scratch.file("admin", "admin-pw");
  std::string wrong = scratch.file("wrong", "not-the-pw");
  explicit OwnedDrive(const std::string& size = "64M") {
    Run r = cli("opal emu-create " + file + " --size " + size + " --psid-file " + psid);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output == dev + "\n");
    r = cli("opal setup " + dev + " --key-file " + admin);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
  nlohmann::json status() {
    Run r = cli("opal status --json " + dev + " --key-file " + admin);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    return json_of(r);
  }
};

}  // namespace

TEST_CASE("opal discover on a factory-fresh emulated drive and on things that are not Opal drives") {
  Scratch scratch;
  std::string file = scratch.path("d.img");
  std::string psid = scratch.file("psid", "PSID");
  REQUIRE(cli("opal emu-create " + file + " --size 8M --psid-file " + psid).exit_code == 0);
  Run r = cli("opal discover --json emu:" + file);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  nlohmann::json j = json_of(r);
  CHECK(j["opal"] == true);
  CHECK(j["ssc"] == "Opal 2");
  CHECK(j["locking"]["supported"] == true);
  CHECK(j["locking"]["enabled"] == false);
  CHECK(j["user_authorities"].get<int>() >= 1);

  r = cli("opal discover emu:" + scratch.path("missing.img"));
  CHECK(r.exit_code == 4);
  CHECK_MESSAGE(one_error_line(r.output), r.output);
  CHECK(has(r, "missing.img"));

  // Not a drive file, not an NVMe device: refused in one line, never a crash.
  std::string junk = scratch.file("junk.img", std::string(2 << 20, 'x'));
  r = cli("opal discover emu:" + junk);
  CHECK(r.exit_code == 1);
  CHECK(one_error_line(r.output));
  CHECK(has(r, "not an emulated Opal drive"));
  r = cli("opal discover " + junk);
  CHECK(r.exit_code != 0);
  CHECK_MESSAGE(one_error_line(r.output), r.output);

  r = cli("opal emu-create " + file + " --size 8M --psid-file " + psid);
  CHECK(r.exit_code == 5);  // exists
  CHECK(one_error_line(r.output));
}

TEST_CASE("opal setup, lock, unlock, status, erase-range and the errors a user meets") {
  OwnedDrive d;
  nlohmann::json st = d.status();
  CHECK(st["locking_sp_active"] == true);

  // Already owned: a wrong password is NOT_AUTHORIZED, exit 2, one line naming the drive.
  Run r = cli("opal setup " + d.dev + " --key-file " + d.wrong);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(one_error_line(r.output), r.output);
  CHECK(has(r, d.dev));
  CHECK(has(r, "NOT_AUTHORIZED"));

  r = cli("opal setup " + d.dev + " --key-file " + d.admin + " --range 1 --start 40960 --length 8192");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  r = cli("opal setup " + d.dev + " --key-file " + d.admin + " --range 2 --start 45000 --length 100");
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(one_error_line(r.output), r.output);
  CHECK(has(r, "overlap"));

  r = cli("opal lock " + d.dev + " --range 1 --key-file " + d.wrong);
  CHECK(r.exit_code == 2);
  CHECK(has(r, "NOT_AUTHORIZED for Admin1"));
  REQUIRE(cli("opal lock " + d.dev + " --range 1 --key-file " + d.admin).exit_code == 0);
  st = d.status();
  CHECK(st["locked"] == true);
  CHECK(st["ranges"][1]["start"] == 40960);
  CHECK(st["ranges"][1]["length"] == 8192);
  CHECK(st["ranges"][1]["read_locked"] == true);
  CHECK(st["ranges"][1]["write_locked"] == true);
  Run text = cli("opal status " + d.dev + " --key-file " + d.admin);
  CHECK_MESSAGE(has(text, "range 1: [40960, 49152): read LOCKED write LOCKED"), text.output);

  r = cli("opal unlock " + d.dev + " --range 1 --key-file " + d.wrong);
  CHECK(r.exit_code == 2);
  CHECK(has(r, "NOT_AUTHORIZED for Admin1"));
  REQUIRE(cli("opal unlock " + d.dev + " --range 1 --key-file " + d.admin).exit_code == 0);
  // Every process that opens an emulated drive file powers the drive on, and the range's
  // LockOnReset locks it again (Opal 4.3.5.2): an unlock lasts as long as its process —
  // which is why `open` unlocks inside the serving daemon.
  st = d.status();
  CHECK(st["ranges"][1]["read_locked"] == true);

  // Destructive actions want confirmation; a script must say --batch-mode.
  r = cli("opal erase-range " + d.dev + " --range 1 --key-file " + d.admin);
  CHECK(r.exit_code != 0);
  CHECK(one_error_line(r.output));
  r = cli("opal erase-range -q " + d.dev + " --range 1 --key-file " + d.admin);
  CHECK_MESSAGE(r.exit_code == 0, r.output);

  r = cli("opal lock " + d.dev + " --range 1 --user 1 --key-file " + d.admin);
  CHECK(r.exit_code == 2);  // User1 is not enabled: no password works
  CHECK(one_error_line(r.output));
}

TEST_CASE("opal revert and psid-revert return the drive to factory state") {
  OwnedDrive d;
  Run r = cli("opal psid-revert -q " + d.dev + " --key-file " + d.wrong);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(one_error_line(r.output), r.output);
  CHECK(has(r, "PSID"));
  r = cli("opal psid-revert -q " + d.dev + " --key-file " + d.psid);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(json_of(cli("opal status --json " + d.dev))["locking_sp_active"] == false);

  // Factory state again: setup takes ownership afresh; revert with the SID password.
  REQUIRE(cli("opal setup " + d.dev + " --key-file " + d.wrong).exit_code == 0);
  r = cli("opal revert -q " + d.dev + " --key-file " + d.admin);
  CHECK(r.exit_code == 2);
  r = cli("opal revert -q " + d.dev + " --key-file " + d.wrong);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(json_of(cli("opal status --json " + d.dev))["locking_sp_active"] == false);
}

TEST_CASE("format --hw-opal: the range covers the data segment, the keyslot unlocks it, close locks it") {
  OwnedDrive d;
  std::string key = d.scratch.file("key", "volume passphrase");
  const std::string fast = " --pbkdf pbkdf2 --pbkdf-force-iterations 1000";
  Run r = cli("format -q --hw-opal --opal-admin-key-file " + d.admin + " --key-file " + key + fast + " " + d.dev);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  nlohmann::json st = d.status();
  CHECK(st["ranges"][1]["start"] == 32768);            // 16 MiB: the header stays outside
  CHECK(st["ranges"][1]["length"] == 131072 - 32768);  // to the end of the 64 MiB drive
  CHECK(st["ranges"][1]["read_locked"] == true);

  SUBCASE("open's unlock path unlocks the range as User1 and lock() locks it again") {
    std::string pass = "volume passphrase";
    UnlockedVolume volume;
    std::unique_ptr<OpalRangeHold> hold;
    Status s = unlock_backing_volume(d.dev, bytes(pass), std::nullopt, &volume, &hold);
    REQUIRE_MESSAGE(s.ok(), s.message());
    REQUIRE(hold);
    CHECK(hold->backend() == "");  // software aes-xts on top of the drive
    CHECK(volume.spec.mode == CipherMode::aes_xts_plain64);
    CHECK(volume.data_offset_bytes == 16u << 20);
    CHECK(volume.size_bytes == (64u << 20) - (16u << 20));
    CHECK(volume.key.size() == 64);
    REQUIRE(hold->lock().ok());
    hold.reset();
    CHECK(d.status()["ranges"][1]["read_locked"] == true);

    s = unlock_backing_volume(d.dev, bytes(std::string("wrong")), std::nullopt, &volume, &hold);
    CHECK(s.code() == Errc::permission);
    CHECK_MESSAGE(s.message().find("wrong passphrase for " + d.dev) != std::string::npos, s.message());
    CHECK(!hold);
  }
  SUBCASE("a second volume's range may not overlap the first") {
    r = cli("format -q --hw-opal --opal-range 2 --opal-admin-key-file " + d.admin + " --key-file " + key + fast +
                  " " + d.dev);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(one_error_line(r.output), r.output);
    CHECK(has(r, "overlap"));
  }
  SUBCASE("a wrong admin password changes nothing") {
    r = cli("format -q --hw-opal --opal-admin-key-file " + d.wrong + " --key-file " + key + fast + " " + d.dev);
    CHECK(r.exit_code == 2);
    CHECK(has(r, "NOT_AUTHORIZED for Admin1"));
    std::string pass = "volume passphrase";
    UnlockedVolume volume;
    std::unique_ptr<OpalRangeHold> hold;
    CHECK(unlock_backing_volume(d.dev, bytes(pass), std::nullopt, &volume, &hold).ok());
  }
}

TEST_CASE("format --hw-opal refuses a drive whose Locking SP is not active, naming the fix") {
  Scratch scratch;
  std::string file = scratch.path("d.img");
  std::string psid = scratch.file("psid", "PSID");
  std::string key = scratch.file("key", "pw");
  REQUIRE(cli("opal emu-create " + file + " --size 32M --psid-file " + psid).exit_code == 0);
  Run r = cli("format -q --hw-opal-only --opal-admin-key-file " + key + " --key-file " + key + " emu:" + file);
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(one_error_line(r.output), r.output);
  CHECK(has(r, "ublkcrypt opal setup emu:" + file));
}

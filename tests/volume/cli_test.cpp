// The ublkcrypt binary as a user runs it: cryptsetup's verbs, exit codes and one-line
// messages, with cryptsetup as the oracle on image files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/volume/scratch.h"

using namespace ublkcrypt::test;

namespace {

const std::string kFast = " --pbkdf pbkdf2 --pbkdf-force-iterations 1000";

// Standard input is never a terminal here, as in a script.
Run cli(const std::string& args) {
  return run(std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null");
}

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1 && s.rfind("ublkcrypt: ", 0) == 0;
}

bool cryptsetup_accepts(const std::string& img, const std::string& key_file) {
  return run("cryptsetup open --test-passphrase --key-file " + key_file + " " + img).exit_code ==
         0;
}

}  // namespace

TEST_CASE("format makes a volume cryptsetup opens; refuses existing content without --batch-mode") {
  Scratch scratch;
  std::string key = scratch.file("key", "passphrase one");
  std::string img = scratch.image("img", 32 << 20);
  Run r = cli("format --key-file " + key + kFast + " --sector-size 4096 " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.empty());
  CHECK(cryptsetup_accepts(img, key));
  CHECK(run("cryptsetup luksDump " + img).output.find("sector: 4096 [bytes]") != std::string::npos);

  r = cli("format --key-file " + key + kFast + " " + img);
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(one_line(r.output), r.output);
  CHECK(r.output.find("already holds a LUKS2 header") != std::string::npos);
  CHECK(r.output.find("--batch-mode") != std::string::npos);

  std::string ext4 = scratch.image("ext4", 32 << 20);
  REQUIRE(run("mkfs.ext4 -q -F " + ext4).exit_code == 0);
  r = cli("format --key-file " + key + kFast + " " + ext4);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("an ext2/3/4 filesystem") != std::string::npos);
  CHECK(run("cryptsetup isLuks " + ext4).exit_code != 0);

  r = cli("format --batch-mode --key-file " + key + kFast + " " + ext4);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(cryptsetup_accepts(ext4, key));

  r = cli("format -q --cipher serpent-cbc-random --key-file " + key + " " + img);
  CHECK(r.exit_code == 1);
  CHECK(one_line(r.output));
  CHECK(r.output.find("serpent-cbc-random") != std::string::npos);
  CHECK(cryptsetup_accepts(img, key));  // untouched
}

TEST_CASE("keyslot verbs interoperate with cryptsetup and fail with cryptsetup's exit codes") {
  Scratch scratch;
  std::string one = scratch.file("one", "passphrase one");
  std::string two = scratch.file("two", "passphrase two");
  std::string three = scratch.file("three", "passphrase three");
  std::string wrong = scratch.file("wrong", "not it");
  std::string img = scratch.image("img", 32 << 20);
  REQUIRE(run(luks_format_command(img, one, "aes-xts-plain64", 512, 512)).exit_code == 0);

  Run r = cli("add-key --key-file " + one + " --new-keyfile " + two + " -S 4" + kFast +
                    " " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(cryptsetup_accepts(img, two));
  CHECK(run("cryptsetup luksDump " + img).output.find("  4: luks2") != std::string::npos);

  r = cli("add-key --key-file " + wrong + " --new-keyfile " + three + kFast + " " + img);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(one_line(r.output), r.output);
  CHECK(r.output.find("wrong passphrase") != std::string::npos);

  r = cli("add-key --key-file " + scratch.path("missing") + " " + img + " " + three);
  CHECK(r.exit_code == 1);
  CHECK(r.output == "ublkcrypt: key file " + scratch.path("missing") +
                        ": No such file or directory\n");

  r = cli("change-key --key-file " + two + kFast + " " + img + " " + three);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK_FALSE(cryptsetup_accepts(img, two));
  CHECK(cryptsetup_accepts(img, three));

  r = cli("remove-key --key-file " + one + " " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK_FALSE(cryptsetup_accepts(img, one));

  // Only one slot left: removing it needs confirmation.
  r = cli("remove-key --key-file " + three + " " + img);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("last keyslot") != std::string::npos);
  CHECK(cryptsetup_accepts(img, three));

  // cryptsetup adds a slot, we kill the other one with a remaining passphrase.
  REQUIRE(run("cryptsetup luksAddKey " + std::string(kFastKdf) + " --key-file " + three + " " +
              img + " " + one).exit_code == 0);
  std::string slot_of_three =
      run("cryptsetup open --test-passphrase -v --key-file " + three + " " + img).output;
  size_t at = slot_of_three.find("Key slot ");
  REQUIRE(at != std::string::npos);
  std::string slot = slot_of_three.substr(at + 9, slot_of_three.find(' ', at + 9) - at - 9);
  r = cli("kill-slot --key-file " + one + " " + img + " " + slot);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK_FALSE(cryptsetup_accepts(img, three));
  CHECK(cryptsetup_accepts(img, one));

  r = cli("kill-slot -q " + img + " 9");
  CHECK(r.exit_code == 4);
  CHECK(r.output == "ublkcrypt: kill slot of " + img + ": key slot 9 is not active\n");
}

TEST_CASE("dump, uuid, is-luks, header backup and restore, erase") {
  Scratch scratch;
  std::string key = scratch.file("key", "pw");
  std::string img = scratch.image("img", 32 << 20);
  REQUIRE(run(luks_format_command(img, key, "aes-cbc-essiv:sha256", 256, 512)).exit_code == 0);

  Run r = cli("uuid " + img);
  CHECK(r.exit_code == 0);
  CHECK(r.output == run("cryptsetup luksUUID " + img).output);

  r = cli("dump --json " + img);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.output)["segments"]["0"]["encryption"] == "aes-cbc-essiv:sha256");
  r = cli("dump " + img);
  CHECK(r.output.find("cipher: aes-cbc-essiv:sha256") != std::string::npos);

  CHECK(cli("is-luks " + img).exit_code == 0);
  r = cli("is-luks " + key);
  CHECK(r.exit_code == 1);
  CHECK(r.output.empty());
  r = cli("dump " + scratch.path("nothing"));
  CHECK(r.exit_code == 4);
  CHECK(r.output == "ublkcrypt: device " + scratch.path("nothing") +
                        ": No such file or directory\n");

  std::string backup = scratch.path("hdr");
  REQUIRE(cli("header-backup --header-backup-file " + backup + " " + img).exit_code == 0);
  CHECK(run("cryptsetup isLuks " + backup).exit_code == 0);
  r = cli("header-backup --header-backup-file " + backup + " " + img);
  CHECK(r.exit_code == 5);
  CHECK(one_line(r.output));

  r = cli("erase " + img);
  CHECK(r.exit_code == 1);
  CHECK(cryptsetup_accepts(img, key));
  REQUIRE(cli("erase --batch-mode " + img).exit_code == 0);
  CHECK_FALSE(cryptsetup_accepts(img, key));

  r = cli("header-restore --header-backup-file " + backup + " " + img);
  CHECK(r.exit_code == 1);  // a header is there: needs confirmation
  REQUIRE(cli("header-restore -q --header-backup-file " + backup + " " + img).exit_code == 0);
  CHECK(cryptsetup_accepts(img, key));
}

TEST_CASE("option errors get one line and cryptsetup's exit code 1, not the parser's own") {
  for (const char* args : {"status --no-such-option", "open only-one-argument", "no-such-verb",
                           "format", "dump --key-slot x y"}) {
    Run r = cli(args);
    CHECK_MESSAGE(r.exit_code == 1, args, ": ", r.exit_code);
    CHECK_MESSAGE(one_line(r.output), args, ": ", r.output);
  }
  CHECK(cli("--help").exit_code == 0);
  CHECK(cli("status --help").exit_code == 0);
}

TEST_CASE("help lists the verbs like cryptsetup's") {
  Run r = cli("--help");
  for (const char* verb : {"format", "dump", "is-luks", "uuid", "add-key", "remove-key",
                           "change-key", "kill-slot", "erase", "header-backup", "header-restore"})
    CHECK_MESSAGE(r.output.find(verb) != std::string::npos, verb);
  r = cli("format --help");
  CHECK(r.output.find("--pbkdf") != std::string::npos);
  CHECK(r.output.find("aes-xts-plain64") != std::string::npos);
}

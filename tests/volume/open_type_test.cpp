// `open --type luks1` / `--type luks2` insist on that header version and `--type luks` takes
// either, as cryptsetup does; cryptsetup itself, run on the same images, is the oracle for
// the exit code. The refusal comes before any passphrase is tried: a wrong one then gets
// exit 2, which shows the type check let the volume through.
#include <doctest/doctest.h>

#include <string>

#include "tests/volume/scratch.h"

using namespace ublkcrypt::test;

namespace {

Run cli(const std::string& args) { return run(std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null"); }

std::string formatted(const Scratch& scratch, const std::string& type, const std::string& key_file) {
  const std::string img = scratch.image(type, 32 << 20);
  Run made = run("cryptsetup luksFormat -q --type " + type + " " + kFastKdf + " --key-file " + key_file + " " + img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  return img;
}

}  // namespace

TEST_CASE("open --type luks1/luks2 refuses the other header version with cryptsetup's exit code") {
  Scratch scratch;
  const std::string key_file = scratch.file("pass", "pw");
  const std::string wrong = scratch.file("wrong", "nope");
  const std::string luks1 = formatted(scratch, "luks1", key_file);
  const std::string luks2 = formatted(scratch, "luks2", key_file);

  struct Mismatch {
    std::string type, img, have, want;
  };
  for (const Mismatch& m : {Mismatch{"luks2", luks1, "LUKS1", "LUKS2"}, Mismatch{"luks1", luks2, "LUKS2", "LUKS1"}}) {
    CAPTURE(m.type);
    Run oracle = run("cryptsetup open --test-passphrase --type " + m.type + " --key-file " + key_file + " " + m.img);
    Run r = cli("open --type " + m.type + " --key-file " + key_file + " " + m.img + " typetest");
    CHECK(oracle.exit_code == 1);
    CHECK(r.exit_code == oracle.exit_code);
    CHECK(r.output == "ublkcrypt: device " + m.img + ": " + m.have + " header, not the " + m.want + " --type " +
                          m.type + " asks for (--type luks opens either)\n");
  }

  // The matching type, and luks for both: past the check, the wrong passphrase is what fails.
  struct Match {
    std::string type, img;
  };
  for (const Match& m : {Match{"luks1", luks1}, Match{"luks2", luks2}, Match{"luks", luks1}, Match{"luks", luks2}}) {
    CAPTURE(m.type);
    CAPTURE(m.img);
    Run r = cli("open --type " + m.type + " --key-file " + wrong + " " + m.img + " typetest");
    CHECK_MESSAGE(r.exit_code == 2, r.output);
  }
}

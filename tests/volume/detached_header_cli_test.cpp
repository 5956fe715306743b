// `--header FILE` (a detached LUKS header, issue 18) in every verb that takes a device, as a
// user runs the ublkcrypt binary, with cryptsetup on the same files as the oracle; and the
// refusals `open` gives before it needs a ublk device: the data device without its header,
// a header file that is not LUKS, a missing one, another volume's header.
#include <doctest/doctest.h>

#include "tests/volume/scratch.h"

using namespace ublkcrypt::test;

namespace {

const std::string kFast = std::string(" ") + kFastKdf;

// Standard input is never a terminal here, as in a script; the run state goes to the scratch.
Run cli(const Scratch& scratch, const std::string& args) {
  return run("UBLKCRYPT_RUN_DIR=" + scratch.path("run") + " UBLKCRYPT_DEV_DIR=" + scratch.path("dev") + " " +
             std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null");
}

// cryptsetup's verdict on a passphrase file for the volume with its header in `hdr`.
bool cryptsetup_opens(const std::string& img, const std::string& hdr, const std::string& key_file) {
  return run("cryptsetup open --test-passphrase --header " + hdr + " --key-file " + key_file + " " + img).exit_code ==
         0;
}

}  // namespace

TEST_CASE("format --header makes a detached header cryptsetup opens; the header verbs work on it") {
  for (const std::string type : {"luks2", "luks1"}) {
    CAPTURE(type);
    Scratch scratch;
    const std::string img = scratch.image("img", 8 << 20);
    const std::string hdr = scratch.path("hdr");
    const std::string key = scratch.file("key", "first");
    const std::string key2 = scratch.file("key2", "second");
    const std::string key3 = scratch.file("key3", "third");

    Run r = cli(scratch, "format --type " + type + " --header " + hdr + " --key-file " + key + kFast + " " + img);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(all_zero(img));
    CHECK(cryptsetup_opens(img, hdr, key));
    CHECK(run("cryptsetup isLuks " + img).exit_code != 0);
    // The header is what a second format would overwrite: it asks about the header.
    r = cli(scratch, "format --type " + type + " --header " + hdr + " --key-file " + key2 + kFast + " " + img);
    CHECK(r.exit_code == 1);
    CHECK(one_error_line(r.output));
    CHECK(r.output.find(hdr + " already holds a " + (type == "luks2" ? "LUKS2" : "LUKS1") + " header") !=
          std::string::npos);
    CHECK(cryptsetup_opens(img, hdr, key));

    // is-luks and uuid read the header, as cryptsetup isLuks/luksUUID --header do.
    CHECK(cli(scratch, "is-luks " + img).exit_code == 1);
    CHECK(cli(scratch, "is-luks --header " + hdr + " " + img).exit_code == 0);
    r = cli(scratch, "uuid --header " + hdr + " " + img);
    CHECK(r.exit_code == 0);
    CHECK(r.output == run("cryptsetup luksUUID --header " + hdr + " " + img).output);
    r = cli(scratch, "dump --header " + hdr + " " + img);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find(type == "luks2" ? "offset: 0 [bytes]" : "Payload offset:\t0") != std::string::npos);

    // The key verbs change the header file, and cryptsetup sees each change.
    r = cli(scratch, "add-key --header " + hdr + " --key-file " + key + kFast + " " + img + " " + key2);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(cryptsetup_opens(img, hdr, key2));
    r = cli(scratch, "change-key --header " + hdr + " --key-file " + key2 + kFast + " " + img + " " + key3);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(cryptsetup_opens(img, hdr, key3));
    CHECK_FALSE(cryptsetup_opens(img, hdr, key2));
    r = cli(scratch, "remove-key --header " + hdr + " " + img + " " + key3);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK_FALSE(cryptsetup_opens(img, hdr, key3));
    r = cli(scratch, "add-key --header " + hdr + " --key-file " + key + " --key-slot 5" + kFast + " " + img + " " +
                         key2);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    r = cli(scratch, "kill-slot --header " + hdr + " --key-file " + key + " " + img + " 5");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK_FALSE(cryptsetup_opens(img, hdr, key2));
    CHECK(cryptsetup_opens(img, hdr, key));

    // Backup and restore move the detached header, never the data device.
    const std::string backup = scratch.path("backup");
    r = cli(scratch, "header-backup --header " + hdr + " --header-backup-file " + backup + " " + img);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    r = cli(scratch, "erase -q --header " + hdr + " " + img);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK_FALSE(cryptsetup_opens(img, hdr, key));
    r = cli(scratch, "header-restore -q --header " + hdr + " --header-backup-file " + backup + " " + img);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(cryptsetup_opens(img, hdr, key));
    CHECK(all_zero(img));
  }
}

TEST_CASE("format --header --offset starts the data where cryptsetup's --offset does") {
  Scratch scratch;
  const std::string img = scratch.image("img", 8 << 20);
  const std::string key = scratch.file("key", "pw");
  Run r = cli(scratch, "format --header " + scratch.path("ours") + " --offset 4096 --key-file " + key + kFast + " " +
                           img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  Run made = run("cryptsetup luksFormat -q --header " + scratch.path("theirs") + " --offset 4096 --key-file " + key +
                 kFast + " " + img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  const auto offset_line = [](const std::string& dump) {
    const size_t at = dump.find("offset: ");
    return at == std::string::npos ? std::string() : dump.substr(at, dump.find('\n', at) - at);
  };
  const std::string ours = offset_line(run("cryptsetup luksDump " + scratch.path("ours")).output);
  CHECK(ours == "offset: 2097152 [bytes]");
  CHECK(ours == offset_line(run("cryptsetup luksDump " + scratch.path("theirs")).output));
}

TEST_CASE("open refuses the data device without its header, and a wrong header, in one line each") {
  Scratch scratch;
  const std::string img = scratch.image("img", 8 << 20);
  const std::string hdr = scratch.path("hdr");
  const std::string key = scratch.file("key", "pw");
  Run made = run("cryptsetup luksFormat -q --header " + hdr + " --key-file " + key + kFast + " " + img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);

  // cryptsetup's own answers on the same files are the oracle for each exit code.
  struct Case {
    std::string what, args, oracle_args, message;
    int exit_code;
  };
  const std::string other_img = scratch.image("other", 8 << 20);
  const std::string other_hdr = scratch.path("other.hdr");
  made = run("cryptsetup luksFormat -q --header " + other_hdr + " --key-file " + scratch.file("okey", "not pw") +
             kFast + " " + other_img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  const std::string zeros = scratch.image("zeros", 1 << 20);
  const std::string missing = scratch.path("missing");
  for (const Case& c : {
           Case{"no --header", img, img, "ublkcrypt: device " + img + ": not a LUKS device (no valid LUKS header found)\n",
                1},
           Case{"a header file that is not LUKS", "--header " + zeros + " " + img, "--header " + zeros + " " + img,
                "ublkcrypt: header " + zeros + ": not a LUKS header (no valid LUKS header found)\n", 1},
           Case{"a missing header file", "--header " + missing + " " + img, "--header " + missing + " " + img,
                "ublkcrypt: header " + missing + ": No such file or directory\n", 4},
           Case{"another volume's header", "--header " + other_hdr + " " + img, "--header " + other_hdr + " " + img,
                "ublkcrypt: wrong passphrase for " + img + " (no key slot matches)\n", 2},
       }) {
    CAPTURE(c.what);
    Run oracle = run("cryptsetup open --test-passphrase --key-file " + key + " " + c.oracle_args);
    Run r = cli(scratch, "open --key-file " + key + " " + c.args + " hdrtest");
    CHECK(r.exit_code == c.exit_code);
    CHECK(oracle.exit_code == c.exit_code);
    CHECK(one_error_line(r.output));
    CHECK(r.output == c.message);
  }

  // --type luks1 checks the detached header's version before the passphrase, naming the header.
  Run r = cli(scratch, "open --type luks1 --header " + hdr + " --key-file " + key + " " + img + " hdrtest");
  CHECK(r.exit_code == 1);
  CHECK(r.output == "ublkcrypt: header " + hdr + ": LUKS2 header, not the LUKS1 --type luks1 asks for (--type luks "
                                                 "opens either)\n");
  r = cli(scratch, "open --type plain --header " + hdr + " --key-file " + key + " " + img + " hdrtest");
  CHECK(r.exit_code == 1);
  CHECK(r.output == "ublkcrypt: --header: a plain volume has no header\n");
}

TEST_CASE("an rbd image with --header is refused in one line") {
  Scratch scratch;
  for (const std::string verb : {"format -q", "dump", "add-key"}) {
    CAPTURE(verb);
    Run r = cli(scratch, verb + " --header " + scratch.path("hdr") + " rbd:pool/image");
    CHECK(r.exit_code == 1);
    CHECK(r.output == "ublkcrypt: --header " + scratch.path("hdr") +
                          ": rbd:pool/image is an rbd image, whose LUKS header stays on the image\n");
  }
}

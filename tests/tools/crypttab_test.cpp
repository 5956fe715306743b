// The crypttab-format file of attach-all and detach-all (tools/crypttab.h): good lines with
// every option, comments and blank lines, UUID= devices, and the lines that are refused,
// each with the file and line in its one-line error. Then the verbs as a user runs them,
// on the host (no ublk here): what they refuse before opening anything.
#include "tools/crypttab.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "tests/volume/scratch.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

CrypttabEntry only_entry(const std::string& text) {
  std::vector<CrypttabEntry> entries = parse_crypttab(text, "/etc/ct");
  REQUIRE(entries.size() == 1);
  return entries[0];
}

std::string error_of(const std::string& line) {
  CrypttabEntry e = only_entry(line);
  CHECK(e.error.code() == Errc::invalid_argument);
  return e.error.message();
}

}  // namespace

TEST_CASE("comments and blank lines are not entries; lines keep their numbers") {
  std::vector<CrypttabEntry> entries = parse_crypttab(
      "# name device keyfile options\n"
      "\n"
      "   \t\n"
      "  # indented comment\n"
      "data /dev/sdb /etc/keys/data.key luks\n"
      "scratch\t/dev/sdc  none\n",
      "/etc/ct");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].where == "/etc/ct:5");
  CHECK(entries[0].error.ok());
  CHECK(entries[0].open.name == "data");
  CHECK(entries[0].open.device == "/dev/sdb");
  CHECK(entries[0].open.key.key_file == "/etc/keys/data.key");
  CHECK(entries[0].open.type == "luks");
  CHECK(entries[1].where == "/etc/ct:6");
  CHECK(entries[1].open.name == "scratch");
  CHECK(entries[1].open.key.key_file.empty());  // none: asked for
  CHECK(parse_crypttab("", "/etc/ct").empty());
  CHECK(parse_crypttab("# only\n\n", "/etc/ct").empty());
}

TEST_CASE("the defaults: two fields, keyfile - or none, options - ") {
  CrypttabEntry e = only_entry("v /dev/sdb");
  CHECK(e.error.ok());
  CHECK(e.open.key.key_file.empty());
  CHECK(e.open.type == "luks");
  CHECK_FALSE(e.noauto);
  CHECK_FALSE(e.nofail);
  CHECK_FALSE(e.open.read_only);
  CHECK_FALSE(e.open.allow_discards);
  CHECK(only_entry("v /dev/sdb -").open.key.key_file.empty());
  CHECK(only_entry("v /dev/sdb none -").error.ok());
  CHECK(only_entry("v /dev/sdb none luks,,").error.ok());  // empty options are nothing
}

TEST_CASE("every option") {
  CrypttabEntry e = only_entry(
      "scratch UUID=0b1c2d3e-aaaa-bbbb-cccc-0123456789ab /k plain,cipher=aes-xts-plain64,size=512,"
      "hash=sha256,offset=2048,skip=16,sector-size=4096,readonly,discard,noauto,nofail,"
      "keyfile-offset=7,keyfile-size=64,tries=3\n");
  REQUIRE(e.error.ok());
  CHECK(e.open.device == "UUID=0b1c2d3e-aaaa-bbbb-cccc-0123456789ab");  // resolved when opened
  CHECK(e.open.type == "plain");
  CHECK(e.open.plain.cipher == "aes-xts-plain64");
  CHECK(e.open.plain.key_bits == 512);
  CHECK(e.open.plain.hash == "sha256");
  CHECK(e.open.plain.offset == 2048);
  CHECK(e.open.plain.skip == 16);
  CHECK(e.open.plain.sector_size == 4096);
  CHECK(e.open.read_only);
  CHECK(e.open.allow_discards);
  CHECK(e.noauto);
  CHECK(e.nofail);
  CHECK(e.open.key.keyfile_offset == 7);
  CHECK(e.open.key.keyfile_size == 64);
  CHECK(only_entry("v /dev/sdb none read-only").open.read_only);
  CHECK(only_entry("v /dev/sdb none luks,header=/etc/keys/v.hdr").open.header == "/etc/keys/v.hdr");
  CHECK(only_entry("v /dev/sdb none header=").error.message().find("'header=' needs a value") != std::string::npos);
  CHECK(only_entry("v /dev/sdb none plain,luks").open.type == "luks");  // the last one says
}

TEST_CASE("tcrypt lines: the key file is the passphrase, keyfiles come as options") {
  CrypttabEntry e = only_entry(
      "tc /dev/sdb /etc/keys/tc.pass tcrypt,tcrypt-keyfile=/etc/keys/a,tcrypt-keyfile=/etc/keys/b,"
      "tcrypt-hidden,tcrypt-veracrypt,veracrypt-pim=7\n");
  REQUIRE(e.error.ok());
  CHECK(e.open.type == "tcrypt");
  CHECK(e.open.key.key_file == "/etc/keys/tc.pass");
  CHECK(e.open.tcrypt.keyfiles == std::vector<std::string>{"/etc/keys/a", "/etc/keys/b"});
  CHECK(e.open.tcrypt.hidden);
  CHECK(e.open.tcrypt.veracrypt);
  CHECK(e.open.tcrypt.veracrypt_pim == 7);
  CHECK_FALSE(e.open.tcrypt.system);
  CHECK(only_entry("tc /dev/sdb none tcrypt,tcrypt-system").open.tcrypt.system);
  CHECK(only_entry("tc /dev/sdb none tcrypt,veracrypt-pim=x").error.message().find(
            "'veracrypt-pim=x' needs a number") != std::string::npos);
  CHECK(only_entry("tc /dev/sdb none tcrypt,tcrypt-keyfile=").error.message().find(
            "'tcrypt-keyfile=' needs a value") != std::string::npos);
}

TEST_CASE("refused lines name the file, the line and the cause") {
  std::vector<CrypttabEntry> entries =
      parse_crypttab("good /dev/sdb\n# c\nbad /dev/sdc none luks,frobnicate,nofail\nalso /dev/sdd\n", "/etc/ct");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].error.ok());
  CHECK(entries[1].error.message() == "/etc/ct:3: unknown option 'frobnicate'");
  CHECK(entries[2].error.ok());  // the lines after a bad one are read

  CHECK(error_of("v /dev/sdb none tpm2-device=auto") == "/etc/ct:1: unknown option 'tpm2-device=auto'");
  CHECK(error_of("v") == "/etc/ct:1: expected NAME DEVICE [KEYFILE [OPTIONS]], found 1 field");
  CHECK(error_of("v /dev/sdb none luks extra") ==
        "/etc/ct:1: expected NAME DEVICE [KEYFILE [OPTIONS]], found 5 fields");
  CHECK(error_of("v /dev/sdb none size=abc") == "/etc/ct:1: option 'size=abc' needs a number");
  CHECK(error_of("v /dev/sdb none size=260") ==
        "/etc/ct:1: option 'size=260': key size must be a positive multiple of 8 bits");
  CHECK(error_of("v /dev/sdb none size=0") ==
        "/etc/ct:1: option 'size=0': key size must be a positive multiple of 8 bits");
  CHECK(error_of("v /dev/sdb none offset=-1") == "/etc/ct:1: option 'offset=-1' needs a number");
  CHECK(error_of("v /dev/sdb none skip") == "/etc/ct:1: option 'skip' needs a number");
  CHECK(error_of("v /dev/sdb none sector-size=99999999999") ==
        "/etc/ct:1: option 'sector-size=99999999999' needs a number");
  CHECK(error_of("v /dev/sdb none keyfile-size=1k") == "/etc/ct:1: option 'keyfile-size=1k' needs a number");
  CHECK(error_of("v /dev/sdb none tries=x") == "/etc/ct:1: option 'tries=x' needs a number");
  CHECK(error_of("v /dev/sdb none cipher=") == "/etc/ct:1: option 'cipher=' needs a value");
  CHECK(error_of("v /dev/sdb none hash") == "/etc/ct:1: option 'hash' needs a value");
  CHECK(error_of("v /dev/sdb none discard=yes") == "/etc/ct:1: option 'discard=yes' takes no value");
  CHECK(error_of("v /dev/sdb none luks=2") == "/etc/ct:1: option 'luks=2' takes no value");
}

TEST_CASE("UUID= resolves through by-uuid links, then libblkid; paths stay as written") {
  Scratch scratch;
  std::string dir = scratch.path("by-uuid");
  REQUIRE(run("mkdir -p " + dir + " && touch " + scratch.path("disk") + " && ln -s ../disk " + dir + "/1234-abcd").exit_code == 0);
  std::string out;
  REQUIRE(resolve_crypttab_device("UUID=1234-abcd", dir, &out).ok());
  CHECK(out == dir + "/1234-abcd");
  REQUIRE(resolve_crypttab_device("/dev/sdb", dir, &out).ok());
  CHECK(out == "/dev/sdb");
  Status s = resolve_crypttab_device("UUID=00000000-0000-4000-8000-00000000dead", dir, &out);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "device UUID=00000000-0000-4000-8000-00000000dead: no block device has this UUID");
  CHECK(resolve_crypttab_device("UUID=", dir, &out).code() == Errc::invalid_argument);
  CHECK(resolve_crypttab_device("UUID=../x", dir, &out).code() == Errc::invalid_argument);
}

TEST_CASE("a file that cannot be read is named") {
  std::vector<CrypttabEntry> entries;
  Status s = read_crypttab("/nonexistent/crypttab", &entries);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message().find("/nonexistent/crypttab") != std::string::npos);
}

TEST_CASE("attach-all and detach-all refuse what they cannot open, line by line, before any disk") {
  Scratch scratch;
  setenv("UBLKCRYPT_RUN_DIR", scratch.path("run").c_str(), 1);
  setenv("UBLKCRYPT_DEV_DIR", scratch.path("dev").c_str(), 1);
  REQUIRE(run("mkdir -p " + scratch.path("run") + " " + scratch.path("dev")).exit_code == 0);
  const std::string bin = UBLKCRYPT_BINARY;
  // A bad option: exit 1, the line named. The noauto line is passed by.
  std::string bad = scratch.file("bad", "skipped /nonexistent/dev /k luks,noauto\nbroken /dev/null /k luks,bogus\n");
  Run r = run(bin + " attach-all --crypttab " + bad + " </dev/null");
  CHECK(r.exit_code == 1);
  CHECK(r.output == "ublkcrypt: " + bad + ":2: unknown option 'bogus'\n");
  // A passphrase to ask for and no terminal: skipped with one line, exit 2; nofail: exit 0.
  std::string ask = scratch.file("ask", "asked /dev/null none luks\n");
  r = run(bin + " attach-all --crypttab " + ask + " </dev/null");
  CHECK(r.exit_code == 2);
  CHECK(r.output == "ublkcrypt: " + ask +
                        ":1: asked: needs a passphrase and standard input is not a terminal; skipped\n");
  std::string ask_nofail = scratch.file("ask_nofail", "asked /dev/null none luks,nofail\n");
  r = run(bin + " attach-all --crypttab " + ask_nofail + " </dev/null");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("(nofail)") != std::string::npos);
  // Nothing open: detach-all has nothing to do; the bad line still fails it.
  std::string quiet = scratch.file("quiet", "a /dev/null /k\nb /dev/null /k plain\n");
  r = run(bin + " detach-all --crypttab " + quiet);
  CHECK(r.exit_code == 0);
  CHECK(r.output == "");
  r = run(bin + " detach-all --crypttab " + bad);
  CHECK(r.exit_code == 1);
  // No file.
  r = run(bin + " attach-all --crypttab " + scratch.path("missing"));
  CHECK(r.exit_code == 4);
  CHECK(r.output.find(scratch.path("missing")) != std::string::npos);
}

// The server's exclusive claim on its backing (tools/serve/backing_claim.h): two opens of
// one image file — by any path, from any process — and a loop device held exclusively or
// mounted, each refused with busy and one line naming the holder; and `ublkcrypt open` of a
// claimed image exits 5 before it asks for a passphrase. (Before, open went on to unlock a
// backing another process was serving, and failed only at the missing ublk driver here.)
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/volume/scratch.h"
#include "tools/serve/backing_claim.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

Status claim(const std::string& path, bool read_only, std::unique_ptr<BackingClaim>* out) {
  return BackingClaim::acquire(path, read_only, out);
}

}  // namespace

TEST_CASE("an image file is claimed once, whatever path names it") {
  Scratch scratch;
  const std::string img = scratch.image("img", 1 << 20);
  std::unique_ptr<BackingClaim> first, second;
  REQUIRE(claim(img, false, &first).ok());
  CHECK(first->ino() != 0);

  Status s = claim(img, false, &second);
  CHECK(s.code() == Errc::busy);
  CHECK(s.message() == img + ": in use, locked by another process");
  CHECK(claim(img, true, &second).code() == Errc::busy);

  std::filesystem::create_symlink(img, scratch.path("link"));
  std::filesystem::create_hard_link(img, scratch.path("hard"));
  CHECK(claim(scratch.path("link"), false, &second).code() == Errc::busy);
  CHECK(claim(scratch.path("hard"), false, &second).code() == Errc::busy);

  first.reset();
  REQUIRE(claim(scratch.path("hard"), false, &second).ok());
  CHECK(second->ino() != 0);
}

TEST_CASE("read-only claims share an image; a read-write one excludes them") {
  Scratch scratch;
  const std::string img = scratch.image("img", 1 << 20);
  std::unique_ptr<BackingClaim> a, b, c;
  REQUIRE(claim(img, true, &a).ok());
  REQUIRE(claim(img, true, &b).ok());
  CHECK(claim(img, false, &c).code() == Errc::busy);
}

TEST_CASE("a claim held by another process") {
  Scratch scratch;
  const std::string img = scratch.image("img", 1 << 20);
  int ready[2], done[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(done) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::unique_ptr<BackingClaim> held;
    char c = BackingClaim::acquire(img, false, &held).ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(done[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  std::unique_ptr<BackingClaim> mine;
  Status s = claim(img, false, &mine);
  CHECK(s.code() == Errc::busy);
  (void)!::write(done[1], "x", 1);
  ::waitpid(pid, nullptr, 0);
  CHECK(claim(img, false, &mine).ok());  // the holder's exit released it
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
}

TEST_CASE("missing backings and other file types") {
  Scratch scratch;
  std::unique_ptr<BackingClaim> c;
  CHECK(claim(scratch.path("missing"), false, &c).code() == Errc::not_found);
  Status s = claim(scratch.path(""), false, &c);
  CHECK(s.code() == Errc::invalid_argument);
}

TEST_CASE("a loop device: held exclusively, then mounted") {
  Scratch scratch;
  const std::string img = scratch.image("img", 32 << 20);
  Run loop = run("losetup -f --show " + img);
  if (loop.exit_code != 0) {
    MESSAGE("skipped: no loop device here: " << loop.output);
    return;
  }
  const std::string dev = loop.output.substr(0, loop.output.find('\n'));
  {
    std::unique_ptr<BackingClaim> first, second;
    REQUIRE(claim(dev, false, &first).ok());
    CHECK(first->block_device());
    Status s = claim(dev, false, &second);
    CHECK(s.code() == Errc::busy);
    CHECK(s.message() == dev + ": in use, held open exclusively by a process");
  }
  const std::string mnt = scratch.path("mnt");
  std::filesystem::create_directory(mnt);
  if (run("mkfs.ext4 -q -F " + dev + " && mount " + dev + " " + mnt).exit_code == 0) {
    std::unique_ptr<BackingClaim> c;
    Status s = claim(dev, true, &c);
    CHECK(s.code() == Errc::busy);
    CHECK(s.message() == dev + ": in use, mounted on " + mnt);
    run("umount " + mnt);
  } else {
    MESSAGE("skipped the mount: mkfs.ext4 or mount failed here");
  }
  run("losetup -d " + dev);
}

TEST_CASE("ublkcrypt open of a claimed image: exit 5, one line, before any passphrase") {
  Scratch scratch;
  const std::string img = scratch.image("img", 32 << 20);
  const std::string key = scratch.file("key", "pw");
  REQUIRE(run(luks_format_command(img, key, "aes-xts-plain64", 512, 512)).exit_code == 0);
  std::unique_ptr<BackingClaim> held;
  REQUIRE(claim(img, false, &held).ok());
  // No --key-file and no terminal: had it asked for the passphrase, it would fail on that.
  Run r = run(std::string(UBLKCRYPT_BINARY) + " open " + img + " claimtest </dev/null");
  CHECK(r.exit_code == 5);
  CHECK(r.output == "ublkcrypt: " + img + ": in use, locked by another process\n");
}

TEST_CASE("ublkcrypt format of a claimed image: exit 5, one line, not a byte written") {
  Scratch scratch;
  const std::string img = scratch.image("img", 32 << 20);
  const std::string key = scratch.file("key", "pw");
  REQUIRE(run(luks_format_command(img, key, "aes-xts-plain64", 512, 512)).exit_code == 0);
  const std::string before = run("sha256sum < " + img).output;
  std::unique_ptr<BackingClaim> held;
  REQUIRE(claim(img, false, &held).ok());
  Run r = run(std::string(UBLKCRYPT_BINARY) + " format -q --key-file " + key + " " + img +
              " </dev/null");
  CHECK(r.exit_code == 5);
  CHECK(r.output == "ublkcrypt: format: " + img + ": in use, locked by another process\n");
  CHECK(run("sha256sum < " + img).output == before);
  held.reset();  // released: format goes ahead
  CHECK(run(std::string(UBLKCRYPT_BINARY) + " format -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file " +
            key + " " + img + " </dev/null").exit_code == 0);
  CHECK(run("sha256sum < " + img).output != before);
}

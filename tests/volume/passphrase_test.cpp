// Passphrase input from key files and standard input, with cryptsetup's rules.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "tests/volume/scratch.h"
#include "tools/passphrase.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

static std::string text(const SecureBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST_CASE("a key file is read exactly, newline included, within size and offset") {
  Scratch scratch;
  std::string file = scratch.file("key", "0123456789\n");
  SecureBytes out;
  REQUIRE(read_passphrase({file, 0, 0}, "", Verify::no, &out).ok());
  CHECK(text(out) == "0123456789\n");
  REQUIRE(read_passphrase({file, 4, 2}, "", Verify::no, &out).ok());
  CHECK(text(out) == "2345");

  Status s = read_passphrase({file, 20, 0}, "", Verify::no, &out);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "key file " + file + ": 11 bytes, shorter than --keyfile-size 20");
  CHECK(out.empty());
}

TEST_CASE("a key file that does not exist is a wrong parameter naming it") {
  SecureBytes out;
  Status s = read_passphrase({"/nonexistent/key", 0, 0}, "", Verify::no, &out);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "key file /nonexistent/key: No such file or directory");
  Scratch scratch;
  s = read_passphrase({scratch.file("empty", ""), 0, 0}, "", Verify::no, &out);
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("empty") != std::string::npos);
}

TEST_CASE("standard input: all of it with --key-file -, one line without a key file") {
  Scratch scratch;
  std::string file = scratch.file("stdin", "first line\nsecond line\n");
  int saved = dup(STDIN_FILENO);
  int fd = open(file.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  dup2(fd, STDIN_FILENO);
  SecureBytes out;
  REQUIRE(read_passphrase({}, "", Verify::no, &out).ok());
  CHECK(text(out) == "first line");
  REQUIRE(read_passphrase({}, "", Verify::no, &out).ok());
  CHECK(text(out) == "second line");
  Status s = read_passphrase({}, "", Verify::no, &out);
  CHECK(s.code() == Errc::invalid_argument);

  lseek(STDIN_FILENO, 0, SEEK_SET);
  REQUIRE(read_passphrase({"-", 0, 0}, "", Verify::no, &out).ok());
  CHECK(text(out) == "first line\nsecond line\n");
  dup2(saved, STDIN_FILENO);
  close(saved);
  close(fd);
}

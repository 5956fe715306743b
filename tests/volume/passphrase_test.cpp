// Passphrase input from key files and standard input, with cryptsetup's rules.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
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

namespace {

// Kilobytes of this process's memory locked now (VmLck).
long locked_kb() {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f != nullptr && fgets(line, sizeof line, f) != nullptr) {
    if (sscanf(line, "VmLck: %ld kB", &kb) == 1) break;
  }
  if (f != nullptr) fclose(f);
  return kb;
}

}  // namespace

TEST_CASE("a key file locks what its key needs, not its 8 MiB limit, from a file or a pipe") {
  Scratch scratch;
  const std::string file = scratch.file("key", "a short passphrase");
  const long before = locked_kb();
  REQUIRE(before >= 0);
  SecureBytes out;
  REQUIRE(read_passphrase({file, 0, 0}, "", Verify::no, &out).ok());
  CHECK(text(out) == "a short passphrase");
  const long held = locked_kb() - before;
  CHECK_MESSAGE(held <= 16, "a 18-byte key file held " << held << " kB locked");
  out.reset();

  // Through a pipe, a key larger than the first buffer: grown, every byte kept, in order.
  std::string big(100000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  int p[2];
  REQUIRE(pipe(p) == 0);
  const int saved = dup(STDIN_FILENO);
  dup2(p[0], STDIN_FILENO);
  close(p[0]);
  // The pipe buffer (64 KiB) is smaller than the key: write from a child.
  pid_t child = fork();
  if (child == 0) {
    close(STDIN_FILENO);
    size_t at = 0;
    while (at < big.size()) {
      ssize_t n = write(p[1], big.data() + at, big.size() - at);
      if (n <= 0) _exit(1);
      at += size_t(n);
    }
    _exit(0);
  }
  close(p[1]);
  Status s = read_passphrase({"-", 0, 0}, "", Verify::no, &out);
  dup2(saved, STDIN_FILENO);
  close(saved);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(s.ok());
  CHECK(text(out) == big);
  const long held_big = locked_kb() - before;
  CHECK_MESSAGE(held_big <= 256, "a 100000-byte key held " << held_big << " kB locked");
}

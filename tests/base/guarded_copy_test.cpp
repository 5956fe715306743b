// guarded_copy against a real shrinking file: the kernel's SIGBUS, not a simulated one.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/guarded_copy.h"

using namespace ublkcrypt;

namespace {

constexpr size_t kBytes = 64 * 1024;

// A file of kBytes of 0x5A, mapped shared; the file is unlinked at once.
struct MappedTemp {
  MappedTemp() {
    char path[] = "/dev/shm/guarded-copy-XXXXXX";
    fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::unlink(path);
    std::vector<uint8_t> pattern(kBytes, 0x5A);
    REQUIRE(::pwrite(fd, pattern.data(), kBytes, 0) == ssize_t(kBytes));
    void* p = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(p != MAP_FAILED);
    map = static_cast<uint8_t*>(p);
  }
  ~MappedTemp() {
    ::munmap(map, kBytes);
    ::close(fd);
  }
  int fd = -1;
  uint8_t* map = nullptr;
};

}  // namespace

TEST_CASE("guarded_copy copies what the mapping holds, both ways") {
  MappedTemp file;
  std::vector<uint8_t> out(kBytes, 0);
  CHECK(guarded_copy(out.data(), file.map, kBytes));
  CHECK(out == std::vector<uint8_t>(kBytes, 0x5A));
  std::vector<uint8_t> in(kBytes, 0xC3);
  CHECK(guarded_copy(file.map, in.data(), kBytes));
  std::vector<uint8_t> back(kBytes);
  REQUIRE(::pread(file.fd, back.data(), kBytes, 0) == ssize_t(kBytes));
  CHECK(back == in);
}

TEST_CASE("guarded_copy returns false where the file shrank, and the thread goes on") {
  MappedTemp file;
  REQUIRE(::ftruncate(file.fd, 16384) == 0);
  std::vector<uint8_t> out(kBytes, 0);
  CHECK(guarded_copy(out.data(), file.map, 16384));   // still inside the file
  CHECK_FALSE(guarded_copy(out.data(), file.map, kBytes));  // reads past its new end
  CHECK_FALSE(guarded_copy(file.map + 32768, out.data(), 4096));  // writes past it
  // Again, and on another thread: the handler is re-armed and per thread.
  CHECK_FALSE(guarded_copy(out.data(), file.map + 20480, 4096));
  bool other = true;
  std::thread([&] { other = guarded_copy(out.data(), file.map + 40960, 4096); }).join();
  CHECK_FALSE(other);
  CHECK(guarded_copy(out.data(), file.map, 4096));
}

TEST_CASE("a SIGBUS outside guarded_copy still ends the process") {
  MappedTemp file;
  std::vector<uint8_t> out(16);
  REQUIRE(guarded_copy(out.data(), file.map, 16));  // the handler is installed
  REQUIRE(::ftruncate(file.fd, 0) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);  // a sanitizer's report is expected
    if (null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
    volatile uint8_t sink = file.map[100];  // unguarded: must not be swallowed
    (void)sink;
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  // Killed by SIGBUS; under a sanitizer, its report and a non-zero exit instead.
  CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

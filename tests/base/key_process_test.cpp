// protect_key_process(), as the volume server uses it: a process holding a live software
// session (OpenSSL's expanded key on its heap) with core dumps switched on, as by
// `ulimit -c unlimited`, leaves no core when it dies of SIGSEGV, and every copy of the key
// in its memory lies in locked pages counted by VmLck. The same process without the call is
// the negative control: it dumps core and holds the key in unlocked pages, so both checks
// are proven able to fail.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "backends/software/software_provider.h"
#include "base/key_process.h"

using namespace ublkcrypt;

namespace {

// AES-256-XTS: two 32-byte keys. The first 16 bytes of each are the first round key of its
// encryption schedule and the last of its decryption schedule, so wherever OpenSSL keeps a
// schedule, these bytes are there verbatim.
constexpr size_t kKeyBytes = 64;

// AddressSanitizer turns mlock and mlockall into no-ops: there, only the no-core half holds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
uint8_t key_byte(size_t i) { return uint8_t(0xA5 ^ (i * 37 + 11)); }

// The child: holds a session, reports ready, waits to be killed. Never returns.
[[noreturn]] void hold_a_key(const std::string& dir, bool protect, int ready_fd) {
  auto die = [ready_fd](const std::string& why) {
    (void)!::write(ready_fd, why.data(), why.size());
    ::_exit(1);
  };
  ::signal(SIGSEGV, SIG_DFL);  // doctest's crash handler is inherited; the server has none
  if (::chdir(dir.c_str()) != 0) die("chdir");
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  if (::setrlimit(RLIMIT_CORE, &unlimited) != 0) die("setrlimit");
  if (protect) {
    KeyProcessProtection p;
    if (Status s = protect_key_process(&p); !s.ok()) die(s.message());
    if (!p.all_memory_locked && !kSanitized) die("not all memory locked: " + p.note);
  }
  Registry registry;
  registry.add(make_software_provider(2));
  SecureBytes key;
  if (!SecureBytes::allocate(kKeyBytes, &key).ok()) die("key");
  for (size_t i = 0; i < kKeyBytes; ++i) key.data()[i] = key_byte(i);
  CipherSpec spec;
  if (!CipherSpec::parse("aes-xts-plain64", 512, 4096, &spec).ok()) die("spec");
  std::unique_ptr<Session> session;
  if (Status s = registry.open_session(spec, key.view(), {}, &session); !s.ok()) die(s.message());
  key.reset();
  std::vector<uint8_t> plain(4096, 7), cipher(4096);
  if (Status s = session->run({Direction::encrypt, plain.data(), cipher.data(), 0, 1}); !s.ok()) die(s.message());
  (void)!::write(ready_fd, "r", 1);
  for (;;) ::pause();
}

struct Mapping {
  uint64_t start = 0, end = 0;
  bool readable = false;
  uint64_t rss_kb = 0;
  bool locked = false;  // VmFlags "lo"
  std::string name;
};

std::vector<Mapping> mappings_of(pid_t pid) {
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(smaps, line)) {
    unsigned long long a, b;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s", &a, &b, perms) == 3 && line.find(':') > line.find(' ')) {
      Mapping m;
      m.start = a;
      m.end = b;
      m.readable = perms[0] == 'r';
      size_t last = line.find_last_of(' ');
      m.name = last != std::string::npos && last + 1 < line.size() ? line.substr(last + 1) : "";
      out.push_back(m);
    } else if (!out.empty() && line.rfind("Rss:", 0) == 0) {
      out.back().rss_kb = std::stoull(line.substr(4));
    } else if (!out.empty() && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream flags(line.substr(8));
      for (std::string f; flags >> f;) out.back().locked |= f == "lo";
    }
  }
  return out;
}

uint64_t vm_lck_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

struct KeyCopies {
  int locked = 0, unlocked = 0;
  uint64_t mapping_kb = 0;  // the size of every mapping a copy lies in
};

// Reads the resident mappings of `pid` through /proc/PID/mem (present pages only, from
// pagemap) and finds the key's 16-byte marks. Mappings over 1 GiB are ASan's shadow, never
// the heap: skipped.
KeyCopies find_key(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  int mem = ::open((proc + "/mem").c_str(), O_RDONLY);
  int pagemap = ::open((proc + "/pagemap").c_str(), O_RDONLY);
  REQUIRE(mem >= 0);
  REQUIRE(pagemap >= 0);
  uint8_t marks[2][16];
  for (size_t i = 0; i < 16; ++i) {
    marks[0][i] = key_byte(i);
    marks[1][i] = key_byte(32 + i);
  }
  KeyCopies copies;
  std::vector<uint8_t> page(4096);
  for (const Mapping& m : mappings_of(pid)) {
    if (!m.readable || m.rss_kb == 0 || m.name == "[vvar]" || m.name == "[vsyscall]") continue;
    if (m.end - m.start > (uint64_t{1} << 30)) continue;
    bool counted = false;
    std::vector<uint64_t> present((m.end - m.start) / 4096);
    if (::pread(pagemap, present.data(), present.size() * 8, off_t(m.start / 4096 * 8)) !=
        ssize_t(present.size() * 8)) {
      continue;
    }
    for (uint64_t at = m.start; at < m.end; at += 4096) {
      if (!(present[(at - m.start) / 4096] >> 63 & 1)) continue;
      if (::pread(mem, page.data(), page.size(), off_t(at)) != ssize_t(page.size())) continue;
      for (const auto& mark : marks) {
        for (auto it = page.begin();
             (it = std::search(it, page.end(), std::begin(mark), std::end(mark))) != page.end(); ++it) {
          (m.locked ? copies.locked : copies.unlocked)++;
          if (!counted) copies.mapping_kb += (m.end - m.start) / 1024;
          counted = true;
        }
      }
    }
  }
  ::close(mem);
  ::close(pagemap);
  return copies;
}

struct Outcome {
  KeyCopies copies;
  uint64_t vm_lck_kb = 0;
  bool core_dumped = false;  // the kernel's word (WCOREDUMP)
  bool core_file = false;    // core_pattern here is "core": a file in the child's directory
};

Outcome run_child(bool protect) {
  const std::string dir = std::filesystem::temp_directory_path() / ("key_process_test." + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directory(dir);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    hold_a_key(dir, protect, p[1]);
  }
  ::close(p[1]);
  pollfd pfd{p[0], POLLIN, 0};
  char buf[256] = {};
  ssize_t n = ::poll(&pfd, 1, 30000) == 1 ? ::read(p[0], buf, sizeof(buf) - 1) : -1;
  ::close(p[0]);
  Outcome out;
  if (n == 1 && buf[0] == 'r') {
    out.copies = find_key(pid);
    out.vm_lck_kb = vm_lck_kb(pid);
  }
  ::kill(pid, SIGSEGV);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE_MESSAGE(n == 1, "the child did not get ready: " << (n > 0 ? buf : "no answer"));
  CHECK(WIFSIGNALED(status));
  out.core_dumped = WIFSIGNALED(status) && WCOREDUMP(status);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out.core_file |= entry.path().filename().string().rfind("core", 0) == 0;
  }
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace

TEST_CASE("a key-holding process protected by protect_key_process: no core on SIGSEGV, the key only in locked pages") {
  Outcome control = run_child(false);
  MESSAGE("control: key copies locked " << control.copies.locked << ", unlocked " << control.copies.unlocked
                                        << "; core dumped " << control.core_dumped);
  // The search sees OpenSSL's schedules on the ordinary heap: the check below can fail.
  CHECK(control.copies.unlocked > 0);

  Outcome guarded = run_child(true);
  MESSAGE("protected: key copies locked " << guarded.copies.locked << ", unlocked " << guarded.copies.unlocked
                                          << " in " << guarded.copies.mapping_kb << " kB of mappings; VmLck "
                                          << guarded.vm_lck_kb << " kB; core dumped " << guarded.core_dumped);
  if (kSanitized) {
    MESSAGE("ASan build: mlockall is a no-op here, the locked-memory half is checked in the release build");
  } else {
    CHECK(guarded.copies.locked > 0);
    CHECK(guarded.copies.unlocked == 0);
    CHECK(guarded.vm_lck_kb >= guarded.copies.mapping_kb);
  }
  CHECK_FALSE(guarded.core_dumped);
  CHECK_FALSE(guarded.core_file);

  // The no-core half means something only where the unprotected process does dump (not
  // under ASan, which turns core dumps off; not where core_pattern discards them).
  if (!control.core_dumped) {
    MESSAGE("the unprotected control dumped no core here (ASan, or core_pattern): the no-core check is blind");
  }
}

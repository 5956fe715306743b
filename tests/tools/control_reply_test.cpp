// The CLI reading a server's answer it did not expect (issue 15): `status`, `close`,
// `migrate`, `suspend` and `resume` run as a user runs them, against a fake server holding the name's lock and
// socket, which answers with wrong types, broken JSON or a refusal. Each ends with one line
// and cryptsetup's exit code, never an uncaught exception (abort, exit 134).
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "tests/volume/scratch.h"
#include "tools/serve/run_state.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

// A server for "vol" (a LUKS2 volume, by its run state) that answers one request with
// `answer` (and a newline).
class FakeServer {
 public:
  explicit FakeServer(const std::string& answer) {
    setenv("UBLKCRYPT_RUN_DIR", scratch_.path("").c_str(), 1);
    setenv("UBLKCRYPT_DEV_DIR", scratch_.path("").c_str(), 1);
    REQUIRE(NameLock::try_lock(lock_path("vol"), &lock_).ok());
    RunState state;
    state.name = "vol";
    state.pid = getpid();
    state.type = "LUKS2";
    state.backing = state.backing_path = scratch_.path("missing.img");
    REQUIRE(write_state(state).ok());
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path("vol").c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(listen_fd_, 1) == 0);
    thread_ = std::thread([this, answer] {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      char c;
      while (read(client, &c, 1) == 1 && c != '\n') {
      }
      const std::string line = answer + "\n";
      (void)!write(client, line.data(), line.size());
      close(client);
    });
  }
  ~FakeServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
    unsetenv("UBLKCRYPT_RUN_DIR");
    unsetenv("UBLKCRYPT_DEV_DIR");
  }

 private:
  Scratch scratch_;
  NameLock lock_;
  int listen_fd_ = -1;
  std::thread thread_;
};

Run cli(const std::string& args) { return run(std::string(UBLKCRYPT_BINARY) + " " + args); }

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

}  // namespace

namespace {

// What the fake server answers, the verb run, and the exit code and line expected (`line`
// whole, or `part` within one line).
struct Case {
  const char* answer;
  const char* verb;
  int exit_code;
  const char* line;
  const char* part;
};

void check(const Case& c) {
  CAPTURE(c.answer);
  FakeServer server(c.answer);
  Run r = cli(c.verb);
  CHECK(r.exit_code == c.exit_code);
  if (c.line != nullptr) CHECK(r.output == std::string("ublkcrypt: ") + c.line + "\n");
  if (c.part != nullptr) {
    CHECK(one_line(r.output));
    CHECK(r.output.find(c.part) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("status: a field of the wrong type, counters that are no object, an answer that is not JSON") {
  check({R"({"device":5,"counters":{"reads":"many"}})", "status vol", 1,
         "status vol: malformed answer from the server ([json.exception.type_error.302] type must be string, but is "
         "number)",
         nullptr});
  check({R"({"device":"/dev/ublkb0","counters":[1]})", "status vol", 1, nullptr,
         "status vol: malformed answer from the server"});
  check({R"({"device":)", "status vol", 1, "status vol: malformed answer from the server", nullptr});
}

TEST_CASE("close: an 'ok' that is not a boolean; a refusal keeps its code, any other code is an I/O error") {
  check({R"({"ok":"yes"})", "close vol", 1, "close vol: malformed answer from the server", nullptr});
  check({R"({"ok":false,"code":6,"error":"Device vol is still in use"})", "close vol", 5,
         "Device vol is still in use", nullptr});
  check({R"({"ok":false,"code":"busy","error":"two\nlines"})", "close vol", 4, "two lines", nullptr});
  check({R"({"ok":false,"code":99})", "close vol", 4, "close vol: refused by the server", nullptr});
}

TEST_CASE("migrate: an answer that is an array, and a provider of the wrong type") {
  check({"[1,2]", "migrate vol --backend software", 1, "migrate vol: malformed answer from the server", nullptr});
  check({R"({"ok":true,"provider":{}})", "migrate vol --backend software", 1, nullptr,
         "migrate vol: malformed answer from the server"});
}

TEST_CASE("suspend and resume: the server's refusals, and resume of a volume that is not suspended") {
  check({R"({"ok":false,"code":1,"error":"Volume vol is already suspended"})", "suspend vol", 1,
         "Volume vol is already suspended", nullptr});
  check({R"({"ok":"no"})", "suspend vol", 1, "suspend vol: malformed answer from the server", nullptr});
  // Asked before any passphrase: an active volume has nothing to resume.
  check({R"({"state":"active","counters":{}})", "resume vol </dev/null", 1, "Volume vol is not suspended", nullptr});
  check({R"({"state":7})", "resume vol </dev/null", 1, nullptr, "status vol: malformed answer from the server"});
}

TEST_CASE("suspend and resume of a name nothing serves") {
  Scratch scratch;
  setenv("UBLKCRYPT_RUN_DIR", scratch.path("").c_str(), 1);
  for (const char* verb : {"suspend", "resume"}) {
    Run r = cli(std::string(verb) + " nothing </dev/null");
    CHECK(r.exit_code == 4);
    CHECK(r.output == "ublkcrypt: Device nothing is not active\n");
  }
  unsetenv("UBLKCRYPT_RUN_DIR");
}

// `close` of a name whose server died, racing an `open` of the same name (issue 15): the
// open is played at the pause point between close's "not served" and its cleanup, so the
// interleaving that used to delete the new server's state and symlink happens every run.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "base/pause_point.h"
#include "tests/tools/temp_run_dir.h"
#include "tools/serve/dead_server.h"
#include "tools/serve/run_state.h"
#include "tools/serve/volume_server.h"

using namespace ublkcrypt;
using ublkcrypt::test::TempRunDir;

namespace {

pid_t dead_pid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

std::string link_target(const std::string& link) {
  char buf[PATH_MAX];
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, size_t(n));
}

// A server that ran under `name` as ublk device `dev_id` and died: its lock file (free),
// state and symlink stay.
void leave_dead_server(const std::string& name, uint32_t dev_id) {
  NameLock lock;
  REQUIRE(NameLock::try_lock(lock_path(name), &lock).ok());
  RunState st;
  st.name = name;
  st.pid = dead_pid();
  st.dev_id = dev_id;
  st.device = "/dev/ublkb" + std::to_string(dev_id);
  st.backing = "/tmp/old.img";
  REQUIRE(write_state(st).ok());
  REQUIRE(symlink(st.device.c_str(), link_path(name).c_str()) == 0);
}

// The other party: an `open` of "vol" doing what serve_volume does with the name — take its
// lock (and keep it, as a server does for its life), clean up before itself, publish.
NameLock opener_lock;
bool opener_got_lock = false;
void open_same_name(const char* point) {
  if (std::string(point) != "close.dead-found") return;
  opener_got_lock = NameLock::try_lock(lock_path("vol"), &opener_lock).ok();
  if (!opener_got_lock) return;  // a server that cannot take the name does not start
  clean_stale_name("vol");
  RunState st;
  st.name = "vol";
  st.pid = getpid();
  st.dev_id = 1;
  st.device = "/dev/ublkb1";
  st.backing = "/tmp/new.img";
  (void)write_state(st);
  (void)symlink(st.device.c_str(), link_path("vol").c_str());
}

}  // namespace

TEST_CASE("close of a dead server's name leaves alone the state of an open that started meanwhile") {
  TempRunDir tmp;
  leave_dead_server("vol", 0);
  PauseHook before = set_pause_hook(open_same_name);
  const DeadServerCleanup result = clean_up_dead_server("vol");
  set_pause_hook(before);

  // The open started in the window and got the name: the close must treat it as live.
  REQUIRE(opener_got_lock);
  CHECK(result == DeadServerCleanup::served);
  RunState now;
  REQUIRE_MESSAGE(read_state("vol", &now).ok(), "the new server's state was deleted");
  CHECK(now.pid == getpid());
  CHECK(now.device == "/dev/ublkb1");
  CHECK_MESSAGE(link_target(link_path("vol")) == "/dev/ublkb1", "the new server's symlink was deleted");
  opener_lock.release();
}

TEST_CASE("close of a dead server's name removes its state and symlink") {
  TempRunDir tmp;
  leave_dead_server("vol", 0);
  CHECK(clean_up_dead_server("vol") == DeadServerCleanup::cleaned);
  RunState now;
  CHECK(read_state("vol", &now).code() == Errc::not_found);
  struct stat st;
  CHECK(lstat(link_path("vol").c_str(), &st) != 0);
  // Nothing left: a second close says so.
  CHECK(clean_up_dead_server("vol") == DeadServerCleanup::not_active);
}

TEST_CASE("close of a name never opened is 'not active' and creates nothing") {
  TempRunDir tmp;
  CHECK(clean_up_dead_server("never") == DeadServerCleanup::not_active);
  struct stat st;
  CHECK(stat(lock_path("never").c_str(), &st) != 0);
}

TEST_CASE("close of a name a live server holds asks that server") {
  TempRunDir tmp;
  NameLock live;
  REQUIRE(NameLock::try_lock(lock_path("vol"), &live).ok());
  CHECK(clean_up_dead_server("vol") == DeadServerCleanup::served);
}

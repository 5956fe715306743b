#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <string>

#include "tests/tools/temp_run_dir.h"
#include "tools/serve/run_state.h"

using namespace ublkcrypt;
using ublkcrypt::test::TempRunDir;

TEST_CASE("names: what can become a file and a symlink") {
  CHECK(check_name("vol-1_a.b").ok());
  CHECK(check_name("").code() == Errc::invalid_argument);
  CHECK(check_name("../etc").code() == Errc::invalid_argument);
  CHECK(check_name("a/b").code() == Errc::invalid_argument);
  CHECK(check_name(".hidden").code() == Errc::invalid_argument);
  CHECK(check_name("-opt").code() == Errc::invalid_argument);
  CHECK(check_name(std::string(65, 'x')).code() == Errc::invalid_argument);
  CHECK(check_name(std::string(64, 'x')).ok());
}

TEST_CASE("state round-trips through its file; missing state is 'not active'") {
  TempRunDir tmp;
  RunState in;
  in.name = "vol";
  in.pid = 1234;
  in.dev_id = 7;
  in.device = "/dev/ublkb7";
  in.backing = "/tmp/a.img";
  in.backing_dev = 2049;
  in.backing_ino = 99;
  in.type = "LUKS";
  in.cipher = "aes-xts-plain64";
  in.key_bits = 512;
  in.sector_size = 4096;
  in.size_bytes = 1 << 30;
  in.data_offset = 16 << 20;
  in.iv_offset = 77;
  in.queues = 2;
  in.depth = 128;
  in.allow_discards = true;
  REQUIRE(write_state(in).ok());

  RunState out;
  REQUIRE(read_state("vol", &out).ok());
  CHECK(out.pid == 1234);
  CHECK(out.dev_id == 7);
  CHECK(out.device == "/dev/ublkb7");
  CHECK(out.backing_dev == 2049);
  CHECK(out.backing_ino == 99);
  CHECK(out.sector_size == 4096);
  CHECK(out.size_bytes == (1u << 30));
  CHECK(out.data_offset == (16u << 20));
  CHECK(out.iv_offset == 77);
  CHECK(out.allow_discards);
  CHECK_FALSE(out.read_only);
  CHECK(state_names() == std::vector<std::string>{"vol"});

  remove_state("vol");
  Status s = read_state("vol", &out);
  CHECK(s.code() == Errc::not_found);
  CHECK(s.message() == "Device vol is not active");
}

TEST_CASE("a malformed state file is corrupt, named by path") {
  TempRunDir tmp;
  FILE* f = fopen((tmp.dir + "/bad.json").c_str(), "w");
  REQUIRE(f != nullptr);
  fputs("{\"name\": 3", f);
  fclose(f);
  RunState out;
  Status s = read_state("bad", &out);
  CHECK(s.code() == Errc::corrupt);
  CHECK(s.message().find("bad.json") != std::string::npos);
}

TEST_CASE("the name lock: held means served, released means free") {
  TempRunDir tmp;
  CHECK_FALSE(name_is_served("vol"));
  NameLock daemon;
  REQUIRE(NameLock::try_lock(lock_path("vol"), &daemon).ok());
  CHECK(name_is_served("vol"));
  NameLock second;
  CHECK(NameLock::try_lock(lock_path("vol"), &second).code() == Errc::busy);
  CHECK(NameLock::lock(lock_path("vol"), 50, &second).code() == Errc::timeout);
  daemon.release();
  CHECK_FALSE(name_is_served("vol"));
  CHECK(NameLock::try_lock(lock_path("vol"), &second).ok());
}

TEST_CASE("remove_state deletes our symlink but never a non-link in its place") {
  TempRunDir tmp;
  REQUIRE(symlink("/dev/ublkb0", link_path("vol").c_str()) == 0);
  remove_state("vol");
  struct stat st;
  CHECK(lstat(link_path("vol").c_str(), &st) != 0);

  FILE* f = fopen(link_path("vol").c_str(), "w");
  REQUIRE(f != nullptr);
  fclose(f);
  remove_state("vol");
  CHECK(lstat(link_path("vol").c_str(), &st) == 0);
}

TEST_CASE("the state and lock files never follow a link planted at their names") {
  TempRunDir tmp;
  // A victim with content, linked from where the state is written before its rename.
  const std::string victim = tmp.dir + "/victim";
  FILE* f = fopen(victim.c_str(), "w");
  REQUIRE(f != nullptr);
  fputs("precious\n", f);
  fclose(f);
  REQUIRE(symlink(victim.c_str(), (state_path("vol") + ".tmp").c_str()) == 0);
  RunState st;
  st.name = "vol";
  st.pid = 1;
  st.device = "/dev/ublkb0";
  st.backing = "/tmp/a.img";
  REQUIRE(write_state(st).ok());
  f = fopen(victim.c_str(), "r");
  char line[64] = {};
  REQUIRE(f != nullptr);
  CHECK(fgets(line, sizeof line, f) != nullptr);
  fclose(f);
  CHECK(std::string(line) == "precious\n");
  struct stat sb;
  REQUIRE(lstat(state_path("vol").c_str(), &sb) == 0);
  CHECK(S_ISREG(sb.st_mode));

  // The lock: a link to a file that does not exist is neither followed nor created.
  const std::string elsewhere = tmp.dir + "/created-through-the-link";
  REQUIRE(symlink(elsewhere.c_str(), lock_path("other").c_str()) == 0);
  NameLock lock;
  CHECK_FALSE(NameLock::try_lock(lock_path("other"), &lock).ok());
  CHECK(stat(elsewhere.c_str(), &sb) != 0);
}

TEST_CASE("suspend, resume and refresh --persistent need a LUKS header: one line naming the device") {
  RunState st;
  st.name = "vol";
  st.type = "LUKS";
  CHECK(require_luks_header(st, "suspend").ok());
  for (const char* type : {"plain", "TCRYPT"}) {
    st.type = type;
    const Status s = require_luks_header(st, "refresh --persistent");
    CHECK(s.code() == Errc::invalid_argument);
    CHECK(s.message() == fmt::format("Device vol is a {} volume: refresh --persistent needs a LUKS header", type));
  }
}

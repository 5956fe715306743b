// A private /run/ublkcrypt and /dev/ublkcrypt for one test case (UBLKCRYPT_RUN_DIR and
// UBLKCRYPT_DEV_DIR point into a fresh temporary directory, removed at the end).
#pragma once

#include <stdlib.h>

#include <string>

namespace ublkcrypt::test {

struct TempRunDir {
  TempRunDir() {
    char tmpl[] = "/tmp/ublkcrypt-rundir-XXXXXX";
    dir = mkdtemp(tmpl);
    setenv("UBLKCRYPT_RUN_DIR", dir.c_str(), 1);
    setenv("UBLKCRYPT_DEV_DIR", dir.c_str(), 1);
  }
  ~TempRunDir() {
    std::string cmd = "rm -rf '" + dir + "'";
    [[maybe_unused]] int rc = system(cmd.c_str());
    unsetenv("UBLKCRYPT_RUN_DIR");
    unsetenv("UBLKCRYPT_DEV_DIR");
  }
  TempRunDir(const TempRunDir&) = delete;
  TempRunDir& operator=(const TempRunDir&) = delete;
  std::string dir;
};

}  // namespace ublkcrypt::test

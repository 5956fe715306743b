#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/secure_bytes.h"

using namespace ublkcrypt;

TEST_CASE("SecureBytes holds a copy in locked memory and moves without copying") {
  std::vector<uint8_t> key(64);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7);
  SecureBytes a;
  REQUIRE(SecureBytes::copy_of(key, &a).ok());
  CHECK(a.size() == 64);
  CHECK(std::memcmp(a.data(), key.data(), 64) == 0);

  // mincore reports the page resident; locked pages stay resident.
  unsigned char vec = 0;
  long page = sysconf(_SC_PAGESIZE);
  auto* base = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(a.data()) & ~(page - 1));
  REQUIRE(mincore(base, static_cast<size_t>(page), &vec) == 0);
  CHECK((vec & 1) == 1);

  const uint8_t* where = a.data();
  SecureBytes b = std::move(a);
  CHECK(a.empty());
  CHECK(b.data() == where);
  b.truncate(16);
  CHECK(b.size() == 16);
  b.reset();
  CHECK(b.empty());
}

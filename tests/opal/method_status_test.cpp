// Every TCG method status code has its name and error class (Core Spec 2.01, 5.1.5).
#include <doctest/doctest.h>

#include <string>

#include "backends/opal/method_status.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;

TEST_CASE("each status code is named and classified") {
  struct Row {
    uint8_t code;
    const char* name;
    Errc errc;
  };
  const Row rows[] = {
      {0x00, "SUCCESS", Errc::ok},
      {0x01, "NOT_AUTHORIZED", Errc::permission},
      {0x02, "OBSOLETE", Errc::io_error},
      {0x03, "SP_BUSY", Errc::busy},
      {0x04, "SP_FAILED", Errc::io_error},
      {0x05, "SP_DISABLED", Errc::unsupported},
      {0x06, "SP_FROZEN", Errc::unsupported},
      {0x07, "NO_SESSIONS_AVAILABLE", Errc::busy},
      {0x08, "UNIQUENESS_CONFLICT", Errc::invalid_argument},
      {0x09, "INSUFFICIENT_SPACE", Errc::no_memory},
      {0x0A, "INSUFFICIENT_ROWS", Errc::no_memory},
      {0x0C, "INVALID_PARAMETER", Errc::invalid_argument},
      {0x0F, "TPER_MALFUNCTION", Errc::io_error},
      {0x10, "TRANSACTION_FAILURE", Errc::busy},
      {0x11, "RESPONSE_OVERFLOW", Errc::no_memory},
      {0x12, "AUTHORITY_LOCKED_OUT", Errc::permission},
      {0x3F, "FAIL", Errc::io_error},
  };
  for (const Row& r : rows) {
    CAPTURE(int(r.code));
    CHECK(std::string(method_status_name(r.code)) == r.name);
    CHECK(method_status_errc(r.code) == r.errc);
  }
  CHECK(std::string(method_status_name(0x0B)) == "OBSOLETE");
  CHECK(std::string(method_status_name(0x20)) == "UNKNOWN_STATUS");
  CHECK(method_status_errc(0x20) == Errc::io_error);
}

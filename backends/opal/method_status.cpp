#include "backends/opal/method_status.h"

namespace ublkcrypt::opal {

const char* method_status_name(uint8_t code) {
  switch (code) {
    case 0x00: return "SUCCESS";
    case 0x01: return "NOT_AUTHORIZED";
    case 0x02: case 0x0B: case 0x0D: case 0x0E: return "OBSOLETE";
    case 0x03: return "SP_BUSY";
    case 0x04: return "SP_FAILED";
    case 0x05: return "SP_DISABLED";
    case 0x06: return "SP_FROZEN";
    case 0x07: return "NO_SESSIONS_AVAILABLE";
    case 0x08: return "UNIQUENESS_CONFLICT";
    case 0x09: return "INSUFFICIENT_SPACE";
    case 0x0A: return "INSUFFICIENT_ROWS";
    case 0x0C: return "INVALID_PARAMETER";
    case 0x0F: return "TPER_MALFUNCTION";
    case 0x10: return "TRANSACTION_FAILURE";
    case 0x11: return "RESPONSE_OVERFLOW";
    case 0x12: return "AUTHORITY_LOCKED_OUT";
    case 0x3F: return "FAIL";
  }
  return "UNKNOWN_STATUS";
}

Errc method_status_errc(uint8_t code) {
  switch (code) {
    case 0x00: return Errc::ok;
    case 0x01: case 0x12: return Errc::permission;
    case 0x03: case 0x07: case 0x10: return Errc::busy;
    case 0x05: case 0x06: return Errc::unsupported;  // SP disabled/frozen: not usable now
    case 0x08: case 0x0C: return Errc::invalid_argument;
    case 0x09: case 0x0A: case 0x11: return Errc::no_memory;
    case 0x04: case 0x0F: case 0x3F: return Errc::io_error;
  }
  return Errc::io_error;
}

}  // namespace ublkcrypt::opal

// Method status codes returned at the end of every method response (Core Spec 2.01,
// 5.1.5 Table 166), their names and the Errc each maps to.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace ublkcrypt::opal {

enum class MethodStatus : uint8_t {
  success = 0x00,
  not_authorized = 0x01,
  obsolete = 0x02,
  sp_busy = 0x03,
  sp_failed = 0x04,
  sp_disabled = 0x05,
  sp_frozen = 0x06,
  no_sessions_available = 0x07,
  uniqueness_conflict = 0x08,
  insufficient_space = 0x09,
  insufficient_rows = 0x0A,
  invalid_parameter = 0x0C,
  tper_malfunction = 0x0F,
  transaction_failure = 0x10,
  response_overflow = 0x11,
  authority_locked_out = 0x12,
  fail = 0x3F,
};

// "NOT_AUTHORIZED", ...; codes the spec marks obsolete or reserved read "OBSOLETE" or
// "UNKNOWN_STATUS".
const char* method_status_name(uint8_t code);
// NOT_AUTHORIZED and AUTHORITY_LOCKED_OUT -> permission, SP_BUSY and NO_SESSIONS_AVAILABLE
// -> busy, INVALID_PARAMETER -> invalid_argument, INSUFFICIENT_* -> no_memory ...
Errc method_status_errc(uint8_t code);

}  // namespace ublkcrypt::opal

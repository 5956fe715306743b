// Method invocation and response encoding (Core Spec 2.01, 3.2.4.1 and 3.2.4.2):
//   call:     F8 <invoking UID> <method UID> F0 args... F1 F9 F0 status 0 0 F1
//   response: F0 results... F1 F9 F0 status 0 0 F1
// The session manager answers StartSession with a SyncSession *call* (5.2.3.2), which
// parse_method_call also reads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backends/opal/buffer.h"
#include "backends/opal/method_status.h"
#include "backends/opal/token.h"
#include "backends/opal/uid.h"
#include "base/status.h"

namespace ublkcrypt::opal {

// Encodes a method call: the caller writes the arguments between the list brackets.
//   MethodCallWriter call(uid::kLockingSp, uid::kActivate);
//   Buffer tokens = call.finish();
class MethodCallWriter {
 public:
  MethodCallWriter(const Uid& invoking, const Uid& method);
  TokenWriter& args() { return writer_; }
  // Closes the argument list and appends the end-of-data token and the status list
  // (a host always sends status 0, 3.2.4.1).
  Buffer finish();

 private:
  TokenWriter writer_;
};

// A method call as received (TPer side, or a SyncSession from the session manager).
struct MethodCall {
  Uid invoking;
  Uid method;
  Value args;  // a list
  uint8_t status = 0;
};

// A method response as received on the host.
struct MethodResult {
  Value results;  // a list
  uint8_t status = 0;
  MethodStatus code() const { return MethodStatus(status); }
  bool ok() const { return status == 0; }
};

Status parse_method_call(std::span<const uint8_t> tokens, MethodCall* out);
Status parse_method_result(std::span<const uint8_t> tokens, MethodResult* out);
// Encodes a response (TPer side): results list, end of data, status list.
Buffer encode_method_result(const Value& results, MethodStatus status);

}  // namespace ublkcrypt::opal

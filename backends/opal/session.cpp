#include "backends/opal/session.h"

#include <atomic>
#include <string>

#include "backends/opal/method.h"

namespace ublkcrypt::opal {

namespace {

// Host session numbers only need to be unique per host (5.2.3.1); a process-wide counter
// keeps two sessions of one process apart in traces.
std::atomic<uint32_t> next_hsn{0x1001};

Status method_failure(uint8_t status, const std::string& what) {
  return Status(method_status_errc(status), what + ": " + method_status_name(status));
}

// The message for a failed sign-in, naming the authority and the likely cause.
Status sign_in_failure(uint8_t status, const Authority& who) {
  std::string name = method_status_name(status);
  if (MethodStatus(status) == MethodStatus::not_authorized) {
    return Status(Errc::permission, name + " for " + who.name() + " (wrong password?)");
  }
  if (MethodStatus(status) == MethodStatus::authority_locked_out) {
    return Status(Errc::permission, name + " for " + who.name() +
                                        " (try limit reached; power-cycle the drive to try again)");
  }
  return Status(method_status_errc(status), name + " signing in as " + who.name());
}

}  // namespace

Session::~Session() {
  if (open_) (void)end();
}

Status Session::start(const Uid& sp, const Authority& authority, std::span<const uint8_t> password, bool write) {
  if (open_) return Status(Errc::busy, "session already open");
  uint32_t hsn = next_hsn.fetch_add(1);
  MethodCallWriter call(uid::kSessionManager, uid::kStartSession);
  // StartSession[HostSessionID, SPID, Write, HostChallenge = .., HostSigningAuthority = ..]
  TokenWriter& a = call.args();
  a.uint(hsn).bytes(sp.span()).uint(write ? 1 : 0);
  if (authority.kind != Authority::Kind::anybody) {
    a.named_bytes(param::kHostChallenge, password);
    a.named_bytes(param::kHostSigningAuthority, authority.uid().span());
  }
  Buffer response;
  PacketAddress from;
  std::string what = "StartSession on " + describe_object(sp) + " as " + authority.name();
  if (Status s = channel_.exchange({channel_.comid(), 0, 0}, call.finish(), &response, &from); !s.ok()) {
    return s.in(what);
  }
  // Success is a SyncSession call from the session manager (5.2.3.2); failure is a plain
  // method response carrying the status.
  if (!response.empty() && response[0] == kCall) {
    MethodCall sync;
    if (Status s = parse_method_call(response, &sync); !s.ok()) return s.in(what);
    if (sync.invoking != uid::kSessionManager || sync.method != uid::kSyncSession) {
      return Status(Errc::corrupt, what + ": answer is " + describe_method(sync.method) + ", not SyncSession");
    }
    if (sync.status != 0) return sign_in_failure(sync.status, authority);
    // SyncSession[HostSessionID, SPSessionID, ...]
    const auto& args = sync.args.items();
    if (args.size() < 2 || !args[0].is_uint() || !args[1].is_uint()) {
      return Status(Errc::corrupt, what + ": SyncSession lacks the session numbers");
    }
    if (args[0].as_uint() != hsn) return Status(Errc::corrupt, what + ": SyncSession for another host session");
    if (args[1].as_uint() == 0 || args[1].as_uint() > 0xFFFFFFFFu) {
      return Status(Errc::corrupt, what + ": invalid TPer session number");
    }
    address_ = {channel_.comid(), uint32_t(args[1].as_uint()), hsn};
    open_ = true;
    return Status::Ok();
  }
  MethodResult result;
  if (Status s = parse_method_result(response, &result); !s.ok()) return s.in(what);
  if (result.ok()) return Status(Errc::corrupt, what + ": SUCCESS without SyncSession");
  return sign_in_failure(result.status, authority);
}

Status Session::call(const Uid& object, const Uid& method, const ArgWriter& args, Value* results,
                     uint8_t* method_status) {
  std::string what = describe_method(method) + " on " + describe_object(object);
  if (!open_) return Status(Errc::invalid_argument, what + ": no open session");
  MethodCallWriter call(object, method);
  if (args) args(call.args());
  Buffer response;
  PacketAddress from;
  if (Status s = channel_.exchange(address_, call.finish(), &response, &from); !s.ok()) return s.in(what);
  if (from.tsn != address_.tsn || from.hsn != address_.hsn) {
    return Status(Errc::corrupt, what + ": response belongs to another session");
  }
  if (response.size() == 1 && response[0] == kEndOfSession) {
    open_ = false;  // the TPer aborted the session (e.g. timeout, 3.2.4.4)
    return Status(Errc::io_error, what + ": the TPer closed the session");
  }
  MethodResult result;
  if (Status s = parse_method_result(response, &result); !s.ok()) return s.in(what);
  if (method_status) *method_status = result.status;
  if (!result.ok()) return method_failure(result.status, what);
  if (results) *results = std::move(result.results);
  return Status::Ok();
}

Status Session::authenticate(const Authority& authority, std::span<const uint8_t> password) {
  Value results;
  uint8_t status = 0;
  Status s = call(uid::kThisSp, uid::kAuthenticate, [&](TokenWriter& a) {
    a.bytes(authority.uid().span()).named_bytes(param::kAuthenticateProof, password);
  }, &results, &status);
  if (!s.ok()) return status != 0 ? sign_in_failure(status, authority) : s;
  // Result: [ Success : boolean ] (5.3.4.1.14.2).
  if (results.items().empty() || !results.items()[0].is_uint()) {
    return Status(Errc::corrupt, "Authenticate: response holds no boolean");
  }
  if (results.items()[0].as_uint() != 1) return sign_in_failure(uint8_t(MethodStatus::not_authorized), authority);
  return Status::Ok();
}

Status Session::get(const Uid& object, uint64_t first, uint64_t last, Value* columns) {
  Value results;
  // Get[Cellblock : [startColumn = first, endColumn = last]]
  Status s = call(object, uid::kGet, [&](TokenWriter& a) {
    a.start_list().named_uint(param::kStartColumn, first).named_uint(param::kEndColumn, last).end_list();
  }, &results);
  if (!s.ok()) return s;
  // Result: [ [ column = value ... ] ]
  if (results.items().size() != 1 || !results.items()[0].is_list()) {
    return Status(Errc::corrupt, "Get on " + describe_object(object) + ": result is not a row");
  }
  *columns = results.items()[0];
  return Status::Ok();
}

Status Session::set(const Uid& object, const ArgWriter& values) {
  return call(object, uid::kSet, [&](TokenWriter& a) {
    a.start_name().uint(param::kValues).start_list();
    values(a);
    a.end_list().end_name();
  }, nullptr);
}

Status Session::end() {
  if (!open_) return Status::Ok();
  open_ = false;
  TokenWriter w;
  w.token(kEndOfSession);
  Buffer response;
  PacketAddress from;
  if (Status s = channel_.exchange(address_, w.data(), &response, &from); !s.ok()) return s.in("end of session");
  if (response.size() != 1 || response[0] != kEndOfSession) {
    return Status(Errc::corrupt, "end of session: the TPer did not answer with end of session");
  }
  return Status::Ok();
}

}  // namespace ublkcrypt::opal

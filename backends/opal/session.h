// Session: a host session with one SP (Core Spec 2.01, 5.2.3: StartSession / SyncSession,
// 3.2.4 methods, 3.2.4.4 end of session). Sign-in happens in StartSession through
// HostSigningAuthority + HostChallenge (the password); more authorities can be added with
// Authenticate. Not thread-safe; one session per ComChannel at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "backends/opal/com_channel.h"
#include "backends/opal/token.h"
#include "backends/opal/uid.h"
#include "base/status.h"

namespace ublkcrypt::opal {

class Session {
 public:
  // REQUIRES: `channel` outlives the session.
  explicit Session(ComChannel& channel) : channel_(channel) {}
  // Ends the session if it is still open; the result is dropped (use end() to see it).
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens a session on `sp` signed in as `authority` (Anybody: no password sent).
  // `write` asks for a read-write session, needed by every method that changes state.
  // Errors name the authority: "NOT_AUTHORIZED for Admin1 (wrong password?)".
  Status start(const Uid& sp, const Authority& authority, std::span<const uint8_t> password, bool write);

  // ThisSP.Authenticate (Core 5.3.4.1.14): adds an authority to the open session.
  Status authenticate(const Authority& authority, std::span<const uint8_t> password);

  // Invokes `method` on `object`; `args` writes the argument list's contents.
  // `results` (may be null) receives the result list; `method_status` (may be null) the
  // TPer's status code, also when it is not SUCCESS.
  using ArgWriter = std::function<void(TokenWriter&)>;
  Status call(const Uid& object, const Uid& method, const ArgWriter& args, Value* results,
              uint8_t* method_status = nullptr);

  // Get (Opal 3.2.2, Core 5.3.3.6) of columns [first, last] of one row: `columns` becomes
  // a list of `column = value` named values. Columns the authority may not read are absent.
  Status get(const Uid& object, uint64_t first, uint64_t last, Value* columns);
  // Set (Core 5.3.3.7) of `Values = [ column = value ... ]`; `values` writes the pairs.
  Status set(const Uid& object, const ArgWriter& values);

  // Sends end-of-session and waits for the TPer's end-of-session.
  Status end();
  // The TPer ended the session itself (Revert, RevertSP): forget it without a message.
  void abandon() { open_ = false; }
  bool is_open() const { return open_; }

 private:
  ComChannel& channel_;
  PacketAddress address_;
  bool open_ = false;
};

}  // namespace ublkcrypt::opal

// opal::Drive: the operations a CLI or the block layer performs on a self-encrypting drive
// (Opal SSC 2.01). Each opens the sessions it needs, does its work and ends them; nothing
// is cached between calls except the discovery data. Every error names the drive:
//   "opal /dev/nvme0n1: NOT_AUTHORIZED for Admin1 (wrong password?)".
// Passwords are taken as SecureBytes and only leave them inside wiped Buffers.
// Not thread-safe: one caller at a time per Drive (REQUIRES external synchronization).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/opal/com_channel.h"
#include "backends/opal/discovery.h"
#include "backends/opal/session.h"
#include "backends/opal/transport.h"
#include "backends/opal/uid.h"
#include "base/secure_bytes.h"
#include "base/status.h"

namespace ublkcrypt::opal {

// Who signs in, with which password. The password stays owned by the caller.
struct Credential {
  Authority who;
  const SecureBytes& password;
};

// One row of the Locking table (Opal 4.3.5.2). Range 0 is the global range: everything no
// other range covers; its start and length are fixed at 0.
struct LockingRange {
  uint32_t index = 0;
  uint64_t start = 0, length = 0;  // logical blocks
  bool read_lock_enabled = false, write_lock_enabled = false;
  bool read_locked = false, write_locked = false;
  bool overlaps(const LockingRange& other) const;
};

// How a range should be set up by setup_range.
struct RangeSetup {
  uint32_t index = 1;
  uint64_t start = 0, length = 0;  // logical blocks; ignored for range 0
  bool read_lock_enabled = true, write_lock_enabled = true;
};

// Like the kernel's OPAL_RW / OPAL_RO / OPAL_LK.
enum class LockState { read_write, read_only, locked };

class Drive {
 public:
  // Reads Level 0 discovery and, when the drive speaks an SSC with a Locking SP (Opal 1/2,
  // Ruby), exchanges Properties. A drive without one still opens: discovery() tells what it
  // has, and the management calls fail with Errc::unsupported listing its feature sets.
  // REQUIRES: `transport` outlives the Drive.
  static Status open(Transport& transport, std::unique_ptr<Drive>* out);

  const Discovery& discovery() const { return discovery_; }
  const std::string& name() const { return transport_.name(); }
  // Re-reads discovery (locking state changes with every lock/unlock).
  Status refresh_discovery();

  // --- Admin SP ---------------------------------------------------------------------
  // C_PIN_MSID's PIN, readable by Anybody: the factory SID password.
  Status read_msid(SecureBytes* msid);
  // Takes ownership: signs in as SID with the MSID and sets the SID password.
  // Fails with a clear message if the drive is already owned.
  Status take_ownership(const SecureBytes& new_sid_password);
  Status set_sid_password(const SecureBytes& current, const SecureBytes& next);
  // Activates the Locking SP (Opal 5.1.1.2). Admin1's password becomes the SID password.
  // Succeeds without change if it is active already.
  Status activate_locking(const SecureBytes& sid_password);
  // Whether the Locking SP is active (its life cycle is Manufactured).
  Status locking_active(bool* active);
  // Revert of the Admin SP as SID: back to factory state, every range's data erased.
  Status revert(const SecureBytes& sid_password);
  // The same as PSID, the password printed on the drive's label (TCG PSID feature set).
  Status psid_revert(const SecureBytes& psid);

  // --- Locking SP (`admin` is normally Admin1) --------------------------------------------
  Status set_password(const Credential& admin, const Authority& whose, const SecureBytes& next);
  // Enables UserN and sets its password.
  Status set_user_password(const Credential& admin, uint32_t user, const SecureBytes& password);
  // Lets UserN lock and unlock `range` (the range's Set_RdLocked/Set_WrLocked ACEs).
  Status grant_range(const Credential& admin, uint32_t user, uint32_t range);
  // Sets start, length and lock enables. Refuses a range overlapping another with
  // Errc::invalid_argument naming both.
  Status setup_range(const Credential& admin, const RangeSetup& setup);
  Status read_range(const Credential& admin, uint32_t index, LockingRange* out);
  Status read_ranges(const Credential& admin, std::vector<LockingRange>* out);  // 0..MaxRanges
  // Lock or unlock a range as an admin or a user the range was granted to.
  Status set_lock_state(const Credential& who, uint32_t range, LockState state);
  Status lock(const Credential& who, uint32_t range) { return set_lock_state(who, range, LockState::locked); }
  Status unlock(const Credential& who, uint32_t range) { return set_lock_state(who, range, LockState::read_write); }
  // Crypto erase: GenKey on the range's active media key; its old data becomes unreadable.
  Status erase_range(const Credential& admin, uint32_t range);
  // MBRControl Enable / Done (Opal 4.3.5.3); nullopt leaves a column as it is.
  Status set_mbr(const Credential& admin, std::optional<bool> enable, std::optional<bool> done);
  // RevertSP of the Locking SP: back to Manufactured-Inactive, range keys regenerated
  // unless `keep_global_range_key`.
  Status revert_locking_sp(const Credential& admin, bool keep_global_range_key);

 private:
  Drive(Transport& transport, const Discovery& discovery)
      : transport_(transport), discovery_(discovery), channel_(transport, discovery.base_comid) {}

  Status require_ssc() const;
  // Opens a session (write mode) on `sp`; errors are prefixed with the drive name.
  Status start(Session& session, const Uid& sp, const Authority& who, std::span<const uint8_t> password,
               bool write = true);
  Status max_ranges(Session& session, uint32_t* out);
  Status read_range_in(Session& session, uint32_t index, LockingRange* out);
  // Runs a method that makes the TPer end the session (Revert, RevertSP).
  Status call_and_abandon(Session& session, const Uid& object, const Uid& method, const Session::ArgWriter& args);
  Status fail(const Status& s) const { return s.in("opal " + name()); }

  Transport& transport_;
  Discovery discovery_;
  ComChannel channel_;
};

// Reads Level 0 discovery alone (IF-RECV protocol 1, ComID 1).
Status read_discovery(Transport& transport, Discovery* out);

}  // namespace ublkcrypt::opal

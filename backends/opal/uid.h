// UIDs of the objects and methods we use: 8-byte identifiers, upper 4 bytes the table,
// lower 4 the row (Core Spec 2.01, 5.1.2; Opal SSC 2.01, 4.2 "Preconfiguration").
// Method UIDs are the Opal SSC ones (Get 0x16, Set 0x17), not the Core's longer forms.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace ublkcrypt::opal {

struct Uid {
  std::array<uint8_t, 8> bytes{};

  constexpr Uid() = default;
  constexpr explicit Uid(uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes[i] = uint8_t(v >> (56 - 8 * i));
  }
  constexpr uint64_t value() const {
    uint64_t v = 0;
    for (uint8_t b : bytes) v = v << 8 | b;
    return v;
  }
  constexpr uint32_t table() const { return uint32_t(value() >> 32); }
  constexpr uint32_t row() const { return uint32_t(value()); }
  std::span<const uint8_t> span() const { return bytes; }
  // Parses an 8-byte atom; false when it has another length.
  static bool from_bytes(std::span<const uint8_t> b, Uid* out);

  constexpr bool operator==(const Uid&) const = default;
};

namespace uid {

// Session manager and the "this SP" shorthand (Core 5.2.1, 5.1.4.1).
constexpr Uid kSessionManager{0x00000000000000FFull};
constexpr Uid kThisSp{0x0000000000000001ull};

// Security providers (rows of the Admin SP's SP table, Opal 4.2.6).
constexpr Uid kAdminSp{0x0000020500000001ull};
constexpr Uid kLockingSp{0x0000020500000002ull};

// Authorities. Admin SP (Opal 4.2.1.7): Anybody, SID, PSID (Opal Feature Set: PSID).
constexpr Uid kAnybody{0x0000000900000001ull};
constexpr Uid kSid{0x0000000900000006ull};
constexpr Uid kPsid{0x000000090001FF01ull};
// Locking SP (Opal 4.3.1.8): Admins class, Admin1..N, Users class, User1..N.
constexpr Uid kAdmins{0x0000000900010000ull};
constexpr Uid kUsers{0x0000000900030000ull};
constexpr Uid admin(uint32_t n) { return Uid(0x0000000900010000ull + n); }
constexpr Uid user(uint32_t n) { return Uid(0x0000000900030000ull + n); }

// C_PIN rows: credentials of the authorities above (Opal 4.2.1.8, 4.3.1.9).
constexpr Uid kCPinSid{0x0000000B00000001ull};
constexpr Uid kCPinMsid{0x0000000B00008402ull};
constexpr Uid c_pin_admin(uint32_t n) { return Uid(0x0000000B00010000ull + n); }
constexpr Uid c_pin_user(uint32_t n) { return Uid(0x0000000B00030000ull + n); }

// Locking SP tables (Opal 4.3.5): Locking ranges (0 = global), their media keys
// (K_AES_256), MBRControl, and the ACEs that say who may lock/unlock a range.
constexpr Uid locking_range(uint32_t n) {
  return Uid(n == 0 ? 0x0000080200000001ull : 0x0000080200030000ull + n);
}
constexpr Uid k_aes_256(uint32_t n) {
  return Uid(n == 0 ? 0x0000080600000001ull : 0x0000080600030000ull + n);
}
constexpr Uid kMbrControl{0x0000080300000001ull};
constexpr Uid kLockingInfo{0x0000080100000001ull};
constexpr Uid ace_set_read_locked(uint32_t n) { return Uid(0x000000080003E000ull + n); }
constexpr Uid ace_set_write_locked(uint32_t n) { return Uid(0x000000080003E800ull + n); }

// Methods (Core 5.2.2 session manager; Opal 3.2.2 "Opal method UIDs").
constexpr Uid kProperties{0x000000000000FF01ull};
constexpr Uid kStartSession{0x000000000000FF02ull};
constexpr Uid kSyncSession{0x000000000000FF03ull};
constexpr Uid kNext{0x0000000600000008ull};
constexpr Uid kGenKey{0x0000000600000010ull};
constexpr Uid kRevertSp{0x0000000600000011ull};
constexpr Uid kGet{0x0000000600000016ull};
constexpr Uid kSet{0x0000000600000017ull};
constexpr Uid kAuthenticate{0x000000060000001Cull};
constexpr Uid kRevert{0x0000000600000202ull};
constexpr Uid kActivate{0x0000000600000203ull};

// Half-UIDs naming the element types inside an ACE BooleanExpr (Core 5.1.3.3, 5.1.3.11).
constexpr uint32_t kHalfAuthorityObjectRef = 0x00000C05;
constexpr uint32_t kHalfBooleanAce = 0x0000040E;

}  // namespace uid

// Column numbers used with Get/Set (Core 5.3.2.x, Opal 4.3.5).
namespace column {
constexpr uint64_t kCPinPin = 3, kCPinTryLimit = 5, kCPinTries = 6;
constexpr uint64_t kAuthorityEnabled = 5;
constexpr uint64_t kSpLifeCycle = 6;
constexpr uint64_t kRangeStart = 3, kRangeLength = 4, kReadLockEnabled = 5, kWriteLockEnabled = 6,
                   kReadLocked = 7, kWriteLocked = 8, kLockOnReset = 9, kActiveKey = 10;
constexpr uint64_t kMbrEnable = 1, kMbrDone = 2;
constexpr uint64_t kLockingInfoMaxRanges = 4;
constexpr uint64_t kAceBooleanExpr = 3;
}  // namespace column

// SP life cycle states (Opal 5.1.1.1).
constexpr uint64_t kLifeCycleManufacturedInactive = 8;
constexpr uint64_t kLifeCycleManufactured = 9;

// Method parameter names (Core 5.2.3.1 StartSession optional parameters, 5.3.3.6/7 Get/Set
// cell blocks and values, Opal 5.1.3 RevertSP).
namespace param {
constexpr uint64_t kHostChallenge = 0, kHostExchangeAuthority = 1, kHostSigningAuthority = 3;
constexpr uint64_t kStartColumn = 3, kEndColumn = 4;
constexpr uint64_t kWhere = 0, kValues = 1;
constexpr uint64_t kAuthenticateProof = 0;
constexpr uint64_t kKeepGlobalRangeKey = 0x060000;
}  // namespace param

// An authority the host signs in as, with its readable name for messages.
struct Authority {
  enum class Kind { anybody, sid, psid, admin, user };
  Kind kind = Kind::anybody;
  uint32_t index = 0;  // 1-based for admin/user

  static Authority anybody() { return {}; }
  static Authority sid() { return {Kind::sid, 0}; }
  static Authority psid() { return {Kind::psid, 0}; }
  static Authority admin(uint32_t n) { return {Kind::admin, n}; }
  static Authority user(uint32_t n) { return {Kind::user, n}; }

  Uid uid() const;
  std::string name() const;  // "SID", "Admin1", "User3", ...
};

}  // namespace ublkcrypt::opal

namespace ublkcrypt::opal {
// Readable names for messages: "C_PIN_SID", "Locking Range 2", "Set", or the UID in hex.
std::string describe_object(const Uid& object);
std::string describe_method(const Uid& method);
}  // namespace ublkcrypt::opal

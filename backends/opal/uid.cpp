#include "backends/opal/uid.h"

#include <algorithm>
#include <cstdio>

namespace ublkcrypt::opal {

bool Uid::from_bytes(std::span<const uint8_t> b, Uid* out) {
  if (b.size() != 8) return false;
  std::copy(b.begin(), b.end(), out->bytes.begin());
  return true;
}

Uid Authority::uid() const {
  switch (kind) {
    case Kind::anybody: return uid::kAnybody;
    case Kind::sid: return uid::kSid;
    case Kind::psid: return uid::kPsid;
    case Kind::admin: return uid::admin(index);
    case Kind::user: return uid::user(index);
  }
  return uid::kAnybody;
}

std::string Authority::name() const {
  switch (kind) {
    case Kind::anybody: return "Anybody";
    case Kind::sid: return "SID";
    case Kind::psid: return "PSID";
    case Kind::admin: return "Admin" + std::to_string(index);
    case Kind::user: return "User" + std::to_string(index);
  }
  return "?";
}

}  // namespace ublkcrypt::opal

namespace ublkcrypt::opal {

namespace {
std::string hex(const Uid& u) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "UID %016llX", static_cast<unsigned long long>(u.value()));
  return buf;
}
}  // namespace

std::string describe_object(const Uid& o) {
  if (o == uid::kSessionManager) return "Session Manager";
  if (o == uid::kThisSp) return "ThisSP";
  if (o == uid::kAdminSp) return "Admin SP";
  if (o == uid::kLockingSp) return "Locking SP";
  if (o == uid::kCPinSid) return "C_PIN_SID";
  if (o == uid::kCPinMsid) return "C_PIN_MSID";
  if (o == uid::kMbrControl) return "MBRControl";
  if (o == uid::locking_range(0)) return "Locking GlobalRange";
  if (o == uid::k_aes_256(0)) return "K_AES_256 GlobalRange";
  uint32_t row = o.row() & 0xFFFF;
  switch (o.table()) {
    case 0x00000802: return "Locking Range " + std::to_string(row);
    case 0x00000806: return "K_AES_256 Range " + std::to_string(row);
    case 0x0000000B:
      if ((o.row() >> 16) == 1) return "C_PIN_Admin" + std::to_string(row);
      if ((o.row() >> 16) == 3) return "C_PIN_User" + std::to_string(row);
      break;
    case 0x00000009:
      if ((o.row() >> 16) == 1 && row != 0xFF01) return "Admin" + std::to_string(row);
      if ((o.row() >> 16) == 3) return "User" + std::to_string(row);
      break;
    case 0x00000008: return "ACE " + hex(o).substr(4);
  }
  return hex(o);
}

std::string describe_method(const Uid& m) {
  if (m == uid::kProperties) return "Properties";
  if (m == uid::kStartSession) return "StartSession";
  if (m == uid::kSyncSession) return "SyncSession";
  if (m == uid::kGet) return "Get";
  if (m == uid::kSet) return "Set";
  if (m == uid::kNext) return "Next";
  if (m == uid::kGenKey) return "GenKey";
  if (m == uid::kRevertSp) return "RevertSP";
  if (m == uid::kRevert) return "Revert";
  if (m == uid::kActivate) return "Activate";
  if (m == uid::kAuthenticate) return "Authenticate";
  return hex(m);
}

}  // namespace ublkcrypt::opal

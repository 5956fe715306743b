#include "backends/opal/drive.h"

#include <string>

namespace ublkcrypt::opal {

namespace {

std::string span_text(const LockingRange& r) {
  return "Locking Range " + std::to_string(r.index) + " [" + std::to_string(r.start) + ", " +
         std::to_string(r.start + r.length) + ")";
}

// Reads a boolean or integer column from a Get result row.
bool column_uint(const Value& row, uint64_t column, uint64_t* out) {
  const Value* v = row.find(column);
  if (!v || !v->is_uint()) return false;
  *out = v->as_uint();
  return true;
}

}  // namespace

bool LockingRange::overlaps(const LockingRange& other) const {
  if (length == 0 || other.length == 0) return false;
  return start < other.start + other.length && other.start < start + length;
}

Status read_discovery(Transport& transport, Discovery* out) {
  // 3.3.6: the response is at most a few hundred bytes; 2 KiB is what sedutil and the
  // kernel allocate too.
  Buffer data(2048, 0);
  if (Status s = transport.security_receive(kProtocolTcg, kLevel0ComId, data); !s.ok()) {
    return s.in("Level 0 discovery");
  }
  return parse_discovery(data, out);
}

Status Drive::open(Transport& transport, std::unique_ptr<Drive>* out) {
  Discovery discovery;
  if (Status s = read_discovery(transport, &discovery); !s.ok()) return s.in("opal " + transport.name());
  std::unique_ptr<Drive> drive(new Drive(transport, discovery));
  if (discovery.manageable()) {
    if (Status s = drive->channel_.exchange_properties(); !s.ok()) return drive->fail(s);
  }
  *out = std::move(drive);
  return Status::Ok();
}

Status Drive::refresh_discovery() {
  Discovery discovery;
  if (Status s = read_discovery(transport_, &discovery); !s.ok()) return fail(s);
  discovery_ = discovery;
  return Status::Ok();
}

Status Drive::require_ssc() const {
  if (discovery_.manageable()) return Status::Ok();
  return Status(Errc::unsupported, "opal " + name() + ": no Opal or Ruby feature set (drive reports: " +
                                       discovery_.feature_sets() + ")");
}

Status Drive::start(Session& session, const Uid& sp, const Authority& who, std::span<const uint8_t> password,
                    bool write) {
  if (Status s = require_ssc(); !s.ok()) return s;
  return fail(session.start(sp, who, password, write));
}

// --- Admin SP ---------------------------------------------------------------------------

Status Drive::read_msid(SecureBytes* msid) {
  Session session(channel_);
  if (Status s = start(session, uid::kAdminSp, Authority::anybody(), {}, false); !s.ok()) return s;
  Value row;
  if (Status s = session.get(uid::kCPinMsid, column::kCPinPin, column::kCPinPin, &row); !s.ok()) return fail(s);
  const Value* pin = row.find(column::kCPinPin);
  if (!pin || !pin->is_bytes()) return fail(Status(Errc::corrupt, "C_PIN_MSID: response holds no PIN"));
  if (Status s = SecureBytes::copy_of(pin->as_bytes(), msid); !s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::take_ownership(const SecureBytes& new_sid_password) {
  SecureBytes msid;
  if (Status s = read_msid(&msid); !s.ok()) return s;
  Session session(channel_);
  Status s = session.start(uid::kAdminSp, Authority::sid(), msid.view(), true);
  if (s.code() == Errc::permission && s.message().find("NOT_AUTHORIZED") != std::string::npos) {
    return Status(Errc::permission, "opal " + name() +
                                        ": SID does not accept the MSID: the drive is already owned "
                                        "(revert it with the SID password or the PSID first)");
  }
  if (!s.ok()) return fail(s);
  if (Status e = session.set(uid::kCPinSid, [&](TokenWriter& w) {
        w.named_bytes(column::kCPinPin, new_sid_password.view());
      }); !e.ok()) {
    return fail(e);
  }
  return fail(session.end());
}

Status Drive::set_sid_password(const SecureBytes& current, const SecureBytes& next) {
  Session session(channel_);
  if (Status s = start(session, uid::kAdminSp, Authority::sid(), current.view()); !s.ok()) return s;
  if (Status s = session.set(uid::kCPinSid, [&](TokenWriter& w) { w.named_bytes(column::kCPinPin, next.view()); });
      !s.ok()) {
    return fail(s);
  }
  return fail(session.end());
}

Status Drive::locking_active(bool* active) {
  Session session(channel_);
  if (Status s = start(session, uid::kAdminSp, Authority::anybody(), {}, false); !s.ok()) return s;
  Value row;
  if (Status s = session.get(uid::kLockingSp, column::kSpLifeCycle, column::kSpLifeCycle, &row); !s.ok()) {
    return fail(s);
  }
  uint64_t life = 0;
  if (!column_uint(row, column::kSpLifeCycle, &life)) {
    return fail(Status(Errc::corrupt, "Locking SP: response holds no LifeCycleState"));
  }
  *active = life == kLifeCycleManufactured;
  return fail(session.end());
}

Status Drive::activate_locking(const SecureBytes& sid_password) {
  bool active = false;
  if (Status s = locking_active(&active); !s.ok()) return s;
  if (active) return Status::Ok();
  Session session(channel_);
  if (Status s = start(session, uid::kAdminSp, Authority::sid(), sid_password.view()); !s.ok()) return s;
  if (Status s = session.call(uid::kLockingSp, uid::kActivate, nullptr, nullptr); !s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::call_and_abandon(Session& session, const Uid& object, const Uid& method,
                               const Session::ArgWriter& args) {
  Status s = session.call(object, method, args, nullptr);
  // On success the TPer ends the session itself (Opal 5.1.2.2 Revert, 5.1.3.2 RevertSP).
  if (s.ok()) session.abandon();
  return fail(s);
}

Status Drive::revert(const SecureBytes& sid_password) {
  Session session(channel_);
  if (Status s = start(session, uid::kAdminSp, Authority::sid(), sid_password.view()); !s.ok()) return s;
  return call_and_abandon(session, uid::kAdminSp, uid::kRevert, nullptr);
}

Status Drive::psid_revert(const SecureBytes& psid) {
  Session session(channel_);
  if (Status s = start(session, uid::kAdminSp, Authority::psid(), psid.view()); !s.ok()) return s;
  return call_and_abandon(session, uid::kAdminSp, uid::kRevert, nullptr);
}

// --- Locking SP -------------------------------------------------------------------------

Status Drive::set_password(const Credential& admin, const Authority& whose, const SecureBytes& next) {
  Uid c_pin;
  switch (whose.kind) {
    case Authority::Kind::admin: c_pin = uid::c_pin_admin(whose.index); break;
    case Authority::Kind::user: c_pin = uid::c_pin_user(whose.index); break;
    default:
      return Status(Errc::invalid_argument, "opal " + name() + ": " + whose.name() + " has no Locking SP password");
  }
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  if (Status s = session.set(c_pin, [&](TokenWriter& w) { w.named_bytes(column::kCPinPin, next.view()); }); !s.ok()) {
    return fail(s);
  }
  return fail(session.end());
}

Status Drive::set_user_password(const Credential& admin, uint32_t user, const SecureBytes& password) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  // Users start disabled (Opal 4.3.1.8); an enabled user with a PIN can sign in.
  if (Status s = session.set(uid::user(user), [](TokenWriter& w) { w.named_uint(column::kAuthorityEnabled, 1); });
      !s.ok()) {
    return fail(s);
  }
  if (Status s = session.set(uid::c_pin_user(user), [&](TokenWriter& w) {
        w.named_bytes(column::kCPinPin, password.view());
      }); !s.ok()) {
    return fail(s);
  }
  return fail(session.end());
}

Status Drive::grant_range(const Credential& admin, uint32_t user, uint32_t range) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  // BooleanExpr = Admins OR UserN (Core 5.1.3.3 ACE_expression: authority references
  // followed by the operator), so admins keep the right to lock the range.
  auto expr = [user](TokenWriter& w) {
    uint8_t authority_ref[4] = {0, 0, 0x0C, 0x05};
    uint8_t boolean_ace[4] = {0, 0, 0x04, 0x0E};
    w.start_name().uint(column::kAceBooleanExpr).start_list();
    w.start_name().bytes(authority_ref).bytes(uid::kAdmins.span()).end_name();
    w.start_name().bytes(authority_ref).bytes(uid::user(user).span()).end_name();
    w.start_name().bytes(boolean_ace).uint(1).end_name();  // 1 = OR
    w.end_list().end_name();
  };
  for (const Uid& ace : {uid::ace_set_read_locked(range), uid::ace_set_write_locked(range)}) {
    if (Status s = session.set(ace, expr); !s.ok()) return fail(s);
  }
  return fail(session.end());
}

Status Drive::max_ranges(Session& session, uint32_t* out) {
  Value row;
  if (Status s = session.get(uid::kLockingInfo, column::kLockingInfoMaxRanges, column::kLockingInfoMaxRanges, &row);
      !s.ok()) {
    return s;
  }
  uint64_t n = 0;
  if (!column_uint(row, column::kLockingInfoMaxRanges, &n) || n > 1024) {
    return Status(Errc::corrupt, "LockingInfo: response holds no valid MaxRanges");
  }
  *out = uint32_t(n);
  return Status::Ok();
}

Status Drive::read_range_in(Session& session, uint32_t index, LockingRange* out) {
  Value row;
  if (Status s = session.get(uid::locking_range(index), column::kRangeStart, column::kWriteLocked, &row); !s.ok()) {
    return s;
  }
  uint64_t v[6];
  for (uint64_t c = column::kRangeStart; c <= column::kWriteLocked; ++c) {
    if (!column_uint(row, c, &v[c - column::kRangeStart])) {
      return Status(Errc::corrupt, describe_object(uid::locking_range(index)) + ": column " + std::to_string(c) +
                                       " missing from the response");
    }
  }
  *out = {index, v[0], v[1], v[2] != 0, v[3] != 0, v[4] != 0, v[5] != 0};
  return Status::Ok();
}

Status Drive::read_range(const Credential& admin, uint32_t index, LockingRange* out) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view(), false); !s.ok()) return s;
  if (Status s = read_range_in(session, index, out); !s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::read_ranges(const Credential& admin, std::vector<LockingRange>* out) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view(), false); !s.ok()) return s;
  uint32_t n = 0;
  if (Status s = max_ranges(session, &n); !s.ok()) return fail(s);
  out->clear();
  for (uint32_t i = 0; i <= n; ++i) {
    LockingRange r;
    if (Status s = read_range_in(session, i, &r); !s.ok()) return fail(s);
    out->push_back(r);
  }
  return fail(session.end());
}

Status Drive::setup_range(const Credential& admin, const RangeSetup& setup) {
  const Discovery::Geometry& g = discovery_.geometry;
  if (setup.index != 0 && g.align && g.alignment_granularity > 1 &&
      ((setup.start - g.lowest_aligned_lba) % g.alignment_granularity != 0 ||
       setup.length % g.alignment_granularity != 0)) {
    return Status(Errc::invalid_argument, "opal " + name() + ": Locking Range " + std::to_string(setup.index) +
                                              " must start and end on " +
                                              std::to_string(g.alignment_granularity) + "-block boundaries");
  }
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  uint32_t n = 0;
  if (Status s = max_ranges(session, &n); !s.ok()) return fail(s);
  if (setup.index > n) {
    return Status(Errc::invalid_argument, "opal " + name() + ": Locking Range " + std::to_string(setup.index) +
                                              " does not exist (the drive has ranges 1.." + std::to_string(n) + ")");
  }
  if (setup.index != 0) {
    // Opal 4.3.5.2.1: non-global ranges must not overlap. Check first, so the message
    // names the range in the way rather than the TPer's bare INVALID_PARAMETER.
    LockingRange wanted{setup.index, setup.start, setup.length};
    for (uint32_t i = 1; i <= n; ++i) {
      if (i == setup.index) continue;
      LockingRange other;
      if (Status s = read_range_in(session, i, &other); !s.ok()) return fail(s);
      if (wanted.overlaps(other)) {
        return Status(Errc::invalid_argument, "opal " + name() + ": " + span_text(wanted) + " overlaps " +
                                                  span_text(other));
      }
    }
  }
  Status s = session.set(uid::locking_range(setup.index), [&](TokenWriter& w) {
    if (setup.index != 0) {
      w.named_uint(column::kRangeStart, setup.start).named_uint(column::kRangeLength, setup.length);
    }
    w.named_uint(column::kReadLockEnabled, setup.read_lock_enabled)
        .named_uint(column::kWriteLockEnabled, setup.write_lock_enabled);
  });
  if (!s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::set_lock_state(const Credential& who, uint32_t range, LockState state) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, who.who, who.password.view()); !s.ok()) return s;
  bool read_locked = state == LockState::locked;
  bool write_locked = state != LockState::read_write;
  Status s = session.set(uid::locking_range(range), [&](TokenWriter& w) {
    w.named_uint(column::kReadLocked, read_locked).named_uint(column::kWriteLocked, write_locked);
  });
  if (!s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::erase_range(const Credential& admin, uint32_t range) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  // The range's ActiveKey names its media key object (K_AES_128 or K_AES_256).
  Value row;
  if (Status s = session.get(uid::locking_range(range), column::kActiveKey, column::kActiveKey, &row); !s.ok()) {
    return fail(s);
  }
  const Value* key = row.find(column::kActiveKey);
  Uid key_uid;
  if (!key || !key->is_bytes() || !Uid::from_bytes(key->as_bytes(), &key_uid)) {
    return fail(Status(Errc::corrupt, describe_object(uid::locking_range(range)) + ": ActiveKey is not a UID"));
  }
  if (Status s = session.call(key_uid, uid::kGenKey, nullptr, nullptr); !s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::set_mbr(const Credential& admin, std::optional<bool> enable, std::optional<bool> done) {
  if (!enable && !done) return Status::Ok();
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  Status s = session.set(uid::kMbrControl, [&](TokenWriter& w) {
    if (enable) w.named_uint(column::kMbrEnable, *enable);
    if (done) w.named_uint(column::kMbrDone, *done);
  });
  if (!s.ok()) return fail(s);
  return fail(session.end());
}

Status Drive::revert_locking_sp(const Credential& admin, bool keep_global_range_key) {
  Session session(channel_);
  if (Status s = start(session, uid::kLockingSp, admin.who, admin.password.view()); !s.ok()) return s;
  return call_and_abandon(session, uid::kThisSp, uid::kRevertSp, [&](TokenWriter& w) {
    if (keep_global_range_key) w.named_uint(param::kKeepGlobalRangeKey, 1);
  });
}

}  // namespace ublkcrypt::opal

// The host library against the emulated drive: ownership, ranges, locking, crypto erase,
// revert, PSID revert, try limits, persistence.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "backends/opal/drive.h"
#include "backends/opal/session.h"
#include "fixtures/opal/emulated_drive.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;
using emu::EmulatedDrive;

namespace {

SecureBytes secret(std::string_view text) {
  SecureBytes out;
  REQUIRE(SecureBytes::copy_of({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, &out).ok());
  return out;
}

// A drive file in a fresh temporary directory, removed at the end of the test.
struct DriveFile {
  std::string dir, path;
  explicit DriveFile(uint64_t size = 4 << 20) {
    char tmpl[] = "/tmp/opal-emu-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/drive.img";
    SecureBytes psid = secret("PSID-LABEL-0123456789ABCDEFGHIJ");
    Status s = EmulatedDrive::create(path, size, psid);
    REQUIRE_MESSAGE(s.ok(), s.message());
  }
  ~DriveFile() { std::filesystem::remove_all(dir); }
};

struct Opened {
  std::unique_ptr<EmulatedDrive> media;
  std::unique_ptr<Drive> drive;
  explicit Opened(const std::string& path) {
    Status s = EmulatedDrive::open(path, &media);
    REQUIRE_MESSAGE(s.ok(), s.message());
    s = Drive::open(*media, &drive);
    REQUIRE_MESSAGE(s.ok(), s.message());
  }
};

#define REQUIRE_OK(expr)                          \
  do {                                            \
    Status _s = (expr);                           \
    REQUIRE_MESSAGE(_s.ok(), _s.message());       \
  } while (0)

std::vector<uint8_t> pattern(size_t blocks, uint8_t seed) {
  std::vector<uint8_t> b(blocks * 512);
  for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 7 + seed);
  return b;
}

// Owned drive with the Locking SP active: SID and Admin1 passwords are both "sid-pw".
void own_and_activate(Drive& drive) {
  REQUIRE_OK(drive.take_ownership(secret("sid-pw")));
  REQUIRE_OK(drive.activate_locking(secret("sid-pw")));
}

}  // namespace

TEST_CASE("discovery of a factory-fresh emulated drive") {
  DriveFile f;
  Opened o(f.path);
  const Discovery& d = o.drive->discovery();
  CHECK(d.ssc == kFeatureOpalV2);
  CHECK(d.base_comid == emu::kEmuBaseComId);
  CHECK(d.locking.supported);
  CHECK_FALSE(d.locking.enabled);
  CHECK_FALSE(d.locking.locked);
  CHECK(d.admin_authorities == 4);
  CHECK(d.user_authorities == 8);
  CHECK(d.geometry.logical_block_size == 512);
  CHECK(o.drive->name() == "emu:" + f.path);
  SecureBytes msid;
  REQUIRE_OK(o.drive->read_msid(&msid));
  CHECK(msid.size() == 32);
}

TEST_CASE("take ownership, activate, set up a range, lock and unlock") {
  DriveFile f;
  Opened o(f.path);
  Drive& drive = *o.drive;
  own_and_activate(drive);
  REQUIRE_OK(drive.refresh_discovery());
  CHECK(drive.discovery().locking.enabled);

  // Ownership is exclusive: a second take_ownership no longer gets in with the MSID.
  Status again = drive.take_ownership(secret("other"));
  CHECK(again.code() == Errc::permission);
  CHECK(again.message().find("already owned") != std::string::npos);

  SecureBytes admin_pw = secret("sid-pw");
  Credential admin{Authority::admin(1), admin_pw};
  REQUIRE_OK(drive.setup_range(admin, {1, 1024, 2048, true, true}));
  LockingRange r;
  REQUIRE_OK(drive.read_range(admin, 1, &r));
  CHECK(r.start == 1024);
  CHECK(r.length == 2048);
  CHECK(r.read_lock_enabled);
  CHECK_FALSE(r.read_locked);

  // Data written while unlocked reads back.
  auto data = pattern(8, 1);
  REQUIRE_OK(o.media->write(1500, 8, data));
  std::vector<uint8_t> back(data.size());
  REQUIRE_OK(o.media->read(1500, 8, back));
  CHECK(back == data);

  REQUIRE_OK(drive.lock(admin, 1));
  Status refused = o.media->read(1500, 8, back);
  CHECK(refused.code() == Errc::permission);
  CHECK(o.media->write(1500, 1, data).code() == Errc::permission);
  // A request straddling into the locked range is refused as a whole.
  CHECK(o.media->read(1020, 8, back).code() == Errc::permission);
  // Outside the range (global range, not locked) I/O goes on.
  REQUIRE_OK(o.media->write(0, 8, data));
  REQUIRE_OK(drive.refresh_discovery());
  CHECK(drive.discovery().locking.locked);

  // A user with its own password, granted the range, unlocks it.
  SecureBytes user_pw = secret("user1-pw");
  REQUIRE_OK(drive.set_user_password(admin, 1, user_pw));
  Credential user{Authority::user(1), user_pw};
  Status not_granted = drive.unlock(user, 1);
  CHECK(not_granted.code() == Errc::permission);
  REQUIRE_OK(drive.grant_range(admin, 1, 1));
  REQUIRE_OK(drive.unlock(user, 1));
  REQUIRE_OK(o.media->read(1500, 8, back));
  CHECK(back == data);

  // Read-only: reads allowed, writes refused.
  REQUIRE_OK(drive.set_lock_state(user, 1, LockState::read_only));
  REQUIRE_OK(o.media->read(1500, 8, back));
  CHECK(o.media->write(1500, 8, data).code() == Errc::permission);
  // The user may not change the range's extent.
  Status extent = drive.setup_range(user, {1, 0, 10});
  CHECK(extent.code() == Errc::permission);
}

TEST_CASE("wrong password is NOT_AUTHORIZED, then the authority locks out") {
  DriveFile f;
  {
    Opened o(f.path);
    own_and_activate(*o.drive);
    SecureBytes wrong = secret("wrong");
    Credential bad{Authority::admin(1), wrong};
    for (int i = 0; i < 5; ++i) {
      Status s = o.drive->lock(bad, 0);
      CHECK(s.code() == Errc::permission);
      CHECK(s.message() == "opal emu:" + f.path + ": NOT_AUTHORIZED for Admin1 (wrong password?)");
    }
    // TryLimit 5 reached: even the right password is refused now.
    SecureBytes right = secret("sid-pw");
    Status locked = o.drive->lock({Authority::admin(1), right}, 0);
    CHECK(locked.code() == Errc::permission);
    CHECK(locked.message().find("AUTHORITY_LOCKED_OUT for Admin1") != std::string::npos);
    // SID has its own counter.
    CHECK(o.drive->set_sid_password(wrong, wrong).message().find("NOT_AUTHORIZED for SID") != std::string::npos);
  }
  // A power cycle (reopen) resets Tries (C_PIN Persistence = False).
  Opened o(f.path);
  SecureBytes right = secret("sid-pw");
  REQUIRE_OK(o.drive->lock({Authority::admin(1), right}, 0));
}

TEST_CASE("overlapping ranges are refused by the host and by the TPer") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  SecureBytes pw = secret("sid-pw");
  Credential admin{Authority::admin(1), pw};
  REQUIRE_OK(o.drive->setup_range(admin, {1, 800, 400}));
  Status s = o.drive->setup_range(admin, {2, 1000, 500});
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message() == "opal emu:" + f.path + ": Locking Range 2 [1000, 1500) overlaps Locking Range 1 [800, 1200)");
  REQUIRE_OK(o.drive->setup_range(admin, {2, 1200, 500}));  // adjacent is fine
  CHECK(o.drive->setup_range(admin, {3, 0, 1u << 30}).code() == Errc::invalid_argument);  // past the end? overlaps first
  CHECK(o.drive->setup_range(admin, {9, 0, 1}).code() == Errc::invalid_argument);        // no range 9

  // The TPer enforces the rule itself (Opal 4.3.5.2.1), whatever the host checks.
  ComChannel channel(*o.media, emu::kEmuBaseComId);
  REQUIRE_OK(channel.exchange_properties());
  Session session(channel);
  REQUIRE_OK(session.start(uid::kLockingSp, Authority::admin(1), pw.view(), true));
  Status raw = session.set(uid::locking_range(3), [](TokenWriter& w) {
    w.named_uint(column::kRangeStart, 1100).named_uint(column::kRangeLength, 10);
  });
  CHECK(raw.code() == Errc::invalid_argument);
  CHECK(raw.message() == "Set on Locking Range 3: INVALID_PARAMETER");
  Status past_end = session.set(uid::locking_range(3), [&](TokenWriter& w) {
    w.named_uint(column::kRangeStart, o.media->block_count() - 1).named_uint(column::kRangeLength, 2);
  });
  CHECK(past_end.code() == Errc::invalid_argument);
  REQUIRE_OK(session.end());
}

TEST_CASE("GenKey makes a range's old data unreadable") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  SecureBytes pw = secret("sid-pw");
  Credential admin{Authority::admin(1), pw};
  REQUIRE_OK(o.drive->setup_range(admin, {1, 2048, 1024}));
  auto in_range = pattern(16, 3), outside = pattern(16, 9);
  REQUIRE_OK(o.media->write(2048, 16, in_range));
  REQUIRE_OK(o.media->write(0, 16, outside));
  REQUIRE_OK(o.drive->erase_range(admin, 1));
  std::vector<uint8_t> back(in_range.size());
  REQUIRE_OK(o.media->read(2048, 16, back));
  CHECK(back != in_range);  // old ciphertext under a new key: noise
  REQUIRE_OK(o.media->read(0, 16, back));
  CHECK(back == outside);  // other ranges keep their keys
  // Users may not erase.
  SecureBytes upw = secret("u");
  REQUIRE_OK(o.drive->set_user_password(admin, 2, upw));
  CHECK(o.drive->erase_range({Authority::user(2), upw}, 1).code() == Errc::permission);
}

TEST_CASE("revert as SID restores factory state and erases data") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  SecureBytes pw = secret("sid-pw");
  Credential admin{Authority::admin(1), pw};
  REQUIRE_OK(o.drive->setup_range(admin, {1, 0, 1024}));
  REQUIRE_OK(o.drive->lock(admin, 1));
  auto data = pattern(4, 5);
  REQUIRE_OK(o.media->write(4096, 4, data));  // global range

  CHECK(o.drive->revert(secret("nope")).code() == Errc::permission);
  REQUIRE_OK(o.drive->revert(pw));
  REQUIRE_OK(o.drive->refresh_discovery());
  CHECK_FALSE(o.drive->discovery().locking.enabled);
  CHECK_FALSE(o.drive->discovery().locking.locked);
  bool active = true;
  REQUIRE_OK(o.drive->locking_active(&active));
  CHECK_FALSE(active);
  std::vector<uint8_t> back(data.size());
  REQUIRE_OK(o.media->read(0, 4, back));  // range 1 is gone: readable again
  REQUIRE_OK(o.media->read(4096, 4, back));
  CHECK(back != data);  // the global range key was regenerated
  // SID is back to MSID: ownership can be taken again.
  REQUIRE_OK(o.drive->take_ownership(secret("new-owner")));
}

TEST_CASE("PSID revert works with the PSID and fails with a wrong one") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  Status wrong = o.drive->psid_revert(secret("PSID-WRONG"));
  CHECK(wrong.code() == Errc::permission);
  CHECK(wrong.message().find("NOT_AUTHORIZED for PSID") != std::string::npos);
  REQUIRE_OK(o.drive->psid_revert(secret("PSID-LABEL-0123456789ABCDEFGHIJ")));
  bool active = true;
  REQUIRE_OK(o.drive->locking_active(&active));
  CHECK_FALSE(active);
  REQUIRE_OK(o.drive->take_ownership(secret("x")));  // SID = MSID again
}

TEST_CASE("RevertSP returns the Locking SP to Manufactured-Inactive") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  SecureBytes pw = secret("sid-pw");
  Credential admin{Authority::admin(1), pw};
  auto data = pattern(2, 11);
  REQUIRE_OK(o.media->write(10, 2, data));
  REQUIRE_OK(o.drive->revert_locking_sp(admin, /*keep_global_range_key=*/true));
  bool active = true;
  REQUIRE_OK(o.drive->locking_active(&active));
  CHECK_FALSE(active);
  std::vector<uint8_t> back(data.size());
  REQUIRE_OK(o.media->read(10, 2, back));
  CHECK(back == data);  // global key kept
  // SID still owns the drive, so activation works again.
  REQUIRE_OK(o.drive->activate_locking(pw));
}

TEST_CASE("MBRControl and discovery flags") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  SecureBytes pw = secret("sid-pw");
  REQUIRE_OK(o.drive->set_mbr({Authority::admin(1), pw}, true, true));
  REQUIRE_OK(o.drive->refresh_discovery());
  CHECK(o.drive->discovery().locking.mbr_enabled);
  CHECK(o.drive->discovery().locking.mbr_done);
}

TEST_CASE("state persists across close and reopen; power-on relocks ranges") {
  DriveFile f;
  auto data = pattern(8, 21);
  {
    Opened o(f.path);
    own_and_activate(*o.drive);
    SecureBytes pw = secret("sid-pw");
    Credential admin{Authority::admin(1), pw};
    REQUIRE_OK(o.drive->set_password(admin, Authority::admin(1), secret("admin-pw")));
    SecureBytes apw = secret("admin-pw");
    REQUIRE_OK(o.drive->setup_range({Authority::admin(1), apw}, {1, 100, 100}));
    REQUIRE_OK(o.media->write(120, 8, data));
    REQUIRE_OK(o.media->flush());
  }
  Opened o(f.path);
  SecureBytes apw = secret("admin-pw");
  Credential admin{Authority::admin(1), apw};
  CHECK(o.drive->discovery().locking.enabled);
  CHECK(o.drive->discovery().locking.locked);  // LockOnReset = PowerCycle
  std::vector<uint8_t> back(data.size());
  CHECK(o.media->read(120, 8, back).code() == Errc::permission);
  LockingRange r;
  REQUIRE_OK(o.drive->read_range(admin, 1, &r));
  CHECK(r.start == 100);
  CHECK(r.length == 100);
  CHECK(r.read_locked);
  REQUIRE_OK(o.drive->unlock(admin, 1));
  REQUIRE_OK(o.media->read(120, 8, back));
  CHECK(back == data);
  // The old Admin1 password no longer works; the SID password still does.
  SecureBytes old = secret("sid-pw");
  CHECK(o.drive->lock({Authority::admin(1), old}, 1).code() == Errc::permission);
  REQUIRE_OK(o.drive->set_sid_password(old, secret("sid2")));
}

TEST_CASE("concurrent data I/O from several threads") {
  DriveFile f;
  Opened o(f.path);
  own_and_activate(*o.drive);
  SecureBytes pw = secret("sid-pw");
  REQUIRE_OK(o.drive->setup_range({Authority::admin(1), pw}, {1, 1024, 1024}));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto data = pattern(4, uint8_t(t));
      std::vector<uint8_t> back(data.size());
      for (int i = 0; i < 50; ++i) {
        uint64_t lba = uint64_t(t) * 512 + uint64_t(i) * 4;  // threads 2,3 are in range 1
        if (!o.media->write(lba, 4, data).ok() || !o.media->read(lba, 4, back).ok() || back != data) ++failures[t];
      }
    });
  }
  // Protocol traffic at the same time: lock state changes serialize against I/O.
  for (int i = 0; i < 5; ++i) REQUIRE_OK(o.drive->refresh_discovery());
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(failures[t] == 0);
}

TEST_CASE("emu: device paths and bad files") {
  DriveFile f;
  std::unique_ptr<EmulatedDrive> d;
  REQUIRE_OK(EmulatedDrive::open_device_path("emu:" + f.path, &d));
  CHECK(d->block_count() == (4u << 20) / 512);
  CHECK(EmulatedDrive::open_device_path("/dev/nvme0n1", &d).code() == Errc::invalid_argument);
  std::string junk = f.dir + "/junk";
  REQUIRE(std::system(("head -c 4096 /dev/zero > " + junk).c_str()) == 0);
  CHECK(EmulatedDrive::open(junk, &d).code() == Errc::corrupt);
  CHECK(EmulatedDrive::create(f.path, 4096, secret("p")).code() == Errc::busy);  // exists
}

// The emulated drive as engine Storage, and the "opal" inline provider: the engine serves
// the drive's plaintext through a pass-through session; a locked range fails the request
// with Errc::permission at once (no hang), and unlocking makes the same request succeed.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/opal/drive.h"
#include "backends/opal/inline_provider.h"
#include "backends/registry.h"
#include "engine/engine.h"
#include "engine/ring_queue.h"
#include "fixtures/opal/emulated_drive.h"
#include "fixtures/opal/emulated_storage.h"

using namespace ublkcrypt;
using namespace ublkcrypt::opal;
using emu::EmulatedDrive;

namespace {

#define REQUIRE_OK(expr)                    \
  do {                                      \
    Status _s = (expr);                     \
    REQUIRE_MESSAGE(_s.ok(), _s.message()); \
  } while (0)

SecureBytes secret(std::string_view text) {
  SecureBytes out;
  REQUIRE(SecureBytes::copy_of({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, &out).ok());
  return out;
}

struct Fixture {
  std::string dir;
  std::shared_ptr<EmulatedDrive> media;
  std::unique_ptr<Drive> drive;
  Registry registry;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<RingQueue> queue;

  Fixture() {
    char tmpl[] = "/tmp/opal-storage-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    REQUIRE_OK(EmulatedDrive::create(dir + "/d.img", 4 << 20, secret("PSID")));
    std::unique_ptr<EmulatedDrive> m;
    REQUIRE_OK(EmulatedDrive::open(dir + "/d.img", &m));
    media = std::move(m);
    REQUIRE_OK(Drive::open(*media, &drive));
    registry.add(make_opal_inline_provider());
  }
  ~Fixture() {
    queue.reset();
    engine.reset();
    std::filesystem::remove_all(dir);
  }

  void start_engine() {
    std::unique_ptr<Storage> storage;
    REQUIRE_OK(emu::open_emulated_storage(media, false, &storage));
    CipherSpec spec;
    REQUIRE_OK(CipherSpec::parse("cipher_null-ecb", 0, 512, &spec));
    SessionOptions so;
    so.backend = "opal";
    std::unique_ptr<ublkcrypt::Session> session;
    REQUIRE_OK(registry.open_session(spec, {}, so, &session));
    REQUIRE_OK(Engine::create(EngineConfig{}, std::move(storage), std::move(session), &engine));
    REQUIRE_OK(RingQueue::open(*engine, 8, &queue));
  }

  struct Done final : BlockCompletion {
    bool done = false;
    Status status;
    void block_done(BlockRequest*, Status s) override {
      done = true;
      status = s;
    }
  };

  Status io(BlockOp op, uint64_t offset, uint8_t* buffer, uint32_t length) {
    Done d;
    BlockRequest r;
    r.op = op;
    r.offset = offset;
    r.length = length;
    r.buffer = buffer;
    r.completion = &d;
    queue->submit(&r);
    while (!d.done) queue->wait_and_process();
    return d.status;
  }
};

struct AlignedBuffer {
  uint8_t* p;
  explicit AlignedBuffer(size_t n) : p(static_cast<uint8_t*>(std::aligned_alloc(4096, n))) {}
  ~AlignedBuffer() { std::free(p); }
};

}  // namespace

TEST_CASE("the engine serves the emulated drive through the opal pass-through provider") {
  Fixture f;
  f.start_engine();
  CHECK(f.engine->size_bytes() == 4u << 20);
  CHECK(f.engine->session().provider()->info().placement == Placement::inline_device);
  AlignedBuffer out(8192), in(8192);
  for (int i = 0; i < 8192; ++i) out.p[i] = uint8_t(i * 13 + 1);
  std::vector<uint8_t> expect(out.p, out.p + 8192);
  REQUIRE_OK(f.io(BlockOp::write, 1 << 20, out.p, 8192));
  REQUIRE_OK(f.io(BlockOp::flush, 0, nullptr, 0));
  REQUIRE_OK(f.io(BlockOp::read, 1 << 20, in.p, 8192));
  CHECK(std::memcmp(in.p, expect.data(), 8192) == 0);
  // The drive, not the host, encrypted it: the same blocks read back through the drive's
  // own data path are the plaintext, and the file holds something else.
  std::vector<uint8_t> direct(8192);
  REQUIRE_OK(f.media->read((1 << 20) / 512, 16, direct));
  CHECK(direct == expect);
  const ProviderCounters& c = f.engine->session().provider()->counters();
  CHECK(c.payload_bytes.load() == 2 * 8192);
  CHECK(c.copy_bytes.load() == 0);
}

TEST_CASE("a locked range fails engine I/O with permission until it is unlocked") {
  Fixture f;
  SecureBytes pw = secret("admin-pw");
  REQUIRE_OK(f.drive->take_ownership(pw));
  REQUIRE_OK(f.drive->activate_locking(pw));
  Credential admin{Authority::admin(1), pw};
  RangeSetup r;
  r.index = 1;
  r.start = 2048;  // 1 MiB
  r.length = 2048;
  REQUIRE_OK(f.drive->setup_range(admin, r));
  REQUIRE_OK(f.drive->lock(admin, 1));
  f.start_engine();
  AlignedBuffer buf(8192);
  std::memset(buf.p, 0x5A, 8192);
  // Outside the range: the global range is not lock-enabled.
  REQUIRE_OK(f.io(BlockOp::write, 0, buf.p, 4096));
  Status s = f.io(BlockOp::read, 1 << 20, buf.p, 4096);
  CHECK(s.code() == Errc::permission);
  CHECK_MESSAGE(s.message().find("locked range 1") != std::string::npos, s.message());
  s = f.io(BlockOp::write, (1 << 20) + 4096, buf.p, 4096);
  CHECK(s.code() == Errc::permission);
  // A request straddling the range's start is refused as a whole.
  s = f.io(BlockOp::read, (1 << 20) - 4096, buf.p, 8192);
  CHECK(s.code() == Errc::permission);
  REQUIRE_OK(f.drive->unlock(admin, 1));
  REQUIRE_OK(f.io(BlockOp::write, 1 << 20, buf.p, 4096));
  REQUIRE_OK(f.io(BlockOp::read, 1 << 20, buf.p, 4096));
  CHECK(buf.p[100] == 0x5A);
}

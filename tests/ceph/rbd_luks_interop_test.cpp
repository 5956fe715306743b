// LUKS2 on rbd images, both ways with librbd's own encryption: an image formatted by
// `rbd encryption format` and written by qemu through librbd's LUKS2 reads back byte for
// byte through ublkcrypt's engine; an image ublkcrypt formats (header through the shadow
// file) and writes reads back identical through qemu with librbd's LUKS2. And keyslot
// changes made on the shadow reach the image.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "engine/rbd_storage.h"
#include "tests/ceph/rbd_image.h"
#include "tests/engine/engine_fixture.h"
#include "volume/format.h"
#include "volume/header_shadow.h"
#include "volume/luks_volume.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {
namespace {

using namespace testing;

constexpr uint64_t kPlainBytes = 8u << 20;

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void write_file(const std::string& path, const void* data, size_t size) {
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data, size) == ssize_t(size));
  ::close(fd);
}

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
}

// LUKS2 laid out as librbd lays it out (4096-byte sectors, data at an object boundary),
// with a cheap KDF so the test spends its time on the image, not the passphrase.
FormatOptions quick_image_format(const Storage& image) {
  FormatOptions options;
  options.sector_size = 4096;
  options.data_alignment_bytes = rbd_object_size(image);
  options.pbkdf.type = "pbkdf2";
  options.pbkdf.force_iterations = 1000;
  return options;
}

std::unique_ptr<Storage> open_rbd(const std::string& spec) {
  std::unique_ptr<Storage> storage;
  Status s = open_rbd_storage(spec, {}, &storage);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return storage;
}

// The image's LUKS2 volume, unlocked through a shadow of its header.
UnlockedVolume unlock(Storage& storage, const std::string& passphrase) {
  std::unique_ptr<HeaderShadow> shadow;
  Status s = HeaderShadow::load(storage, &shadow);
  REQUIRE_MESSAGE(s.ok(), s.message());
  UnlockedVolume volume;
  s = unlock_volume(shadow->path(), bytes(passphrase), std::nullopt, &volume);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return volume;
}

std::unique_ptr<Engine> open_volume_engine(std::unique_ptr<Storage> storage,
                                           const UnlockedVolume& volume) {
  std::unique_ptr<Session> session;
  Status s = software_registry().open_session(volume.spec, volume.key.view(), {}, &session);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::unique_ptr<Engine> engine;
  s = Engine::create({.data_offset = volume.data_offset_bytes, .size_bytes = volume.size_bytes},
                     std::move(storage), std::move(session), &engine);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return engine;
}

std::vector<uint8_t> random_bytes(size_t size, uint64_t seed) {
  std::vector<uint8_t> out(size);
  std::mt19937_64 rng(seed);
  fill_random(out.data(), size, rng);
  return out;
}

std::string qemu_opts(const TestImage& image) {
  return "driver=rbd,pool=rbd,image=" + image.name() +
         ",encrypt.format=luks2,encrypt.key-secret=sec0";
}

TEST_CASE("rbd interop: an image librbd formatted and wrote with LUKS2 reads back through ublkcrypt") {
  TempDir dir("/var/tmp");
  TestImage image(32u << 20, "from-librbd");
  const std::string passphrase = "interop passphrase one";
  const std::string pass_file = dir.file("pass");
  write_file(pass_file, passphrase.data(), passphrase.size());
  const std::vector<uint8_t> plain = random_bytes(kPlainBytes, 21);
  const std::string source = dir.file("plain");
  write_file(source, plain.data(), plain.size());
  run("rbd encryption format rbd/" + image.name() + " luks2 " + pass_file);
  run("qemu-img convert --object secret,id=sec0,file=" + pass_file + " -n -f raw " + source +
      " --target-image-opts '" + qemu_opts(image) + "'");

  auto storage = open_rbd(image.spec());
  const UnlockedVolume volume = unlock(*storage, passphrase);
  // librbd's LUKS2: 4096-byte sectors, data at 16 MiB (a multiple of the object size).
  CHECK(volume.spec.sector_size == 4096);
  CHECK(volume.data_offset_bytes == (16u << 20));
  auto engine = open_volume_engine(std::move(storage), volume);
  auto queue = open_queue(*engine, 4);
  AlignedBuffer back(kPlainBytes);
  for (uint64_t at = 0; at < kPlainBytes; at += 512u << 10)
    REQUIRE(run_one(*queue, BlockOp::read, at, 512u << 10, back.data + at).ok());
  CHECK(std::memcmp(back.data, plain.data(), kPlainBytes) == 0);
}

TEST_CASE("rbd interop: an image ublkcrypt formatted and wrote reads back through librbd's LUKS2") {
  TempDir dir("/var/tmp");
  TestImage image(32u << 20, "from-ublkcrypt");
  const std::string passphrase = "interop passphrase two";
  const std::string pass_file = dir.file("pass");
  write_file(pass_file, passphrase.data(), passphrase.size());
  auto storage = open_rbd(image.spec());
  {
    std::unique_ptr<HeaderShadow> shadow;
    REQUIRE(HeaderShadow::load(*storage, &shadow).ok());
    Status s = format_volume(shadow->path(), quick_image_format(*storage), bytes(passphrase),
                             nullptr);
    REQUIRE_MESSAGE(s.ok(), s.message());
    s = shadow->write_back();
    REQUIRE_MESSAGE(s.ok(), s.message());
  }
  const UnlockedVolume volume = unlock(*storage, passphrase);
  CHECK(volume.data_offset_bytes % rbd_object_size(*storage) == 0);
  const std::vector<uint8_t> plain = random_bytes(kPlainBytes, 22);
  {
    auto engine = open_volume_engine(std::move(storage), volume);
    auto queue = open_queue(*engine, 4);
    AlignedBuffer buffer(kPlainBytes);
    std::memcpy(buffer.data, plain.data(), kPlainBytes);
    for (uint64_t at = 0; at < kPlainBytes; at += 512u << 10) {
      Status s = run_one(*queue, BlockOp::write, at, 512u << 10, buffer.data + at);
      REQUIRE_MESSAGE(s.ok(), s.message());
    }
    REQUIRE(run_one(*queue, BlockOp::flush, 0, 0, nullptr).ok());
  }
  const std::string out = dir.file("out");
  run("qemu-img convert --object secret,id=sec0,file=" + pass_file + " --image-opts '" +
      qemu_opts(image) + "' -O raw " + out);
  const std::vector<uint8_t> back = read_file(out, 0, kPlainBytes);
  CHECK(back == plain);
}

TEST_CASE("rbd header shadow: a keyslot added on the shadow opens the image after write-back") {
  TestImage image(32u << 20, "keys");
  auto storage = open_rbd(image.spec());
  std::unique_ptr<HeaderShadow> shadow;
  REQUIRE(HeaderShadow::load(*storage, &shadow).ok());
  const FormatOptions options = quick_image_format(*storage);
  REQUIRE(format_volume(shadow->path(), options, bytes("first"), nullptr).ok());
  REQUIRE(shadow->write_back().ok());
  std::unique_ptr<LuksVolume> luks;
  REQUIRE(LuksVolume::load(shadow->path(), &luks).ok());
  REQUIRE(luks->set_pbkdf(options.pbkdf).ok());
  int added = -1;
  REQUIRE(luks->add_key(bytes("first"), bytes("second"), std::nullopt, &added).ok());
  luks.reset();
  REQUIRE(shadow->write_back().ok());
  shadow.reset();

  // A fresh shadow, from the image alone, opens with both; the primary header on the
  // image is what the shadow holds.
  const UnlockedVolume one = unlock(*storage, "first");
  const UnlockedVolume two = unlock(*storage, "second");
  CHECK(two.keyslot == added);
  CHECK(one.keyslot != two.keyslot);
  const std::vector<uint8_t> head = image.read(0, 6);
  CHECK(head == std::vector<uint8_t>{'L', 'U', 'K', 'S', 0xba, 0xbe});
}

}  // namespace
}  // namespace ublkcrypt

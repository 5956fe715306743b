// HeaderShadow's write-back is crash-safe: a passphrase change written back through a
// backing that records every write is replayed onto the old image cut after each write
// (and with that write torn in half); at every cut the image opens with exactly one of
// the old and the new passphrase, never neither. Runs on an image file (the shadow works
// on any Storage); tests/ceph runs it on rbd.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/storage_wrapper.h"
#include "tests/engine/engine_fixture.h"
#include "volume/format.h"
#include "volume/header_shadow.h"
#include "volume/luks_volume.h"
#include "volume/unlocked_volume.h"

namespace ublkcrypt {
namespace {

using namespace testing;

std::span<const uint8_t> bytes(const char* s) {
  return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)};
}

struct Write {
  uint64_t offset;
  std::vector<uint8_t> data;
};

// Passes everything through; keeps a copy of each write.
class RecordingQueue final : public StorageQueue {
 public:
  RecordingQueue(std::unique_ptr<StorageQueue> inner, std::vector<Write>* log)
      : inner_(std::move(inner)), log_(log) {}
  void submit(StorageIo* io) override {
    if (io->op == StorageOp::write)
      log_->push_back({io->offset, std::vector<uint8_t>(io->buffer, io->buffer + io->length)});
    inner_->submit(io);
  }
  void kick() override { inner_->kick(); }
  void reap() override { inner_->reap(); }

 private:
  std::unique_ptr<StorageQueue> inner_;
  std::vector<Write>* log_;
};

bool opens(const std::string& image, const char* passphrase) {
  UnlockedVolume volume;
  return unlock_volume(image, bytes(passphrase), std::nullopt, &volume).ok();
}

void apply(const std::string& image, const Write& w, size_t length) {
  std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(w.offset));
  f.write(reinterpret_cast<const char*>(w.data.data()), std::streamsize(length));
}

TEST_CASE("header shadow: a passphrase change written back leaves the old or the new header at every cut") {
  TempDir dir("/var/tmp");
  const std::string image = dir.file("image");
  make_image(image, 32u << 20, 0);
  FormatOptions options;
  options.pbkdf.type = "pbkdf2";
  options.pbkdf.force_iterations = 1000;
  {
    auto storage = open_file(image);
    std::unique_ptr<HeaderShadow> shadow;
    REQUIRE(HeaderShadow::load(*storage, &shadow).ok());
    REQUIRE(format_volume(shadow->path(), options, bytes("old"), nullptr).ok());
    REQUIRE(shadow->write_back().ok());
  }
  REQUIRE(opens(image, "old"));
  const std::string before = dir.file("before");
  std::filesystem::copy_file(image, before);

  std::vector<Write> log;
  {
    StorageWrapper<RecordingQueue, std::vector<Write>*> storage(open_file(image), &log);
    std::unique_ptr<HeaderShadow> shadow;
    REQUIRE(HeaderShadow::load(storage, &shadow).ok());
    std::unique_ptr<LuksVolume> luks;
    REQUIRE(LuksVolume::load(shadow->path(), &luks).ok());
    REQUIRE(luks->set_pbkdf(options.pbkdf).ok());
    int changed = -1;
    REQUIRE(luks->change_key(bytes("old"), bytes("new"), std::nullopt, &changed).ok());
    luks.reset();
    REQUIRE(shadow->write_back().ok());
  }
  REQUIRE(opens(image, "new"));
  REQUIRE(!opens(image, "old"));
  REQUIRE(log.size() >= 2);

  const std::string cut = dir.file("cut");
  for (size_t k = 0; k <= log.size(); ++k) {
    for (bool torn : {false, true}) {
      if (torn && k == log.size()) continue;
      std::filesystem::copy_file(before, cut, std::filesystem::copy_options::overwrite_existing);
      for (size_t i = 0; i < k; ++i) apply(cut, log[i], log[i].data.size());
      if (torn) apply(cut, log[k], log[k].data.size() / 2);
      const bool old_opens = opens(cut, "old");
      const bool new_opens = opens(cut, "new");
      INFO("cut after ", k, " of ", log.size(), " writes", std::string(torn ? " and half of the next" : ""));
      CHECK(old_opens != new_opens);
    }
  }
}

}  // namespace
}  // namespace ublkcrypt

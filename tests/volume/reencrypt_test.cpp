// `ublkcrypt reencrypt` as a user runs it, on image files: the plaintext survives under a new
// volume key (cryptsetup reads the key; OpenSSL's reference path decrypts), an interrupted
// run is refused by `open` with the command that finishes it and finishes with every byte
// intact, and bad input leaves the volume as it was.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <libcryptsetup.h>

#include "backends/software/sector_cipher.h"
#include "tests/volume/scratch.h"
#include "volume/unlocked_volume.h"

using namespace ublkcrypt;
using namespace ublkcrypt::test;

namespace {

const std::string kFast = " --pbkdf pbkdf2 --pbkdf-force-iterations 1000";
constexpr uint64_t kImageBytes = 32 << 20;  // 16 MiB of data after LUKS2's 16 MiB header

Run cli(const std::string& args) { return run(std::string(UBLKCRYPT_BINARY) + " " + args + " </dev/null"); }

std::vector<uint8_t> read_range(const std::string& path, uint64_t offset, uint64_t bytes) {
  std::vector<uint8_t> out(bytes);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, out.data(), bytes, static_cast<off_t>(offset)) == ssize_t(bytes));
  ::close(fd);
  return out;
}

void write_range(const std::string& path, uint64_t offset, const std::vector<uint8_t>& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)) ==
          ssize_t(data.size()));
  ::close(fd);
}

// Encrypts (or decrypts) the whole decrypted device through OpenSSL's path with the key and
// geometry the header gives for `passphrase`: the reference, not the code under test.
std::vector<uint8_t> transform(const std::string& img, const std::string& passphrase,
                               Direction direction, std::vector<uint8_t> data,
                               const std::string& header = "") {
  UnlockedVolume v;
  Status s = unlock_volume(img, bytes(passphrase), std::nullopt, &v, header);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(data.size() == v.size_bytes);
  std::unique_ptr<SectorCipher> cipher;
  s = SectorCipher::make(v.spec, v.key.view(), AesImplementation::openssl, &cipher);
  REQUIRE_MESSAGE(s.ok(), s.message());
  SectorRun run{direction, data.data(), data.data(), 0,
                static_cast<uint32_t>(data.size() / v.spec.sector_size)};
  SectorSlice slice{&run, 0, run.sector_count};
  Status result;
  cipher->crypt(std::span(&slice, 1), &result);
  REQUIRE_MESSAGE(result.ok(), result.message());
  return data;
}

uint64_t data_offset(const std::string& img, const std::string& passphrase,
                     const std::string& header = "") {
  UnlockedVolume v;
  REQUIRE(unlock_volume(img, bytes(passphrase), std::nullopt, &v, header).ok());
  return v.data_offset_bytes;
}

std::vector<uint8_t> plaintext_of(const std::string& img, const std::string& passphrase,
                                  const std::string& header = "") {
  const uint64_t offset = data_offset(img, passphrase, header);
  return transform(img, passphrase, Direction::decrypt,
                   read_range(img, offset, kImageBytes - offset), header);
}

// Fills the volume with random plaintext, written encrypted; returns the plaintext.
std::vector<uint8_t> fill(const std::string& img, const std::string& passphrase, unsigned seed,
                          const std::string& header = "") {
  const uint64_t offset = data_offset(img, passphrase, header);
  std::vector<uint8_t> plain(kImageBytes - offset);
  std::mt19937_64 random(seed);
  for (size_t i = 0; i < plain.size(); i += 8) {
    const uint64_t word = random();
    std::memcpy(plain.data() + i, &word, 8);
  }
  write_range(img, offset, transform(img, passphrase, Direction::encrypt, plain, header));
  return plain;
}

std::string volume(Scratch& scratch, const std::string& key_file, const std::string& cipher,
                   uint32_t key_bits, uint32_t sector_size) {
  std::string img = scratch.image("img", kImageBytes);
  Run made = run(luks_format_command(img, key_file, cipher, key_bits, sector_size));
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  return img;
}

// The lines of `cryptsetup luksDump IMG` that `keep` accepts.
std::string dump_lines(const std::string& img, const std::function<bool(const std::string&)>& keep) {
  const std::string dump = run("cryptsetup luksDump " + img).output;
  std::string kept;
  for (size_t at = 0; at < dump.size();) {
    const size_t end = std::min(dump.find('\n', at), dump.size());
    const std::string line = dump.substr(at, end - at);
    if (keep(line)) kept += line + "\n";
    at = end + 1;
  }
  return kept;
}

// What a refused reencryption must leave as it was: the keyslots, segments and digests
// (luksDump without the metadata's write counter, which a keyslot added and taken back
// again advances), and the volume key.
std::string header_state(const std::string& img, const std::string& key_file) {
  const std::string kept =
      dump_lines(img, [](const std::string& line) { return line.rfind("Epoch:", 0) != 0; });
  const std::vector<uint8_t> key = cryptsetup_volume_key(img, key_file);
  return kept + std::string(key.begin(), key.end());
}

// Whether some key the passphrase unlocks (any keyslot, bound to the data or not) decrypts
// the data area to `plain`: the data survived, whatever the header says about it.
bool intact_under_some_key(const std::string& img, const std::string& passphrase,
                           const std::vector<uint8_t>& plain, const std::string& header = "") {
  crypt_device* cd = nullptr;
  REQUIRE((header.empty() ? crypt_init(&cd, img.c_str())
                          : crypt_init_data_device(&cd, header.c_str(), img.c_str())) == 0);
  REQUIRE(crypt_load(cd, CRYPT_LUKS2, nullptr) == 0);
  const std::string cipher = std::string(crypt_get_cipher(cd)) + "-" + crypt_get_cipher_mode(cd);
  const uint32_t sector_size = static_cast<uint32_t>(crypt_get_sector_size(cd));
  const uint64_t offset = crypt_get_data_offset(cd) * 512;
  bool intact = false;
  for (int slot = 0; slot < crypt_keyslot_max(CRYPT_LUKS2) && !intact; ++slot) {
    std::vector<uint8_t> key(64);
    size_t key_size = key.size();
    if (crypt_volume_key_get(cd, slot, reinterpret_cast<char*>(key.data()), &key_size,
                             passphrase.data(), passphrase.size()) < 0)
      continue;
    key.resize(key_size);
    CipherSpec spec;
    if (!CipherSpec::parse(cipher, uint32_t(key_size * 8), sector_size, &spec).ok()) continue;
    std::unique_ptr<SectorCipher> sectors;
    REQUIRE(SectorCipher::make(spec, key, AesImplementation::openssl, &sectors).ok());
    std::vector<uint8_t> data = read_range(img, offset, plain.size());
    SectorRun run{Direction::decrypt, data.data(), data.data(), 0,
                  static_cast<uint32_t>(data.size() / sector_size)};
    SectorSlice slice{&run, 0, run.sector_count};
    Status result;
    sectors->crypt(std::span(&slice, 1), &result);
    intact = result.ok() && data == plain;
  }
  crypt_free(cd);
  return intact;
}

bool in_progress(const std::string& img) {
  return run("cryptsetup luksDump " + img).output.find("online-reencrypt") != std::string::npos;
}

// A kill at the pauses-th pass of a pause point, and the tool that resumes afterwards.
struct Kill {
  const char* point;
  int pauses;
  const char* resumer;
};

// Starts the test build's `ublkcrypt COMMAND` (with `environment` before it, e.g.
// "TMPDIR=..."), lets it pass the pause point `point` (base/pause_point.h) pauses - 1 times
// and kills it (SIGKILL) while it is held there the pauses-th time.
void kill_at_pause(const Scratch& scratch, const std::string& point, int pauses,
                   const std::string& command, const std::string& environment = "") {
  const std::string fifo = scratch.path("pause");
  Run killed = run("mkfifo " + fifo + "; " + environment + " UBLKCRYPT_TEST_PAUSE=" + point + ":" +
                   fifo + " " + UBLKCRYPT_TEST_BINARY + " " + command +
                   " </dev/null >/dev/null 2>&1 & pid=$!; i=0; while timeout 30 cat " + fifo +
                   " >/dev/null; i=$((i+1)); [ $i -lt " + std::to_string(pauses) +
                   " ]; do echo go >" + fifo + "; done; kill -9 $pid; wait $pid; exit 0");
  REQUIRE_MESSAGE(killed.exit_code == 0, killed.output);
}

// The run after `kill`: the same ublkcrypt command, or cryptsetup's --resume-only with
// `cryptsetup_args` (a file is not a device cryptsetup can check for users, hence its
// --force-offline-reencrypt).
Run resume_after(const Kill& kill, const std::string& command, const std::string& cryptsetup_args) {
  if (std::string_view(kill.resumer) == "cryptsetup")
    return run("cryptsetup reencrypt -q --resume-only --force-offline-reencrypt " + cryptsetup_args);
  return cli(command);
}

}  // namespace

TEST_CASE("reencrypt: a new volume key, every byte of plaintext kept, cryptsetup agrees") {
  struct Case {
    const char* cipher;
    uint32_t key_bits, sector_size;
    std::string args;  // the new cipher, if any; -q as cryptsetup's scripts give it
    CipherMode mode_after;
  };
  const Case cases[] = {
      {"aes-xts-plain64", 512, 512, "", CipherMode::aes_xts_plain64},
      {"aes-xts-plain64", 256, 4096, "", CipherMode::aes_xts_plain64},
      {"aes-xts-plain64", 512, 512, " --cipher aes-cbc-essiv:sha256 --key-size 256",
       CipherMode::aes_cbc_essiv_sha256},
      {"aes-cbc-essiv:sha256", 256, 512, " -q --cipher aes-xts-plain64",
       CipherMode::aes_xts_plain64},
  };
  for (const Case& c : cases) {
    CAPTURE(c.cipher);
    CAPTURE(c.sector_size);
    CAPTURE(c.args);
    Scratch scratch;
    const std::string key = scratch.file("pass", "pw");
    const std::string img = volume(scratch, key, c.cipher, c.key_bits, c.sector_size);
    const std::vector<uint8_t> plain = fill(img, "pw", 1);
    const std::vector<uint8_t> old_key = cryptsetup_volume_key(img, key);

    Run r = cli("reencrypt --key-file " + key + " --hotzone-size 4194304" + c.args + " " + img);
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(r.output.empty());
    CHECK(!in_progress(img));
    CHECK(cryptsetup_volume_key(img, key) != old_key);
    UnlockedVolume after;
    REQUIRE(unlock_volume(img, bytes("pw"), std::nullopt, &after).ok());
    CHECK(after.spec.mode == c.mode_after);
    CHECK(after.spec.sector_size == c.sector_size);
    CHECK(plaintext_of(img, "pw") == plain);
  }
}

TEST_CASE("reencrypt --header: a detached header, the data device holding only data") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string img = scratch.image("img", kImageBytes);
  const std::string hdr = scratch.path("hdr");
  Run made = run("cryptsetup luksFormat -q --type luks2" + kFast + " --header " + hdr +
                 " --key-file " + key + " " + img);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  const std::vector<uint8_t> plain = fill(img, "pw", 3, hdr);
  REQUIRE(data_offset(img, "pw", hdr) == 0);

  Run without = cli("reencrypt --key-file " + key + " " + img);
  CHECK(without.exit_code == 1);  // the data device alone holds no header
  Run r = cli("reencrypt --key-file " + key + " --hotzone-size 4194304 --header " + hdr + " " +
              img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(run("cryptsetup luksDump " + hdr).output.find("online-reencrypt") == std::string::npos);
  CHECK(plaintext_of(img, "pw", hdr) == plain);
}

TEST_CASE("an interrupted reencryption: open refuses it by name, --resume-only finishes it") {
  // Killed (SIGKILL) while held where libcryptsetup reports progress: at the start (pause 1),
  // after the 2nd of the 16 hotzones (3), and after the last (17: every sector moved, the
  // header not finalised, which libcryptsetup 2.6 cannot resume without destroying the data,
  // so ublkcrypt refuses to and the data must still be there); then at
  // moments chosen by the clock, which can fall inside a hotzone's write (the crash
  // libcryptsetup's checksum resilience recovers).
  // The clock's moments stay early in a run: libcryptsetup 2.6's last step has a window no
  // tool resumes (volume/reencrypt.h), which a late kill on a fast machine could hit.
  const std::string kill_after[] = {"pause 1", "pause 3", "pause 17", "sleep 0.1", "sleep 0.17",
                                    "sleep 0.24"};
  for (const std::string& when : kill_after) {
    CAPTURE(when);
    Scratch scratch;
    const std::string key = scratch.file("pass", "pw");
    const std::string img = volume(scratch, key, "aes-xts-plain64", 512, 512);
    const std::vector<uint8_t> plain = fill(img, "pw", 2);
    const std::string args = " reencrypt --key-file " + key + " --hotzone-size 1048576 " + img +
                             " </dev/null >/dev/null 2>&1 & pid=$!; ";
    std::string script;
    if (when.rfind("pause ", 0) == 0) {
      // The test build holds at the pause point until told to go (base/pause_point.h).
      const std::string fifo = scratch.path("pause");
      script = "mkfifo " + fifo + "; UBLKCRYPT_TEST_PAUSE=reencrypt-hotzone:" + fifo + " " +
               UBLKCRYPT_TEST_BINARY + args + "i=0; while timeout 30 cat " + fifo +
               " >/dev/null; i=$((i+1)); [ $i -lt " + when.substr(6) + " ]; do echo go >" +
               fifo + "; done; ";
    } else {
      script = std::string(UBLKCRYPT_BINARY) + args + when + "; ";
    }
    Run killed = run(script + "kill -9 $pid; wait $pid; exit 0");
    REQUIRE_MESSAGE(killed.exit_code == 0, killed.output);
    const bool interrupted = in_progress(img);
    if (when.rfind("pause ", 0) == 0) REQUIRE(interrupted);

    if (interrupted) {
      UnlockedVolume refused;
      Status s = unlock_volume(img, bytes("pw"), std::nullopt, &refused);
      CHECK(s.code() == Errc::unsupported);
      CHECK(s.message().find("finish it with ublkcrypt reencrypt --resume-only " + img) !=
            std::string::npos);
      Run changed = cli("reencrypt --key-file " + key + " --cipher aes-cbc-essiv:sha256 " + img);
      CHECK(changed.exit_code == 1);
      CHECK(changed.output.find("already in progress") != std::string::npos);
      Run resumed = cli("reencrypt --resume-only --key-file " + key + " " + img);
      // Every sector moved but the header not finalised: refused, the data kept. Always so
      // at pause 17; a kill by the clock can land there too on a fast machine.
      const bool not_finalised = resumed.output.find("every sector is already under the new key but "
                                               "the header was not finalised") !=
                           std::string::npos;
      if (when == "pause 17") CHECK(not_finalised);
      if (when == "pause 1" || when == "pause 3") CHECK(!not_finalised);
      if (not_finalised) {
        CHECK(resumed.exit_code == 1);
        CHECK(intact_under_some_key(img, "pw", plain));
        continue;
      }
      CHECK_MESSAGE(resumed.exit_code == 0, resumed.output);
      CHECK(!in_progress(img));
    }
    CHECK(plaintext_of(img, "pw") == plain);
  }
}

TEST_CASE("reencrypt refuses bad input with one line and leaves the header as it was") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string wrong = scratch.file("wrong", "nope");
  const std::string second = scratch.file("second", "another");
  const std::string img = volume(scratch, key, "aes-xts-plain64", 512, 512);
  REQUIRE(run("cryptsetup luksAddKey" + kFast + " --key-file " + key + " " + img + " " + second)
              .exit_code == 0);
  const std::string before = header_state(img, key);

  struct Refusal {
    std::string args;
    int exit_code;
    std::string says;
  };
  const Refusal refusals[] = {
      {"--key-file " + key, 1, "2 key slots are active and only one is kept; name it with --key-slot"},
      {"--key-slot 0 --key-file " + wrong, 2, "wrong passphrase"},
      {"--resume-only --key-slot 0 --key-file " + key, 1, "no reencryption in progress"},
      // libcryptsetup runs no serpent here (no kernel crypto API, none in OpenSSL): its
      // keyslot for the new key is added, then taken back.
      {"--key-slot 0 --cipher serpent-xts-plain64 --key-file " + key, 1,
       "Unable to use cipher specification serpent-xts-plain64"},
      {"--key-slot 0 --resilience sometimes --key-file " + key, 1, "resilience sometimes"},
  };
  for (const Refusal& refusal : refusals) {
    CAPTURE(refusal.args);
    Run r = cli("reencrypt " + refusal.args + " " + img);
    CHECK(r.exit_code == refusal.exit_code);
    CHECK(r.output.find(refusal.says) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK(header_state(img, key) == before);
  }

  Run luks1 = run("cryptsetup luksFormat -q --type luks1" + kFast + " --key-file " + key + " " +
                  scratch.image("luks1", 8 << 20));
  REQUIRE(luks1.exit_code == 0);
  Run r = cli("reencrypt --key-file " + key + " " + scratch.path("luks1"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("a LUKS1 volume") != std::string::npos);

  // Named, the kept slot's passphrase is the only one left, as with cryptsetup --key-slot.
  r = cli("reencrypt --key-slot 1 --key-file " + second + " " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(run("cryptsetup open --test-passphrase --key-file " + second + " " + img).exit_code == 0);
  CHECK(run("cryptsetup open --test-passphrase --key-file " + key + " " + img).exit_code != 0);
}

namespace {

// A data device of kImageBytes random bytes in the clear; returns them.
std::vector<uint8_t> clear_data(const std::string& img, unsigned seed) {
  std::vector<uint8_t> plain(kImageBytes);
  std::mt19937_64 random(seed);
  for (size_t i = 0; i < plain.size(); i += 8) {
    const uint64_t word = random();
    std::memcpy(plain.data() + i, &word, 8);
  }
  write_range(img, 0, plain);
  return plain;
}

}  // namespace

TEST_CASE("reencrypt --encrypt makes data in the clear a LUKS2 volume (detached header); --decrypt undoes it") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string img = scratch.image("img", kImageBytes);
  const std::string hdr = scratch.path("hdr");
  const std::vector<uint8_t> plain = clear_data(img, 5);

  Run r = cli("reencrypt --encrypt --header " + hdr + " --key-file " + key + kFast +
              " --hotzone-size 4194304 " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(run("cryptsetup luksDump " + hdr).output.find("online-reencrypt") == std::string::npos);
  CHECK(run("cryptsetup luksDump " + hdr).output.find("cipher: aes-xts-plain64") != std::string::npos);
  CHECK(read_range(img, 0, kImageBytes) != plain);
  CHECK(data_offset(img, "pw", hdr) == 0);
  CHECK(plaintext_of(img, "pw", hdr) == plain);  // the key cryptsetup's header gives
  CHECK(run("cryptsetup open --test-passphrase --header " + hdr + " --key-file " + key + " " + img)
            .exit_code == 0);

  // Encrypting again onto the finished header is refused, the data left as it is.
  const std::vector<uint8_t> encrypted = read_range(img, 0, kImageBytes);
  r = cli("reencrypt --encrypt --header " + hdr + " --key-file " + key + kFast + " " + img);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("already holds a LUKS2 volume") != std::string::npos);
  CHECK(read_range(img, 0, kImageBytes) == encrypted);

  r = cli("reencrypt --decrypt --header " + hdr + " --key-file " + key + " --hotzone-size 4194304 " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(read_range(img, 0, kImageBytes) == plain);
}

TEST_CASE("reencrypt --encrypt/--decrypt: bad input refused in one line, nothing written") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string wrong = scratch.file("wrong", "nope");
  const std::string img = scratch.image("img", kImageBytes);
  const std::vector<uint8_t> plain = clear_data(img, 6);
  struct Refusal {
    std::string args;
    int exit_code;
    std::string says;
  };
  const Refusal refusals[] = {
      {"--encrypt", 1, "needs --header FILE"},
      {"--decrypt", 1, "needs --header FILE"},
      {"--encrypt --decrypt --header " + scratch.path("h1"), 1, "exclude each other"},
      {"--encrypt --cipher aes-cbc-bogus --header " + scratch.path("h2"), 1, "aes-cbc-bogus"},
      {"--encrypt --resume-only --header " + scratch.path("h3"), 1, "no encryption in progress"},
  };
  for (const Refusal& refusal : refusals) {
    CAPTURE(refusal.args);
    Run r = cli("reencrypt " + refusal.args + " --key-file " + key + kFast + " " + img);
    CHECK(r.exit_code == refusal.exit_code);
    CHECK(r.output.find(refusal.says) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK(read_range(img, 0, kImageBytes) == plain);
  }
  for (const char* h : {"h1", "h2", "h3"}) CHECK(::access(scratch.path(h).c_str(), F_OK) != 0);

  // Decrypting with a wrong passphrase: exit 2, the volume as it was.
  const std::string hdr = scratch.path("hdr");
  REQUIRE(cli("reencrypt --encrypt --header " + hdr + " --key-file " + key + kFast + " " + img).exit_code == 0);
  const std::vector<uint8_t> encrypted = read_range(img, 0, kImageBytes);
  Run r = cli("reencrypt --decrypt --header " + hdr + " --key-file " + wrong + " " + img);
  CHECK(r.exit_code == 2);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  CHECK(read_range(img, 0, kImageBytes) == encrypted);
  CHECK(plaintext_of(img, "pw", hdr) == plain);
}

TEST_CASE("an interrupted --encrypt: open refuses it, the same command resumes it") {
  // Killed (SIGKILL) where libcryptsetup reports progress: at the start, after the 2nd of
  // the 8 hotzones, and after the last. There every sector is encrypted but the header not
  // finalised, and libcryptsetup 2.6.1 resumes an encryption there by encrypting every
  // sector a second time (seen: `cryptsetup reencrypt --resume-only` left all 65536
  // sectors wrong), as it does a reencryption: refused, the data intact under the new key.
  for (const int pauses : {1, 3, 9}) {
    CAPTURE(pauses);
    Scratch scratch;
    const std::string key = scratch.file("pass", "pw");
    const std::string img = scratch.image("img", kImageBytes);
    const std::string hdr = scratch.path("hdr");
    const std::vector<uint8_t> plain = clear_data(img, 7);
    const std::string command = " reencrypt --encrypt --header " + hdr + " --key-file " + key + kFast +
                                " --hotzone-size 4194304 " + img;
    kill_at_pause(scratch, "reencrypt-hotzone", pauses, command);
    REQUIRE(run("cryptsetup luksDump " + hdr).output.find("online-reencrypt") != std::string::npos);
    UnlockedVolume refused;
    CHECK(unlock_volume(img, bytes("pw"), std::nullopt, &refused, hdr).code() == Errc::unsupported);

    Run resumed = cli(command);
    if (pauses == 9) {
      CHECK(resumed.exit_code == 1);
      CHECK(resumed.output.find("the header was not finalised") != std::string::npos);
      CHECK(intact_under_some_key(img, "pw", plain, hdr));
      continue;
    }
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    CHECK(run("cryptsetup luksDump " + hdr).output.find("online-reencrypt") == std::string::npos);
    CHECK(plaintext_of(img, "pw", hdr) == plain);
  }
}

namespace {

constexpr uint64_t kReduceBytes = 8 << 20;  // the header takes 4 MiB, the data moves 4 MiB
const std::string kShift = " --reduce-device-size 8M";

// The first `bytes` of the decrypted device, with the key the header gives for "pw".
std::vector<uint8_t> decrypted_prefix(const std::string& img, uint64_t bytes) {
  std::vector<uint8_t> plain = plaintext_of(img, "pw");
  REQUIRE(plain.size() >= bytes);
  plain.resize(bytes);
  return plain;
}

// luksDump's lines that describe the layout: the areas and the data segment.
std::string layout_of(const std::string& img) {
  return dump_lines(img, [](const std::string& line) {
    for (const char* key : {"Metadata area:", "Keyslots area:", "\toffset:", "\tlength:", "\tsector:"})
      if (line.rfind(key, 0) == 0) return true;
    return false;
  });
}

}  // namespace

TEST_CASE("reencrypt --encrypt --reduce-device-size: the header at the start, the data moved as cryptsetup moves it") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string img = scratch.image("img", kImageBytes);
  const std::vector<uint8_t> clear = clear_data(img, 8);
  const std::vector<uint8_t> plain(clear.begin(), clear.end() - kReduceBytes);
  // cryptsetup encrypts a copy of the same device: the oracle for the layout.
  const std::string twin = scratch.image("twin", kImageBytes);
  write_range(twin, 0, clear);

  // The header waits in a private directory under TMPDIR, gone when the run ends.
  const std::string tmp = scratch.path("tmp");
  REQUIRE(run("mkdir " + tmp).exit_code == 0);
  Run r = run("TMPDIR=" + tmp + " " + UBLKCRYPT_BINARY + " reencrypt --encrypt" + kShift +
              " --key-file " + key + kFast + " " + img + " </dev/null");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(run("ls -A " + tmp).output.empty());
  r = run("cryptsetup reencrypt -q --encrypt" + kShift + " --key-file " + key + kFast + " " + twin);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK_FALSE(in_progress(img));
  CHECK(data_offset(img, "pw") == kReduceBytes / 2);
  CHECK(layout_of(img) == layout_of(twin));
  CHECK(layout_of(img).find("offset: 4194304 [bytes]") != std::string::npos);
  CHECK(decrypted_prefix(img, plain.size()) == plain);
  CHECK(decrypted_prefix(twin, plain.size()) == plain);
  CHECK(run("cryptsetup open --test-passphrase --key-file " + key + " " + img).exit_code == 0);

  // Encrypting the volume a second time is refused, the device left as it is.
  const std::vector<uint8_t> encrypted = read_range(img, 0, kImageBytes);
  r = cli("reencrypt --encrypt" + kShift + " --key-file " + key + kFast + " " + img);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("already holds a LUKS volume") != std::string::npos);
  CHECK(read_range(img, 0, kImageBytes) == encrypted);
}

TEST_CASE("reencrypt --reduce-device-size: bad input refused in one line, nothing written") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string img = scratch.image("img", kImageBytes);
  const std::vector<uint8_t> clear = clear_data(img, 9);
  struct Refusal {
    std::string args;
    std::string says;
  };
  const Refusal refusals[] = {
      {"--encrypt --reduce-device-size 12k", "not a multiple of 8 KiB"},
      {"--encrypt --reduce-device-size 2G", "up to 1 GiB"},
      {"--encrypt" + kShift + " --header " + scratch.path("h1"), "only with --encrypt and without --header"},
      {"--decrypt" + kShift, "only with --encrypt"},
      {"--encrypt --resume-only" + kShift, "no encryption in progress"},
      {"--encrypt --reduce-device-size 64M", "encrypt " + img},  // larger than the device
  };
  for (const Refusal& refusal : refusals) {
    CAPTURE(refusal.args);
    Run r = cli("reencrypt " + refusal.args + " --key-file " + key + kFast + " " + img);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find(refusal.says) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK(read_range(img, 0, kImageBytes) == clear);
  }
}

TEST_CASE("an interrupted --encrypt --reduce-device-size: every step survives a kill") {
  // Killed (SIGKILL) after the first segment is moved but before the header is on the
  // device, right after it is placed, and where libcryptsetup reports progress (at the start,
  // after the 2nd hotzone, after the last of 6). Before the header is placed, the device is
  // as it was and the same command starts over; after, the device's header resumes the
  // encryption (with ublkcrypt's command, or with cryptsetup's, which must agree).
  const Kill kills[] = {
      {"encrypt-first-segment-moved", 1, "ublkcrypt"},
      {"encrypt-header-placed", 1, "ublkcrypt"},
      {"reencrypt-hotzone", 1, "ublkcrypt"},
      {"reencrypt-hotzone", 3, "ublkcrypt"},
      {"reencrypt-hotzone", 3, "cryptsetup"},
      {"reencrypt-hotzone", 7, "ublkcrypt"},
  };
  for (const Kill& kill : kills) {
    const std::string point = kill.point, resumer = kill.resumer;
    CAPTURE(point);
    CAPTURE(kill.pauses);
    CAPTURE(resumer);
    Scratch scratch;
    const std::string key = scratch.file("pass", "pw");
    const std::string img = scratch.image("img", kImageBytes);
    const std::vector<uint8_t> clear = clear_data(img, 10);
    const std::vector<uint8_t> plain(clear.begin(), clear.end() - kReduceBytes);
    const std::string command = " reencrypt --encrypt" + kShift + " --key-file " + key + kFast + " " + img;
    // A kill before the header is placed leaves its temporary directory: in the scratch.
    const std::string tmp = scratch.path("tmp");
    REQUIRE(run("mkdir " + tmp).exit_code == 0);
    kill_at_pause(scratch, point, kill.pauses, command, "TMPDIR=" + tmp);
    const bool placed = point != "encrypt-first-segment-moved";
    if (placed) {
      CHECK(in_progress(img));
      UnlockedVolume refused;
      CHECK(unlock_volume(img, bytes("pw"), std::nullopt, &refused).code() == Errc::unsupported);
    } else {
      // Only the free tail was written: the data is in the clear where it was.
      CHECK(read_range(img, 0, plain.size()) == plain);
      CHECK(run("cryptsetup isLuks " + img).exit_code != 0);
    }
    if (kill.pauses == 7) {
      // After the last of the 6 hotzones, as with a detached header: every sector moved and
      // encrypted, the header not finalised; cryptsetup 2.6.1 fails there too ("Failed to
      // set device segments for next reencryption hotzone"). Refused, the data intact.
      Run refused = cli(command);
      CHECK(refused.exit_code == 1);
      CHECK(refused.output.find("the header was not finalised") != std::string::npos);
      CHECK(intact_under_some_key(img, "pw", plain));
      continue;
    }
    Run resumed = resume_after(kill, command, "--key-file " + key + " " + img);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    CHECK_FALSE(in_progress(img));
    CHECK(decrypted_prefix(img, plain.size()) == plain);
  }
}

namespace {

// An image whose first 24 MiB of clear data ublkcrypt encrypted in place, the header at
// the start; returns that clear data.
std::vector<uint8_t> encrypted_in_place(const std::string& img, const std::string& key, unsigned seed) {
  const std::vector<uint8_t> clear = clear_data(img, seed);
  Run r = cli("reencrypt --encrypt" + kShift + " --key-file " + key + kFast + " " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return std::vector<uint8_t>(clear.begin(), clear.end() - kReduceBytes);
}

}  // namespace

TEST_CASE("reencrypt --decrypt --header NEW_FILE: the header leaves the device, the data moves back as cryptsetup moves it") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string img = scratch.image("img", kImageBytes);
  const std::vector<uint8_t> plain = encrypted_in_place(img, key, 11);
  const std::string twin = scratch.image("twin", kImageBytes);
  write_range(twin, 0, read_range(img, 0, kImageBytes));

  const std::string hdr = scratch.path("hdr");
  Run r = cli("reencrypt --decrypt --header " + hdr + " --key-file " + key + " " + img);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  r = run("cryptsetup reencrypt -q --decrypt --force-offline-reencrypt --header " +
          scratch.path("twin.hdr") + " --key-file " + key + " " + twin);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(read_range(img, 0, plain.size()) == plain);
  CHECK(read_range(img, 0, kImageBytes - kReduceBytes / 2) ==
        read_range(twin, 0, kImageBytes - kReduceBytes / 2));
  CHECK(run("cryptsetup isLuks " + img).exit_code != 0);
  CHECK(::access((hdr + ".part").c_str(), F_OK) != 0);
}

TEST_CASE("reencrypt --decrypt --header NEW_FILE: bad input refused in one line, nothing written") {
  Scratch scratch;
  const std::string key = scratch.file("pass", "pw");
  const std::string wrong = scratch.file("wrong", "nope");
  const std::string img = scratch.image("img", kImageBytes);
  encrypted_in_place(img, key, 12);
  const std::vector<uint8_t> before = read_range(img, 0, kImageBytes);
  const std::string hdr = scratch.path("hdr");
  Run r = cli("reencrypt --decrypt --header " + hdr + " --key-file " + wrong + " " + img);
  CHECK(r.exit_code == 2);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  r = cli("reencrypt --decrypt --resume-only --header " + hdr + " --key-file " + key + " " + img);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("no decryption in progress") != std::string::npos);
  CHECK(read_range(img, 0, kImageBytes) == before);
  CHECK(::access(hdr.c_str(), F_OK) != 0);
  CHECK(::access((hdr + ".part").c_str(), F_OK) != 0);

  const std::string clear = scratch.image("clear", kImageBytes);
  r = cli("reencrypt --decrypt --header " + hdr + " --key-file " + key + " " + clear);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("holds no LUKS header") != std::string::npos);
}

TEST_CASE("an interrupted --decrypt --header NEW_FILE: every step survives a kill") {
  // Killed (SIGKILL) after the header is copied, after it is wiped from the device, after
  // libcryptsetup recorded the decryption (the header file not yet renamed), and where
  // libcryptsetup reports progress (at the start, after the 2nd of 8 hotzones, after the 7th
  // and the 8th). The same command then finishes the job, or cryptsetup's --resume-only does
  // once the header file exists. After the last hotzones every sector is in the clear but the
  // header not finalised: libcryptsetup 2.6.1 would decrypt the first 4 MiB a second time
  // (seen, with either tool, before ublkcrypt refused it), so the run is refused and the
  // data, already in the clear, stays right.
  const Kill kills[] = {
      {"decrypt-header-exported", 1, "ublkcrypt"},
      {"decrypt-header-wiped", 1, "ublkcrypt"},
      {"decrypt-initialised", 1, "ublkcrypt"},
      {"reencrypt-hotzone", 1, "ublkcrypt"},
      {"reencrypt-hotzone", 3, "ublkcrypt"},
      {"reencrypt-hotzone", 3, "cryptsetup"},
      {"reencrypt-hotzone", 8, "ublkcrypt"},
      {"reencrypt-hotzone", 9, "ublkcrypt"},
  };
  for (const Kill& kill : kills) {
    const std::string point = kill.point, resumer = kill.resumer;
    CAPTURE(point);
    CAPTURE(kill.pauses);
    CAPTURE(resumer);
    Scratch scratch;
    const std::string key = scratch.file("pass", "pw");
    const std::string img = scratch.image("img", kImageBytes);
    const std::string hdr = scratch.path("hdr");
    const std::vector<uint8_t> plain = encrypted_in_place(img, key, 13);
    const std::string command = " reencrypt --decrypt --header " + hdr + " --key-file " + key + " " + img;
    kill_at_pause(scratch, point, kill.pauses, command);
    Run resumed = resume_after(kill, command, "--header " + hdr + " --key-file " + key + " " + img);
    if (kill.pauses >= 8) {
      CHECK(resumed.exit_code == 1);
      CHECK(resumed.output.find("every sector is already in the clear") != std::string::npos);
    } else {
      REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    }
    CHECK(read_range(img, 0, plain.size()) == plain);
    CHECK(::access((hdr + ".part").c_str(), F_OK) != 0);
  }
}

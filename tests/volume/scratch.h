// Test scaffolding for volume tests: a scratch directory of image files, cryptsetup run as
// a subprocess (the oracle), key files.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ublkcrypt::test {

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh; stdout and stderr captured.
Run run(const std::string& command);

// Fast key derivation for cryptsetup in tests: the KDF is not what is being tested.
inline constexpr const char* kFastKdf = "--pbkdf pbkdf2 --pbkdf-force-iterations 1000";

class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Path of `name` inside the scratch directory.
  std::string path(const std::string& name) const;
  // A sparse zero-filled image file of `bytes`.
  std::string image(const std::string& name, uint64_t bytes) const;
  // A file holding exactly `content` (a key file: no trailing newline).
  std::string file(const std::string& name, const std::string& content) const;

 private:
  std::string dir_;
};

// The volume key as `cryptsetup luksDump --dump-volume-key` prints it.
std::vector<uint8_t> cryptsetup_volume_key(const std::string& image, const std::string& key_file);

// `cryptsetup luksFormat` command for a LUKS2 volume with the fast test KDF.
std::string luks_format_command(const std::string& image, const std::string& key_file,
                            const std::string& cipher, uint32_t key_bits, uint32_t sector_size);

// A 32 MiB LUKS2 aes-xts-plain64 image made by cryptsetup, passphrase "pw" in key_file.
struct FormattedImage {
  FormattedImage();
  Scratch scratch;
  std::string img = scratch.image("img", 32 << 20);
  std::string key_file = scratch.file("pass", "pw");
};

// Whether `s` is one error line as the CLI prints one: "ublkcrypt: ...\n".
bool one_error_line(const std::string& s);

// Whether every byte of the file at `path` is zero: nothing was written there.
bool all_zero(const std::string& path);

inline std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace ublkcrypt::test

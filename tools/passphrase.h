// Passphrase input for the verbs, with cryptsetup's rules:
//   --key-file FILE  the file's bytes, exactly (no newline stripping), up to 8 MiB or
//                    --keyfile-size, after skipping --keyfile-offset bytes
//   --key-file -     the same from standard input
//   neither          asked on the terminal with echo off (twice when a new passphrase is
//                    set, and the two must match); if standard input is not a terminal,
//                    one line is read from it instead (`printf 'pw\n' | ublkcrypt ...`)
// Never from argv. Read straight into SecureBytes; on every failure nothing is kept.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace ublkcrypt {

struct KeyFileOptions {
  std::string key_file;  // "" = ask; "-" = standard input
  uint64_t keyfile_size = 0;    // 0 = whole file (up to 8 MiB)
  uint64_t keyfile_offset = 0;
};

// Adds --key-file/-d, --keyfile-size/-l, --keyfile-offset to `cmd`. With `key_files`,
// --key-file may be given more than once and every one lands there, for the verb to sort
// out (open --type tcrypt: TrueCrypt keyfiles); `options->key_file` is then left alone.
void add_key_file_options(CLI::App* cmd, KeyFileOptions* options,
                          std::vector<std::string>* key_files = nullptr);
// Adds --new-keyfile, --new-keyfile-size, --new-keyfile-offset (add-key, change-key).
void add_new_key_file_options(CLI::App* cmd, KeyFileOptions* options);

enum class Verify { no, yes };  // yes: ask twice on a terminal (a new passphrase)

// Reads one passphrase; `prompt` is shown on the terminal ("Enter passphrase for x: ").
// A key file that cannot be read is invalid_argument (exit 1), like cryptsetup.
Status read_passphrase(const KeyFileOptions& source, const std::string& prompt, Verify verify,
                       SecureBytes* out);

// Reads exactly `bytes` bytes of the key file `source.key_file` ("-" = standard input)
// after --keyfile-offset, whatever --keyfile-size says: a raw key. A file with fewer is
// invalid_argument: "key file F: N bytes, shorter than <needed_by>".
Status read_raw_key(const KeyFileOptions& source, size_t bytes, const std::string& needed_by, SecureBytes* out);

}  // namespace ublkcrypt

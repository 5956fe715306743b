// Headers no cryptsetup here would write — a newer cryptsetup's, a tampered one — made by
// editing a cryptsetup-made LUKS2 header in place: the JSON metadata of both copies
// rewritten and their checksums recomputed, so libcryptsetup loads the result as valid.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace ublkcrypt::test {

// Applies `edit` to the metadata of both header copies of `image`.
void edit_luks2_metadata(const std::string& image, const std::function<void(nlohmann::json&)>& edit);

// Stores keyslot `slot` of `image` in the clear: decrypts its area with the key that
// `passphrase` derives (pbkdf2 keyslots, aes-xts-plain64 areas: what luks_format_command
// makes) and marks its encryption cipher_null-ecb. Such a slot then opens with any
// passphrase in libcryptsetup 2.6.1.
void store_keyslot_in_clear(const std::string& image, int slot, const std::string& passphrase);

}  // namespace ublkcrypt::test

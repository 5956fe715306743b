#include "backends/dm_cipher_name.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace ublkcrypt {

static constexpr std::array<std::pair<IvMode, std::string_view>, 9> kIvNames = {{
    {IvMode::plain, "plain"},
    {IvMode::plain64, "plain64"},
    {IvMode::plain64be, "plain64be"},
    {IvMode::essiv, "essiv"},
    {IvMode::benbi, "benbi"},
    {IvMode::null, "null"},
    {IvMode::eboiv, "eboiv"},
    {IvMode::lmk, "lmk"},
    {IvMode::tcw, "tcw"},
}};

std::string_view DmCipherName::iv_name(IvMode mode) {
  for (const auto& [m, name] : kIvNames)
    if (m == mode) return name;
  return {};
}

static bool plain_word(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_') return false;
  return true;
}

// A kernel crypto API name: words, parentheses and commas, balanced.
static bool algorithm_name(std::string_view s) {
  int depth = 0;
  for (char c : s) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
    } else if (c != ',' && c != '-' && !plain_word(std::string_view(&c, 1))) {
      return false;
    }
  }
  return !s.empty() && depth == 0 && s.front() != '(';
}

static Status refuse(std::string_view text, std::string_view why) {
  return Status(Errc::invalid_argument, fmt::format("cipher {}: {}", text, why));
}

static Status parse_iv(std::string_view text, std::string_view iv_text, DmCipherName* name) {
  std::string_view mode = iv_text.substr(0, iv_text.find(':'));
  std::string_view option =
      iv_text.find(':') == std::string_view::npos ? "" : iv_text.substr(iv_text.find(':') + 1);
  for (const auto& [m, n] : kIvNames)
    if (n == mode) name->iv = m;
  if (name->iv == IvMode::none)
    return refuse(text, fmt::format("IV mode '{}' unknown (plain, plain64, plain64be, "
                                    "essiv:HASH, benbi, null, eboiv, lmk, tcw)",
                                    mode));
  if (name->iv == IvMode::essiv && !plain_word(option))
    return refuse(text, "essiv needs a hash (essiv:sha256)");
  if (name->iv != IvMode::essiv && !option.empty())
    return refuse(text, fmt::format("IV mode {} takes no option", mode));
  name->iv_option = std::string(option);
  return Status::Ok();
}

Status DmCipherName::parse(std::string_view text, DmCipherName* out) {
  DmCipherName name;
  std::string_view iv_text;
  if (text.starts_with("capi:")) {
    // The algorithm may contain '-' (driver names): the IV mode follows the last ')'.
    std::string_view rest = text.substr(5);
    size_t close = rest.rfind(')');
    size_t dash = rest.find('-', close == std::string_view::npos ? 0 : close);
    name.algorithm = std::string(rest.substr(0, dash));
    if (dash != std::string_view::npos) iv_text = rest.substr(dash + 1);
    if (!algorithm_name(name.algorithm))
      return refuse(text, "capi: needs a kernel crypto API name (capi:xts(aes)-plain64)");
    name.capi = true;
    name.chain = name.algorithm.substr(0, name.algorithm.find('('));
  } else {
    size_t first = text.find('-');
    if (first == std::string_view::npos)
      return refuse(text, "expected CIPHER-CHAINMODE-IVMODE (aes-xts-plain64)");
    std::string_view cipher = text.substr(0, first);
    std::string_view rest = text.substr(first + 1);
    std::string_view chain = rest.substr(0, rest.find('-'));
    if (rest.find('-') != std::string_view::npos) iv_text = rest.substr(rest.find('-') + 1);
    if (cipher.find(':') != std::string_view::npos)
      return refuse(text, "keycount forms (CIPHER:N-...) are not supported");
    if (!plain_word(cipher) || !plain_word(chain))
      return refuse(text, "expected CIPHER-CHAINMODE-IVMODE (aes-xts-plain64)");
    name.cipher = std::string(cipher);
    name.chain = std::string(chain);
    name.algorithm = fmt::format("{}({})", chain, cipher);
  }
  if (!iv_text.empty()) {
    if (Status s = parse_iv(text, iv_text, &name); !s.ok()) return s;
  } else if (name.chain != "ecb") {
    name.iv = IvMode::plain;  // dm-crypt's default for a chain mode named without one
  }
  if (name.chain == "ecb" && name.iv != IvMode::none && name.iv != IvMode::null)
    return refuse(text, "ecb takes no IV");
  if (name.chain == "ecb") name.iv = IvMode::none;
  *out = std::move(name);
  return Status::Ok();
}

std::string DmCipherName::text() const {
  std::string head = capi ? "capi:" + algorithm : cipher + "-" + chain;
  if (iv == IvMode::none) return head;
  std::string out = head + "-" + std::string(iv_name(iv));
  if (!iv_option.empty()) out += ":" + iv_option;
  return out;
}

size_t DmCipherName::block_bytes() const {
  std::string_view inner = algorithm;
  while (inner.find('(') != std::string_view::npos) {
    inner = inner.substr(inner.find('(') + 1);
    inner = inner.substr(0, inner.find_first_of("),"));
  }
  for (std::string_view narrow : {"des", "des3_ede", "blowfish", "cast5", "idea"})
    if (inner == narrow) return 8;
  return 16;
}

}  // namespace ublkcrypt

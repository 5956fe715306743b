#include "backends/kernel/proc_crypto.h"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

namespace ublkcrypt {

static std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool KernelAlgorithm::is_card() const {
  // Drivers of look-aside crypto devices in mainline, by the prefixes their modules and
  // drivers use. A template over a card driver (essiv(virtio_crypto_aes_cbc,...)) is a
  // card too, hence the search in the driver name and not only a prefix match.
  static constexpr std::string_view kCards[] = {
      "virtio_crypto", "qat", "ccp", "caam", "hisi_sec", "nitrox", "chcr", "cpt",
      "safexcel", "mv_cesa", "atmel", "omap", "sahara", "talitos", "ixp4xx", "sun8i",
      "rk_crypto", "stm32", "img-", "artpec", "amlogic", "qce", "keembay", "zynqmp",
  };
  for (std::string_view card : kCards) {
    if (module.rfind(card, 0) == 0) return true;
    if (driver.find(card) != std::string::npos) return true;
  }
  return false;
}

std::vector<KernelAlgorithm> parse_proc_crypto(std::string_view text) {
  std::vector<KernelAlgorithm> out;
  KernelAlgorithm current;
  auto flush = [&] {
    if (!current.name.empty() && !current.driver.empty()) out.push_back(std::move(current));
    current = KernelAlgorithm{};
  };
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (trim(line).empty()) {
      flush();
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (key == "name") {
      // Some kernels omit the blank line between blocks; a second name starts a new one.
      if (!current.name.empty()) flush();
      current.name = value;
    } else if (key == "driver") {
      current.driver = value;
    } else if (key == "module") {
      current.module = value;
    } else if (key == "priority") {
      int p = 0;
      std::from_chars(value.data(), value.data() + value.size(), p);
      current.priority = p;
    } else if (key == "type") {
      current.type = value;
    } else if (key == "async") {
      current.async = value == "yes";
    } else if (key == "internal") {
      current.internal = value == "yes";
    }
  }
  flush();
  return out;
}

Status read_proc_crypto(const std::string& path, std::vector<KernelAlgorithm>* out) {
  std::ifstream in(path);
  if (!in) return errno_status(path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  *out = parse_proc_crypto(text.str());
  return Status::Ok();
}

}  // namespace ublkcrypt

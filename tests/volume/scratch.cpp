#include "tests/volume/scratch.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace ublkcrypt::test {

Run run(const std::string& command) {
  Run result;
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen " + command);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Scratch::Scratch() {
  char templ[] = "/tmp/ublkcrypt-volume-XXXXXX";
  if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = templ;
}

Scratch::~Scratch() { std::filesystem::remove_all(dir_); }

std::string Scratch::path(const std::string& name) const { return dir_ + "/" + name; }

std::string Scratch::image(const std::string& name, uint64_t bytes) const {
  std::string p = path(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc).close();
  std::filesystem::resize_file(p, bytes);
  return p;
}

std::string Scratch::file(const std::string& name, const std::string& content) const {
  std::string p = path(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  return p;
}

bool one_error_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1 && s.rfind("ublkcrypt: ", 0) == 0;
}

bool all_zero(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it)
    if (*it != 0) return false;
  return true;
}

std::string luks_format_command(const std::string& image, const std::string& key_file,
                            const std::string& cipher, uint32_t key_bits, uint32_t sector_size) {
  return "cryptsetup luksFormat --batch-mode --type luks2 " + std::string(kFastKdf) +
         " --cipher " + cipher + " --key-size " + std::to_string(key_bits) + " --sector-size " +
         std::to_string(sector_size) + " --key-file " + key_file + " " + image;
}

std::vector<uint8_t> cryptsetup_volume_key(const std::string& image, const std::string& key_file) {
  Run r = run("cryptsetup luksDump --dump-volume-key --batch-mode --key-file " + key_file + " " +
              image);
  if (r.exit_code != 0) throw std::runtime_error("luksDump --dump-volume-key: " + r.output);
  size_t at = r.output.find("MK dump:");
  if (at == std::string::npos) throw std::runtime_error("no MK dump in: " + r.output);
  std::vector<uint8_t> key;
  std::istringstream in(r.output.substr(at + 8));
  std::string word;
  while (in >> word) {
    if (word.size() != 2 || word.find_first_not_of("0123456789abcdef") != std::string::npos) break;
    key.push_back(static_cast<uint8_t>(std::stoul(word, nullptr, 16)));
  }
  return key;
}

FormattedImage::FormattedImage() {
  Run made = run(luks_format_command(img, key_file, "aes-xts-plain64", 512, 512));
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
}

}  // namespace ublkcrypt::test

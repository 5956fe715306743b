// Fuzz target: the volume daemon's control request parser (tools/serve/control_request.h)
// and the error answer built from its verdict. Whatever the bytes: no exception, no crash,
// a request or Errc::invalid_argument with a one-line message, and an answer that is one
// line of valid JSON.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_seeds.h"
#include "tools/serve/control_request.h"

using namespace ublkcrypt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  ControlRequest request;
  Status s = Status::Ok();
  try {
    s = parse_control_request(line, &request);
  } catch (...) {
    std::abort();  // an exception here is what took the daemon down
  }
  if (s.ok()) {
    if (request.command == ControlRequest::Command::move &&
        (request.backend.empty() || request.backend.size() > 128)) {
      std::abort();
    }
    return 0;
  }
  if (s.code() != Errc::invalid_argument || s.message().find('\n') != std::string::npos) std::abort();
  std::string reply;
  try {
    reply = control_error_reply(s);
  } catch (...) {
    std::abort();
  }
  if (reply.find('\n') != std::string::npos) std::abort();
  if (!nlohmann::json::parse(reply, nullptr, false).is_object()) std::abort();
  return 0;
}

std::vector<std::vector<uint8_t>> fuzz_seeds() {
  const char* lines[] = {
      R"({"cmd":"status"})",
      R"({"cmd":"close"})",
      R"({"cmd":"close","force":true})",
      R"({"cmd":"move","backend":"kernel:virtio_crypto_aes_cbc"})",
      R"({"cmd":"move","backend":"software"})",
      R"({"cmd":"suspend"})",
      R"({"cmd":"resume"})",
      R"({"cmd":"status","extra":[1,{"a":null}],"n":-1.5e300})",
      R"({"cmd":"unknown\u00e9\ud83d\ude00"})",
      R"({"cmd":1})",
      R"({"cmd":"close","force":"yes"})",
      R"([{"cmd":"status"}])",
  };
  std::vector<std::vector<uint8_t>> seeds;
  for (const char* line : lines) seeds.emplace_back(line, line + std::string_view(line).size());
  return seeds;
}

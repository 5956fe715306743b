#include "tools/serve/control_request.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ublkcrypt {
namespace {

using Json = nlohmann::json;

Status malformed(const std::string& why) { return Status(Errc::invalid_argument, "control request: " + why); }

// A value from the request, quoted for a message: escaped control characters, at most
// 40 bytes of it, never invalid UTF-8 (dump() would throw on that).
std::string quoted(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 40) text = Json(text.substr(0, 40)).dump(-1, ' ', false, Json::error_handler_t::replace) + "...";
  return text;
}

const char* type_name(const Json& value) { return value.type_name(); }

}  // namespace

Status parse_control_request(std::string_view line, ControlRequest* out) {
  *out = ControlRequest{};
  if (line.size() > kMaxControlRequestBytes) {
    return malformed("longer than " + std::to_string(kMaxControlRequestBytes) + " bytes");
  }
  if (line.empty()) return malformed("empty");
  const Json request = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return malformed("not JSON");
  if (!request.is_object()) return malformed(std::string("a JSON ") + type_name(request) + ", not an object");
  const auto cmd = request.find("cmd");
  if (cmd == request.end()) return malformed("no \"cmd\"");
  if (!cmd->is_string()) return malformed(std::string("\"cmd\" is a ") + type_name(*cmd) + ", not a string");
  const std::string& name = cmd->get_ref<const std::string&>();
  if (name == "status") {
    out->command = ControlRequest::Command::status;
  } else if (name == "close") {
    out->command = ControlRequest::Command::close;
    if (const auto force = request.find("force"); force != request.end()) {
      if (!force->is_boolean()) return malformed(std::string("\"force\" is a ") + type_name(*force) + ", not a boolean");
      out->force = force->get<bool>();
    }
  } else if (name == "handover") {
    out->command = ControlRequest::Command::handover;
  } else if (name == "suspend") {
    out->command = ControlRequest::Command::suspend;
  } else if (name == "resume") {
    out->command = ControlRequest::Command::resume;
  } else if (name == "resize") {
    out->command = ControlRequest::Command::resize;
    const auto size = request.find("size_bytes");
    if (size == request.end()) return malformed("resize: no \"size_bytes\"");
    if (!size->is_number_unsigned())
      return malformed("resize: \"size_bytes\" must be a byte count, not " + quoted(*size));
    out->size_bytes = size->get<uint64_t>();
  } else if (name == "refresh") {
    out->command = ControlRequest::Command::refresh;
    const auto allow = request.find("allow_discards");
    if (allow == request.end()) return malformed("refresh: no \"allow_discards\"");
    if (!allow->is_boolean())
      return malformed(std::string("\"allow_discards\" is a ") + type_name(*allow) + ", not a boolean");
    out->allow_discards = allow->get<bool>();
  } else if (name == "move") {
    out->command = ControlRequest::Command::move;
    const auto backend = request.find("backend");
    if (backend == request.end()) return malformed("move: no \"backend\"");
    if (!backend->is_string()) {
      return malformed(std::string("\"backend\" is a ") + type_name(*backend) + ", not a string");
    }
    out->backend = backend->get<std::string>();
    // Provider names and driver names: printable ASCII, short. Anything else would reach the
    // daemon's log as it came.
    const bool printable = std::all_of(out->backend.begin(), out->backend.end(), [](char c) { return c > ' ' && c < 127; });
    if (out->backend.empty() || out->backend.size() > 128 || !printable) {
      return malformed("move: \"backend\" must be a provider name (1-128 printable characters), not " +
                       quoted(*backend));
    }
  } else {
    return malformed("unknown command " + quoted(*cmd));
  }
  return Status::Ok();
}

std::string control_error_reply(const Status& status) {
  const Json reply = {{"ok", false}, {"code", static_cast<int>(status.code())}, {"error", status.message()}};
  return reply.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ublkcrypt

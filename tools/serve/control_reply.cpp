#include "tools/serve/control_reply.h"

#include "tools/serve/control_socket.h"
#include "tools/serve/run_state.h"

#include <algorithm>

namespace ublkcrypt {

Status read_control_reply(const std::string& what, const std::string& response,
                          const std::function<void(const nlohmann::json&)>& use) {
  const nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
  const Status malformed(Errc::corrupt, what + ": malformed answer from the server");
  if (!j.is_object()) return malformed;
  const auto ok = j.find("ok");
  if (ok != j.end() && !ok->is_boolean()) return malformed;
  if (ok != j.end() && !ok->get<bool>()) {
    const auto code = j.find("code");
    const auto error = j.find("error");
    Errc errc = Errc::io_error;
    if (code != j.end() && code->is_number_integer()) {
      const auto n = code->get<int64_t>();
      if (n > int64_t(Errc::ok) && n <= int64_t(Errc::timeout)) errc = static_cast<Errc>(n);
    }
    const bool has_message = error != j.end() && error->is_string() && !error->get<std::string>().empty();
    std::string message = has_message ? error->get<std::string>() : what + ": refused by the server";
    std::replace(message.begin(), message.end(), '\n', ' ');  // one line, whatever it sent
    return Status(errc, message);
  }
  if (!use) return Status::Ok();
  try {
    use(j);
  } catch (const nlohmann::json::exception& e) {
    return Status(Errc::corrupt, what + ": malformed answer from the server (" + e.what() + ")");
  }
  return Status::Ok();
}

Status ask_server(const std::string& name, const std::string& request, int timeout_ms, const std::string& what,
                  const std::function<void(const nlohmann::json&)>& use) {
  std::string response;
  if (Status s = control_request(socket_path(name), request, timeout_ms, &response); !s.ok()) return s.in(what);
  return read_control_reply(what, response, use);
}

}  // namespace ublkcrypt

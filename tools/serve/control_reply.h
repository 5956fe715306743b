// The CLI's side of the control protocol (tools/serve/control_socket.h): the server's
// one-line JSON answer, read without ever throwing. A server that misbehaves — a wrong type
// anywhere, a truncated line, an unknown error code — makes the verb fail with one line and
// an exit code, never abort the CLI with an uncaught exception.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace ublkcrypt {

// `response` as the answer to the request `what` ("status vol"):
//  - not a JSON object, or an "ok" that is not a boolean: Errc::corrupt, "WHAT: malformed
//    answer from the server";
//  - "ok":false: the server's "error" with its "code" (an Errc; anything else is io_error);
//  - otherwise ("ok":true, or no "ok" as in a status answer): `use` is called with the object; a field of the wrong type it meets becomes
//    Errc::corrupt naming it, instead of an exception.
Status read_control_reply(const std::string& what, const std::string& response,
                          const std::function<void(const nlohmann::json&)>& use = {});

// Sends `request` (one JSON line) to the server of volume `name` and reads its answer as
// read_control_reply does. A failure to reach the server, or no answer within `timeout_ms`,
// comes back in `what`'s name too.
Status ask_server(const std::string& name, const std::string& request, int timeout_ms, const std::string& what,
                  const std::function<void(const nlohmann::json&)>& use = {});

}  // namespace ublkcrypt

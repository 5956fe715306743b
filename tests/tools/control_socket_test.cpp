// The control protocol's daemon side against bad input: parse_control_request() on every
// kind of malformed line (before, {"cmd":1} threw out of the daemon's loop and the disk
// went away), and ControlListener over a real socket: slow, silent, oversized and
// half-closed clients each get one error line by their deadline while a good client
// connecting after them is answered at once.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tools/serve/control_request.h"
#include "tools/serve/control_socket.h"

using namespace ublkcrypt;
using Clock = std::chrono::steady_clock;

namespace {

Status parse(std::string_view line, ControlRequest* out = nullptr) {
  ControlRequest r;
  Status s = parse_control_request(line, out ? out : &r);
  return s;
}

}  // namespace

TEST_CASE("the requests the CLI sends parse") {
  ControlRequest r;
  REQUIRE(parse(R"({"cmd":"status"})", &r).ok());
  CHECK(r.command == ControlRequest::Command::status);
  REQUIRE(parse(R"({"cmd":"close"})", &r).ok());
  CHECK(r.command == ControlRequest::Command::close);
  CHECK_FALSE(r.force);
  REQUIRE(parse(R"({"cmd":"close","force":true})", &r).ok());
  CHECK(r.force);
  REQUIRE(parse(R"({"cmd":"move","backend":"kernel:virtio_crypto_aes_cbc"})", &r).ok());
  CHECK(r.command == ControlRequest::Command::move);
  CHECK(r.backend == "kernel:virtio_crypto_aes_cbc");
  REQUIRE(parse(R"({"cmd":"suspend"})", &r).ok());
  CHECK(r.command == ControlRequest::Command::suspend);
  REQUIRE(parse(R"({"cmd":"resume"})", &r).ok());
  CHECK(r.command == ControlRequest::Command::resume);
  REQUIRE(parse(R"({"cmd":"resize","size_bytes":18446744073709551615})", &r).ok());
  CHECK(r.command == ControlRequest::Command::resize);
  CHECK(r.size_bytes == UINT64_MAX);
  REQUIRE(parse(R"({"cmd":"resize","size_bytes":0})", &r).ok());
  CHECK(r.size_bytes == 0);
  REQUIRE(parse(R"({"cmd":"refresh","allow_discards":true})", &r).ok());
  CHECK(r.command == ControlRequest::Command::refresh);
  CHECK(r.allow_discards);
  // A newer CLI's extra field is ignored.
  CHECK(parse(R"({"cmd":"status","verbose":[1,2]})").ok());
}

TEST_CASE("every malformed request is refused with one line, never an exception") {
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {"", "control request: empty"},
      {"{", "control request: not JSON"},
      {"\xff\xfe", "control request: not JSON"},
      {R"({"cmd":"st\ud800"})", "control request: not JSON"},
      {"[]", "control request: a JSON array, not an object"},
      {"\"status\"", "control request: a JSON string, not an object"},
      {"null", "control request: a JSON null, not an object"},
      {"{}", "control request: no \"cmd\""},
      {R"({"cmd":1})", "control request: \"cmd\" is a number, not a string"},
      {R"({"cmd":null})", "control request: \"cmd\" is a null, not a string"},
      {R"({"cmd":{"a":1}})", "control request: \"cmd\" is a object, not a string"},
      {R"({"cmd":"close","force":"yes"})", "control request: \"force\" is a string, not a boolean"},
      {R"({"cmd":"move"})", "control request: move: no \"backend\""},
      {R"({"cmd":"move","backend":5})", "control request: \"backend\" is a number, not a string"},
      {R"({"cmd":"move","backend":""})",
       "control request: move: \"backend\" must be a provider name (1-128 printable characters), not \"\""},
      {R"({"cmd":"move","backend":"a\nb"})",
       "control request: move: \"backend\" must be a provider name (1-128 printable characters), not \"a\\nb\""},
      {R"({"cmd":"refresh"})", "control request: refresh: no \"allow_discards\""},
      {R"({"cmd":"refresh","allow_discards":1})", "control request: \"allow_discards\" is a number, not a boolean"},
      {R"({"cmd":"resize"})", "control request: resize: no \"size_bytes\""},
      {R"({"cmd":"resize","size_bytes":-1})", "control request: resize: \"size_bytes\" must be a byte count, not -1"},
      {R"({"cmd":"resize","size_bytes":1.5})", "control request: resize: \"size_bytes\" must be a byte count, not 1.5"},
      {R"({"cmd":"resize","size_bytes":"1G"})",
       "control request: resize: \"size_bytes\" must be a byte count, not \"1G\""},
      {R"({"cmd":"reboot"})", "control request: unknown command \"reboot\""},
      {R"({"cmd":"x\u0000y"})", "control request: unknown command \"x\\u0000y\""},
      {std::string(5000, ' '), "control request: longer than 4096 bytes"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    ControlRequest r;
    Status s = Status::Ok();
    CHECK_NOTHROW(s = parse_control_request(c.line, &r));
    CHECK(s.code() == Errc::invalid_argument);
    CHECK(s.message() == c.message);
    const std::string reply = control_error_reply(s);
    CHECK(reply.find('\n') == std::string::npos);
    nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["ok"] == false);
    CHECK(j["error"] == s.message());
  }
  // A long unknown command is quoted short, and cut UTF-8 is not a reason to throw.
  std::string name = "\xc3\xa9";  // é
  for (int i = 0; i < 50; ++i) name += "\xc3\xa9";
  Status s = parse(R"({"cmd":")" + name + R"("})");
  CHECK(s.message().size() < 120);
  CHECK_NOTHROW(control_error_reply(s));
}

namespace {

struct Listener {
  std::string dir = std::filesystem::temp_directory_path() / ("control_socket_test." + std::to_string(::getpid()));
  std::string path = dir + "/t.sock";
  ControlListener listener{400};  // ms per request
  Listener() {
    std::filesystem::create_directories(dir);
    REQUIRE(listener.listen(path).ok());
  }
  ~Listener() { std::filesystem::remove_all(dir); }

  // The daemon's loop, answering every complete request with `answer`, for `ms`.
  void serve(int ms, const std::string& answer) {
    const auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < end) {
      pollfd p{listener.fd(), POLLIN, 0};
      int timeout = listener.timeout_ms();
      ::poll(&p, 1, timeout < 0 ? 20 : std::min(timeout, 20));
      for (ControlConnection& c : listener.take()) {
        ControlRequest r;
        Status s = parse_control_request(c.line, &r);
        ControlListener::reply(c.client, s.ok() ? answer : control_error_reply(s));
      }
    }
  }

  int connect() const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    return fd;
  }
};

// Whatever the daemon answered, up to its close (or `ms`).
std::string answer_of(int fd, int ms = 3000) {
  std::string out;
  char buf[256];
  const auto end = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

std::string error_of(const std::string& answer) {
  nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
  return j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "";
}

}  // namespace

TEST_CASE("slow and silent clients time out per request, and do not hold up others") {
  Listener l;
  int silent = l.connect();
  int slow = l.connect();
  // The slow client trickles a byte every 100 ms: each read is quick, the request never ends.
  std::thread trickle([slow] {
    for (int i = 0; i < 15; ++i) {
      if (::send(slow, "{", 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::string good_answer;
  Clock::time_point good_at, silent_at;
  std::thread good([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string response;
    Status s = control_request(l.path, R"({"cmd":"status"})", 2000, &response);
    good_at = Clock::now();
    good_answer = s.ok() ? response : s.message();
  });
  std::string silent_answer, slow_answer;
  std::thread readers([&] {
    silent_answer = answer_of(silent);
    silent_at = Clock::now();
    slow_answer = answer_of(slow);
  });
  l.serve(1200, R"({"ok":true})");
  good.join();
  trickle.join();
  readers.join();
  CHECK(good_answer == R"({"ok":true})");
  // Answered while the two earlier clients were still waiting for their deadline.
  CHECK(good_at < silent_at);
  CHECK(error_of(silent_answer) == "control request: not complete within 400 ms");
  CHECK(error_of(slow_answer) == "control request: not complete within 400 ms");
  CHECK(silent_answer.back() == '\n');
  CHECK(std::count(silent_answer.begin(), silent_answer.end(), '\n') == 1);
}

TEST_CASE("oversized, half-closed, empty and wrong-typed requests each get one error line") {
  Listener l;
  int big = l.connect();
  std::thread flood([big] {
    std::string junk(64 * 1024, 'x');
    (void)::send(big, junk.data(), junk.size(), MSG_NOSIGNAL);
  });
  int half = l.connect();
  REQUIRE(::send(half, R"({"cmd":)", 7, MSG_NOSIGNAL) == 7);
  ::shutdown(half, SHUT_WR);
  int empty = l.connect();
  ::shutdown(empty, SHUT_WR);
  int typed = l.connect();
  const std::string wrong = R"({"cmd":"close","force":1})" "\n";
  REQUIRE(::send(typed, wrong.data(), wrong.size(), MSG_NOSIGNAL) == ssize_t(wrong.size()));
  std::string big_answer, half_answer, empty_answer, typed_answer;
  std::thread readers([&] {
    big_answer = answer_of(big);
    half_answer = answer_of(half);
    empty_answer = answer_of(empty);
    typed_answer = answer_of(typed);
  });
  l.serve(800, R"({"ok":true})");
  flood.join();
  readers.join();
  CHECK(error_of(big_answer) == "control request: longer than 4096 bytes");
  CHECK(error_of(half_answer) == "control request: not JSON");
  CHECK(error_of(empty_answer) == "control request: empty");
  CHECK(error_of(typed_answer) == "control request: \"force\" is a number, not a boolean");
}

TEST_CASE("more clients than the listener holds: the extra ones are told, the rest served") {
  Listener l;
  const size_t n = ControlListener::kMaxClients + 3;
  std::vector<std::string> answers(n);
  std::vector<std::thread> clients;
  // All at once, each in its own thread (connect waits while the backlog is full).
  for (size_t i = 0; i < n; ++i) {
    clients.emplace_back([&l, &answers, i] {
      int fd = l.connect();
      (void)::send(fd, "{\"cmd\":\"status\"}\n", 17, MSG_NOSIGNAL);
      answers[i] = answer_of(fd);
    });
  }
  l.serve(800, R"({"ok":true})");
  for (auto& t : clients) t.join();
  size_t served = 0, refused = 0;
  for (const std::string& a : answers) {
    served += a == "{\"ok\":true}\n";
    refused += error_of(a).find("requests already waiting") != std::string::npos;
  }
  CHECK(served + refused == n);
  CHECK(served >= ControlListener::kMaxClients);
}

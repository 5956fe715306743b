#include "backends/opal/method.h"

#include <string>

namespace ublkcrypt::opal {

namespace {

Status corrupt(const std::string& what, const std::string& why) {
  return Status(Errc::corrupt, what + ": " + why);
}

// Reads "F9 F0 status reserved reserved F1" at items[at...] (3.2.4.2: the status list is
// three integers; we need only the first).
Status parse_status_tail(const std::vector<StreamItem>& items, size_t at, const char* what,
                         uint8_t* status) {
  if (items.size() != at + 2) return corrupt(what, "expected end of data and a status list at the end");
  if (items[at].kind != StreamItem::Kind::end_of_data) return corrupt(what, "missing end-of-data token");
  const StreamItem& list = items[at + 1];
  if (list.kind != StreamItem::Kind::value || !list.value.is_list()) return corrupt(what, "missing status list");
  const auto& codes = list.value.items();
  if (codes.empty() || !codes[0].is_uint() || codes[0].as_uint() > 0xFF) return corrupt(what, "bad status code");
  *status = uint8_t(codes[0].as_uint());
  return Status::Ok();
}

}  // namespace

MethodCallWriter::MethodCallWriter(const Uid& invoking, const Uid& method) {
  writer_.token(kCall).bytes(invoking.span()).bytes(method.span()).start_list();
}

Buffer MethodCallWriter::finish() {
  writer_.end_list().token(kEndOfData).start_list().uint(0).uint(0).uint(0).end_list();
  return writer_.take();
}

Status parse_method_call(std::span<const uint8_t> tokens, MethodCall* out) {
  std::vector<StreamItem> items;
  if (Status s = decode_stream(tokens, &items); !s.ok()) return s;
  const char* what = "method call";
  if (items.size() < 4 || items[0].kind != StreamItem::Kind::call) return corrupt(what, "does not start with a call token");
  for (int i = 1; i <= 2; ++i) {
    const StreamItem& it = items[size_t(i)];
    Uid& target = i == 1 ? out->invoking : out->method;
    if (it.kind != StreamItem::Kind::value || !it.value.is_bytes() || !Uid::from_bytes(it.value.as_bytes(), &target)) {
      return corrupt(what, i == 1 ? "invoking UID is not 8 bytes" : "method UID is not 8 bytes");
    }
  }
  if (items[3].kind != StreamItem::Kind::value || !items[3].value.is_list()) return corrupt(what, "arguments are not a list");
  out->args = std::move(items[3].value);
  return parse_status_tail(items, 4, what, &out->status);
}

Status parse_method_result(std::span<const uint8_t> tokens, MethodResult* out) {
  std::vector<StreamItem> items;
  if (Status s = decode_stream(tokens, &items); !s.ok()) return s;
  const char* what = "method response";
  if (items.empty() || items[0].kind != StreamItem::Kind::value || !items[0].value.is_list()) {
    return corrupt(what, "results are not a list");
  }
  out->results = std::move(items[0].value);
  return parse_status_tail(items, 1, what, &out->status);
}

Buffer encode_method_result(const Value& results, MethodStatus status) {
  TokenWriter w;
  w.value(results).token(kEndOfData).start_list().uint(uint8_t(status)).uint(0).uint(0).end_list();
  return w.take();
}

}  // namespace ublkcrypt::opal

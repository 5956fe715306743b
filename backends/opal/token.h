// Token encoding and decoding: the data stream inside a SubPacket (TCG Storage Architecture
// Core Spec 2.01, 3.2.2). Atoms carry integers or byte strings; sequence tokens build lists
// (F0/F1) and named values (F2/F3); control tokens frame method calls (F8 call, F9 end of
// data, FA end of session).
//
// Decoding is for data that came off a wire: every read is bounds-checked and malformed
// input yields Status(Errc::corrupt, ...), never an out-of-bounds access.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "backends/opal/buffer.h"
#include "base/status.h"

namespace ublkcrypt::opal {

// Token byte values (Core 3.2.2.3.1, Table 04).
enum TokenByte : uint8_t {
  kStartList = 0xF0,
  kEndList = 0xF1,
  kStartName = 0xF2,
  kEndName = 0xF3,
  kCall = 0xF8,
  kEndOfData = 0xF9,
  kEndOfSession = 0xFA,
  kStartTransaction = 0xFB,
  kEndTransaction = 0xFC,
  kEmptyAtom = 0xFF,
};

// A decoded data item: an atom, a list, or a named value (name and value).
class Value {
 public:
  enum class Kind { uint, sint, bytes, list, named };

  Value() = default;
  static Value of_uint(uint64_t v);
  static Value of_sint(int64_t v);
  static Value of_bytes(std::span<const uint8_t> b);
  static Value of_list(std::vector<Value> items);
  static Value of_named(Value name, Value value);

  Kind kind() const { return kind_; }
  bool is_uint() const { return kind_ == Kind::uint; }
  bool is_bytes() const { return kind_ == Kind::bytes; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_named() const { return kind_ == Kind::named; }

  uint64_t as_uint() const { return uint_; }
  int64_t as_sint() const { return sint_; }
  std::span<const uint8_t> as_bytes() const { return bytes_; }
  // List items; for a named value, {name, value}.
  const std::vector<Value>& items() const { return items_; }
  const Value& name() const { return items_[0]; }   // REQUIRES: is_named()
  const Value& value() const { return items_[1]; }  // REQUIRES: is_named()

  // In a list of named values, the value named by integer `name` (Get results, method
  // parameters) or by byte string `name` (Properties); nullptr when absent.
  const Value* find(uint64_t name) const;
  const Value* find(std::string_view name) const;

  bool operator==(const Value& other) const;

 private:
  Kind kind_ = Kind::uint;
  uint64_t uint_ = 0;
  int64_t sint_ = 0;
  Buffer bytes_;
  std::vector<Value> items_;
};

// Builds a token stream. Chooses the shortest atom for each value (tiny, short, medium,
// long; Core 3.2.2.3.1).
class TokenWriter {
 public:
  TokenWriter& uint(uint64_t v);
  TokenWriter& sint(int64_t v);
  TokenWriter& bytes(std::span<const uint8_t> b);
  TokenWriter& bytes(std::string_view s);
  TokenWriter& token(TokenByte t);
  TokenWriter& start_list() { return token(kStartList); }
  TokenWriter& end_list() { return token(kEndList); }
  TokenWriter& start_name() { return token(kStartName); }
  TokenWriter& end_name() { return token(kEndName); }
  TokenWriter& value(const Value& v);
  // name = value pairs with an integer name, the common form of optional parameters.
  TokenWriter& named_uint(uint64_t name, uint64_t v);
  TokenWriter& named_bytes(uint64_t name, std::span<const uint8_t> b);

  const Buffer& data() const { return buf_; }
  Buffer take() { return std::move(buf_); }

 private:
  void atom_header(bool is_bytes, bool is_signed, size_t length);
  Buffer buf_;
};

// One top-level element of a token stream: a data item or a control token.
struct StreamItem {
  enum class Kind { value, call, end_of_data, end_of_session, start_transaction, end_transaction };
  Kind kind = Kind::value;
  Value value;  // for Kind::value
};

// Decodes a whole token stream. Empty atoms (FF) are skipped: they are fillers
// (Core 3.2.2.3.1.5). Nesting deeper than 32 levels is refused as corrupt.
Status decode_stream(std::span<const uint8_t> data, std::vector<StreamItem>* out);

}  // namespace ublkcrypt::opal

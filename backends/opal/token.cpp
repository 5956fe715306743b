#include "backends/opal/token.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace ublkcrypt::opal {

Value Value::of_uint(uint64_t v) {
  Value out;
  out.kind_ = Kind::uint;
  out.uint_ = v;
  return out;
}

Value Value::of_sint(int64_t v) {
  Value out;
  out.kind_ = Kind::sint;
  out.sint_ = v;
  return out;
}

Value Value::of_bytes(std::span<const uint8_t> b) {
  Value out;
  out.kind_ = Kind::bytes;
  out.bytes_.assign(b.begin(), b.end());
  return out;
}

Value Value::of_list(std::vector<Value> items) {
  Value out;
  out.kind_ = Kind::list;
  out.items_ = std::move(items);
  return out;
}

Value Value::of_named(Value name, Value value) {
  Value out;
  out.kind_ = Kind::named;
  out.items_.reserve(2);
  out.items_.push_back(std::move(name));
  out.items_.push_back(std::move(value));
  return out;
}

const Value* Value::find(uint64_t name) const {
  if (kind_ != Kind::list) return nullptr;
  for (const Value& item : items_) {
    if (item.is_named() && item.name().is_uint() && item.name().as_uint() == name) return &item.value();
  }
  return nullptr;
}

const Value* Value::find(std::string_view name) const {
  if (kind_ != Kind::list) return nullptr;
  for (const Value& item : items_) {
    if (!item.is_named() || !item.name().is_bytes()) continue;
    auto b = item.name().as_bytes();
    if (b.size() == name.size() && std::memcmp(b.data(), name.data(), b.size()) == 0) return &item.value();
  }
  return nullptr;
}

bool Value::operator==(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::uint: return uint_ == other.uint_;
    case Kind::sint: return sint_ == other.sint_;
    case Kind::bytes: return bytes_ == other.bytes_;
    case Kind::list:
    case Kind::named: return items_ == other.items_;
  }
  return false;
}

// --- encoding -------------------------------------------------------------------------

// Atom headers (Core 3.2.2.3.1): short 10BSLLLL (0..15 bytes), medium 110BSLLL LLLLLLLL
// (0..2047), long 111000BS + 3-byte length. B = byte string, S = signed integer.
void TokenWriter::atom_header(bool is_bytes, bool is_signed, size_t length) {
  uint8_t bs = uint8_t((is_bytes ? 2 : 0) | (is_signed ? 1 : 0));
  if (length <= 15) {
    buf_.push_back(uint8_t(0x80 | bs << 4 | length));
  } else if (length <= 2047) {
    buf_.push_back(uint8_t(0xC0 | bs << 3 | length >> 8));
    buf_.push_back(uint8_t(length));
  } else {
    buf_.push_back(uint8_t(0xE0 | bs));
    buf_.push_back(uint8_t(length >> 16));
    buf_.push_back(uint8_t(length >> 8));
    buf_.push_back(uint8_t(length));
  }
}

TokenWriter& TokenWriter::uint(uint64_t v) {
  if (v < 64) {  // tiny atom 0Sdddddd, S = 0
    buf_.push_back(uint8_t(v));
    return *this;
  }
  size_t n = 8;
  while (n > 1 && (v >> (8 * (n - 1))) == 0) --n;
  atom_header(false, false, n);
  for (size_t i = n; i-- > 0;) buf_.push_back(uint8_t(v >> (8 * i)));
  return *this;
}

TokenWriter& TokenWriter::sint(int64_t v) {
  if (v >= -32 && v <= 31) {  // tiny atom, 6-bit two's complement
    buf_.push_back(uint8_t(0x40 | (uint8_t(v) & 0x3F)));
    return *this;
  }
  // Shortest two's complement big-endian form that sign-extends back to v.
  size_t n = 8;
  while (n > 1) {
    int64_t shifted = v >> (8 * (n - 1) - 1);
    if (shifted != 0 && shifted != -1) break;
    --n;
  }
  atom_header(false, true, n);
  for (size_t i = n; i-- > 0;) buf_.push_back(uint8_t(uint64_t(v) >> (8 * i)));
  return *this;
}

TokenWriter& TokenWriter::bytes(std::span<const uint8_t> b) {
  atom_header(true, false, b.size());
  buf_.insert(buf_.end(), b.begin(), b.end());
  return *this;
}

TokenWriter& TokenWriter::bytes(std::string_view s) {
  return bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

TokenWriter& TokenWriter::token(TokenByte t) {
  buf_.push_back(t);
  return *this;
}

TokenWriter& TokenWriter::value(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::uint: return uint(v.as_uint());
    case Value::Kind::sint: return sint(v.as_sint());
    case Value::Kind::bytes: return bytes(v.as_bytes());
    case Value::Kind::list:
      start_list();
      for (const Value& item : v.items()) value(item);
      return end_list();
    case Value::Kind::named:
      start_name();
      value(v.name());
      value(v.value());
      return end_name();
  }
  return *this;
}

TokenWriter& TokenWriter::named_uint(uint64_t name, uint64_t v) {
  return start_name().uint(name).uint(v).end_name();
}

TokenWriter& TokenWriter::named_bytes(uint64_t name, std::span<const uint8_t> b) {
  return start_name().uint(name).bytes(b).end_name();
}

// --- decoding -------------------------------------------------------------------------

namespace {

constexpr int kMaxDepth = 32;

Status corrupt(const std::string& why, size_t pos) {
  return Status(Errc::corrupt, "token stream: " + why + " at byte " + std::to_string(pos));
}

class Decoder {
 public:
  explicit Decoder(std::span<const uint8_t> data) : data_(data) {}

  bool at_end() {
    skip_empty();
    return pos_ >= data_.size();
  }
  uint8_t peek() const { return data_[pos_]; }  // REQUIRES: !at_end()
  size_t pos() const { return pos_; }
  void advance() { ++pos_; }

  // Reads the item at the current position: an atom, a list or a named value.
  Status read_value(int depth, Value* out) {
    if (depth > kMaxDepth) return corrupt("nesting deeper than 32", pos_);
    if (at_end()) return corrupt("stream ends where a value was expected", pos_);
    uint8_t b = peek();
    if (b == kStartList) {
      ++pos_;
      std::vector<Value> items;
      for (;;) {
        if (at_end()) return corrupt("list not closed", pos_);
        if (peek() == kEndList) {
          ++pos_;
          *out = Value::of_list(std::move(items));
          return Status::Ok();
        }
        Value item;
        if (Status s = read_value(depth + 1, &item); !s.ok()) return s;
        items.push_back(std::move(item));
      }
    }
    if (b == kStartName) {
      ++pos_;
      Value name, value;
      if (Status s = read_value(depth + 1, &name); !s.ok()) return s;
      if (!name.is_uint() && !name.is_bytes()) return corrupt("name is not an atom", pos_);
      if (Status s = read_value(depth + 1, &value); !s.ok()) return s;
      if (at_end() || peek() != kEndName) return corrupt("named value not closed", pos_);
      ++pos_;
      *out = Value::of_named(std::move(name), std::move(value));
      return Status::Ok();
    }
    return read_atom(out);
  }

 private:
  void skip_empty() {
    while (pos_ < data_.size() && data_[pos_] == kEmptyAtom) ++pos_;
  }

  Status read_atom(Value* out) {
    size_t start = pos_;
    uint8_t b = data_[pos_];
    if ((b & 0x80) == 0) {  // tiny atom: 0 S dddddd
      ++pos_;
      if (b & 0x40) {
        *out = Value::of_sint(int64_t(b & 0x3F) - ((b & 0x20) ? 64 : 0));
      } else {
        *out = Value::of_uint(b & 0x3F);
      }
      return Status::Ok();
    }
    bool is_bytes, is_signed;
    size_t length, header;
    if ((b & 0xC0) == 0x80) {  // short
      is_bytes = b & 0x20;
      is_signed = b & 0x10;
      length = b & 0x0F;
      header = 1;
    } else if ((b & 0xE0) == 0xC0) {  // medium
      if (data_.size() - pos_ < 2) return corrupt("truncated medium atom header", start);
      is_bytes = b & 0x10;
      is_signed = b & 0x08;
      length = size_t(b & 0x07) << 8 | data_[pos_ + 1];
      header = 2;
    } else if ((b & 0xFC) == 0xE0) {  // long
      if (data_.size() - pos_ < 4) return corrupt("truncated long atom header", start);
      is_bytes = b & 0x02;
      is_signed = b & 0x01;
      length = size_t(data_[pos_ + 1]) << 16 | size_t(data_[pos_ + 2]) << 8 | data_[pos_ + 3];
      header = 4;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      return corrupt(std::string("unexpected token ") + hex, start);
    }
    if (data_.size() - pos_ - header < length) return corrupt("atom runs past the end of the data", start);
    const uint8_t* p = data_.data() + pos_ + header;
    pos_ += header + length;
    if (is_bytes) {
      // With B set, S means "continued": a byte string split over atoms (3.2.2.3.1.2).
      // No Opal method we speak needs it.
      if (is_signed) return corrupt("continued byte atoms are not supported", start);
      *out = Value::of_bytes({p, length});
      return Status::Ok();
    }
    if (length > 8) return corrupt("integer atom wider than 64 bits", start);
    uint64_t v = 0;
    for (size_t i = 0; i < length; ++i) v = v << 8 | p[i];
    if (is_signed) {
      if (length > 0 && length < 8 && (p[0] & 0x80)) v |= ~uint64_t(0) << (8 * length);
      *out = Value::of_sint(int64_t(v));
    } else {
      *out = Value::of_uint(v);
    }
    return Status::Ok();
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace

Status decode_stream(std::span<const uint8_t> data, std::vector<StreamItem>* out) {
  out->clear();
  Decoder d(data);
  while (!d.at_end()) {
    StreamItem item;
    switch (d.peek()) {
      case kCall: item.kind = StreamItem::Kind::call; break;
      case kEndOfData: item.kind = StreamItem::Kind::end_of_data; break;
      case kEndOfSession: item.kind = StreamItem::Kind::end_of_session; break;
      case kStartTransaction: item.kind = StreamItem::Kind::start_transaction; break;
      case kEndTransaction: item.kind = StreamItem::Kind::end_transaction; break;
      case kEndList: return corrupt("end of list without a list", d.pos());
      case kEndName: return corrupt("end of name without a name", d.pos());
      default: {
        if (Status s = d.read_value(0, &item.value); !s.ok()) return s;
        out->push_back(std::move(item));
        continue;
      }
    }
    d.advance();
    // Start/end transaction tokens carry a status atom; the caller decides what it supports.
    out->push_back(std::move(item));
  }
  return Status::Ok();
}

}  // namespace ublkcrypt::opal

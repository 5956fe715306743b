#include "backends/opal/discovery.h"

#include <algorithm>
#include <cstdio>

#include "backends/opal/buffer.h"

namespace ublkcrypt::opal {

namespace {

constexpr size_t kHeaderSize = 48;  // 3.3.6.3: length, revision, reserved[8], vendor[32]

Status corrupt(const std::string& why) { return Status(Errc::corrupt, "Level 0 discovery: " + why); }

// Preference among SSCs that carry a base ComID.
int ssc_rank(uint16_t code) {
  switch (code) {
    case kFeatureOpalV2: return 7;
    case kFeatureRuby: return 6;
    case kFeatureOpalV1: return 5;
    case kFeaturePyriteV2: return 4;
    case kFeaturePyriteV1: return 3;
    case kFeatureOpalite: return 2;
    case kFeatureEnterprise: return 1;
  }
  return 0;
}

// Bytes a descriptor (counted from its start) must have for the fields we read.
size_t needed_size(uint16_t code) {
  switch (code) {
    case kFeatureTper: case kFeatureLocking: return 5;
    case kFeatureGeometry: return 32;
    case kFeatureDataStore: return 16;
    case kFeatureEnterprise: case kFeatureOpalV1: return 9;
    case kFeatureOpalV2: case kFeatureRuby: return 15;
    case kFeatureOpalite: case kFeaturePyriteV1: case kFeaturePyriteV2: return 15;
  }
  return 4;
}

}  // namespace

bool Discovery::has(uint16_t code) const {
  return std::find(features.begin(), features.end(), code) != features.end();
}

const char* feature_name(uint16_t code) {
  switch (code) {
    case kFeatureTper: return "TPer";
    case kFeatureLocking: return "Locking";
    case kFeatureGeometry: return "Geometry";
    case kFeatureEnterprise: return "Enterprise";
    case kFeatureOpalV1: return "Opal 1";
    case kFeatureSingleUser: return "Single User Mode";
    case kFeatureDataStore: return "DataStore";
    case kFeatureOpalV2: return "Opal 2";
    case kFeatureOpalite: return "Opalite";
    case kFeaturePyriteV1: return "Pyrite 1";
    case kFeaturePyriteV2: return "Pyrite 2";
    case kFeatureRuby: return "Ruby";
  }
  return "unknown";
}

std::string Discovery::feature_sets() const {
  std::string out;
  for (uint16_t code : features) {
    if (!out.empty()) out += ", ";
    if (std::string(feature_name(code)) == "unknown") {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%04X", code);
      out += hex;
    } else {
      out += feature_name(code);
    }
  }
  return out.empty() ? "none" : out;
}

Status parse_discovery(std::span<const uint8_t> data, Discovery* out) {
  *out = Discovery{};
  if (data.size() < kHeaderSize) return corrupt("response shorter than the 48-byte header");
  // The length field counts the bytes after itself.
  uint64_t total = uint64_t(load_be32(data.data())) + 4;
  if (total < kHeaderSize) return corrupt("length field smaller than the header");
  if (total > data.size()) {
    return corrupt("length " + std::to_string(total) + " exceeds the " + std::to_string(data.size()) + "-byte response");
  }
  out->revision = load_be32(data.data() + 4);
  int best_rank = 0;
  size_t pos = kHeaderSize;
  while (pos < total) {
    if (total - pos < 4) return corrupt("truncated feature descriptor header");
    const uint8_t* d = data.data() + pos;
    uint16_t code = load_be16(d);
    size_t size = 4 + size_t(d[3]);  // byte 3: length of the data after the 4-byte header
    if (size > total - pos) return corrupt("feature descriptor runs past the end of the response");
    if (size < needed_size(code)) {
      return corrupt(std::string(feature_name(code)) + " descriptor too short (" + std::to_string(size) + " bytes)");
    }
    out->features.push_back(code);
    switch (code) {
      case kFeatureTper:  // 3.3.6.4
        out->tper = {bool(d[4] & 0x01), bool(d[4] & 0x02), bool(d[4] & 0x04),
                     bool(d[4] & 0x08), bool(d[4] & 0x10), bool(d[4] & 0x40)};
        break;
      case kFeatureLocking:  // 3.3.6.5
        out->locking = {bool(d[4] & 0x01), bool(d[4] & 0x02), bool(d[4] & 0x04),
                        bool(d[4] & 0x08), bool(d[4] & 0x10), bool(d[4] & 0x20)};
        break;
      case kFeatureGeometry:  // Opal 3.1.1.4
        out->geometry = {bool(d[4] & 0x01), load_be32(d + 12), load_be64(d + 16), load_be64(d + 24)};
        break;
      case kFeatureDataStore:  // Opal 3.1.1.4 (Additional DataStore Tables)
        out->datastore = {load_be16(d + 6), load_be32(d + 8), load_be32(d + 12)};
        break;
      default:
        break;
    }
    if (int rank = ssc_rank(code); rank > best_rank) {
      best_rank = rank;
      out->ssc = code;
      out->base_comid = load_be16(d + 4);
      out->num_comids = load_be16(d + 6);
      out->range_crossing = false;
      out->admin_authorities = out->user_authorities = 0;
      out->initial_sid_pin = out->revert_sid_pin = 0;
      if (code == kFeatureOpalV2 || code == kFeatureRuby) {  // Opal 3.1.1.5
        out->range_crossing = d[8] & 0x01;
        out->admin_authorities = load_be16(d + 9);
        out->user_authorities = load_be16(d + 11);
        out->initial_sid_pin = d[13];
        out->revert_sid_pin = d[14];
      } else if (code == kFeatureOpalV1 || code == kFeatureEnterprise) {
        out->range_crossing = d[8] & 0x01;
      } else {  // Pyrite, Opalite: reserved[5], then the two PIN indicators
        out->initial_sid_pin = d[13];
        out->revert_sid_pin = d[14];
      }
    }
    pos += size;
  }
  return Status::Ok();
}

}  // namespace ublkcrypt::opal

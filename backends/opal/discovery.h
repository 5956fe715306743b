// Level 0 discovery (Core Spec 2.01, 3.3.6; Opal SSC 2.01, 3.1.1): a 48-byte header and
// feature descriptors, fetched with IF-RECV protocol 0x01, ComID 0x0001. Tells which feature
// sets (SSCs) a drive implements, the ComID to talk on, and the current locking state.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace ublkcrypt::opal {

constexpr uint16_t kLevel0ComId = 0x0001;

// Feature codes (Core 3.3.6.*, the SSC specifications).
enum FeatureCode : uint16_t {
  kFeatureTper = 0x0001,
  kFeatureLocking = 0x0002,
  kFeatureGeometry = 0x0003,
  kFeatureEnterprise = 0x0100,
  kFeatureOpalV1 = 0x0200,
  kFeatureSingleUser = 0x0201,
  kFeatureDataStore = 0x0202,
  kFeatureOpalV2 = 0x0203,
  kFeatureOpalite = 0x0301,
  kFeaturePyriteV1 = 0x0302,
  kFeaturePyriteV2 = 0x0303,
  kFeatureRuby = 0x0304,
};

struct Discovery {
  uint32_t revision = 0;
  std::vector<uint16_t> features;  // every descriptor's code, in order, unknown ones included

  struct Tper {
    bool sync = false, async = false, ack_nak = false, buffer_mgmt = false, streaming = false,
         comid_mgmt = false;
  } tper;
  struct Locking {
    bool supported = false, enabled = false, locked = false, media_encryption = false,
         mbr_enabled = false, mbr_done = false;
  } locking;
  struct Geometry {
    bool align = false;
    uint32_t logical_block_size = 0;
    uint64_t alignment_granularity = 0, lowest_aligned_lba = 0;
  } geometry;
  struct DataStore {
    uint16_t max_tables = 0;
    uint32_t max_size = 0, alignment = 0;
  } datastore;

  // From the SSC descriptor we manage the drive through (Opal 2 > Ruby > Opal 1 > Pyrite 2 >
  // Pyrite 1 > Opalite > Enterprise): where to send ComPackets, and its authorities.
  uint16_t ssc = 0;  // feature code of that SSC, 0 if none
  uint16_t base_comid = 0;
  uint16_t num_comids = 0;
  bool range_crossing = false;
  uint16_t admin_authorities = 0;  // Locking SP admins (Opal 2 / Ruby)
  uint16_t user_authorities = 0;   // Locking SP users (Opal 2 / Ruby)
  uint8_t initial_sid_pin = 0;     // 0x00: C_PIN_SID equals C_PIN_MSID
  uint8_t revert_sid_pin = 0;      // 0x00: C_PIN_SID becomes C_PIN_MSID on revert

  bool has(uint16_t code) const;
  // True for SSCs with Locking SP ranges we can manage (Opal 1/2, Ruby).
  bool manageable() const { return ssc == kFeatureOpalV2 || ssc == kFeatureOpalV1 || ssc == kFeatureRuby; }
  // "TPer, Locking, Geometry, Opal 2, DataStore" for messages and `opal discover`.
  std::string feature_sets() const;
};

const char* feature_name(uint16_t code);  // "Opal 2", "Pyrite 1", ..., "unknown"

// Parses a Level 0 discovery response. Every descriptor is bounds-checked; a response
// whose lengths do not fit the buffer is Errc::corrupt.
Status parse_discovery(std::span<const uint8_t> data, Discovery* out);

}  // namespace ublkcrypt::opal

#pragma once
// People on site: the value types (docs/formats/presence.md).
//
//   Tag       a UWB tag or GPS tracker, registered per organization and site
//   PersonRef who a tag is bound to: a registry worker ("worker:<code>") or a system user
//             ("user:<username>")
//   Binding   tag <-> person for a validity window (a tag handed to someone else is a new
//             binding; history is kept)
//   Fence     a zone fence configured per site (hazardous areas, restricted areas); each
//             active permit's work fence is derived from the permit by the service
//   SiteFrame a site's WGS-84 origin and its UWB anchor frame
//   PositionFix one position report of a tag (UWB site-local metres or GPS WGS-84)
//
// Parsing is strict: unknown members, wrong types, out-of-range values are
// kInvalidArgument naming the member ("area.outer[2].y", "valid_until").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/ids.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/presence/geo.h"

namespace wg::presence {

enum class TagKind : std::uint8_t { kUwb, kGps };
std::string_view TagKindName(TagKind k);  // "uwb" / "gps"
core::Result<TagKind> ParseTagKind(std::string_view s, std::string_view field = "kind");

// Ids: [A-Za-z0-9._-]{1,64}.
bool ValidId(std::string_view id);

struct Tag {
  core::OrgId org;
  std::string id;
  std::string site;          // site code the tag reports in
  TagKind kind = TagKind::kUwb;
  std::string description;   // <= 128 bytes
  bool enabled = true;
  std::int64_t version = 0;  // store version (0 = new)
  friend bool operator==(const Tag&, const Tag&) = default;
};
// {"id", "site", "kind", "description"?, "enabled"?}
core::Result<Tag> ParseTag(core::OrgId org, const core::Json& doc);
core::Json ToJson(const Tag& t);

struct PersonRef {
  enum class Kind : std::uint8_t { kWorker, kUser } kind = Kind::kWorker;
  std::string code;  // worker code or username
  std::string Key() const;  // "worker:<code>" / "user:<username>"
  bool empty() const { return code.empty(); }
  friend bool operator==(const PersonRef&, const PersonRef&) = default;
  friend auto operator<=>(const PersonRef&, const PersonRef&) = default;
};
core::Result<PersonRef> ParsePersonRef(std::string_view key, std::string_view field = "person");

struct Binding {
  std::int64_t id = 0;       // store id (0 = new)
  std::string tag;
  PersonRef person;
  core::Timestamp valid_from;
  std::optional<core::Timestamp> valid_until;  // exclusive; nullopt = open
  std::string note;          // <= 256 bytes
  bool ValidAt(core::Timestamp t) const {
    return t >= valid_from && (!valid_until || t < *valid_until);
  }
  friend bool operator==(const Binding&, const Binding&) = default;
};
// {"person": "worker:W001", "valid_from": RFC3339?, "valid_until": RFC3339?, "note"?}.
// valid_from defaults to `now`; valid_until must be after valid_from.
core::Result<Binding> ParseBinding(std::string_view tag, const core::Json& doc,
                                   core::Timestamp now);
core::Json ToJson(const Binding& b);

struct Fence {
  core::OrgId org;
  std::string id;
  std::string site;
  std::string zone;          // zone code ("" = none), <= 64 bytes
  std::string name;          // <= 128 bytes
  bool hazardous = false;    // lone-worker / man-down rule applies inside
  bool restricted = false;   // entry only for people on an active permit of the zone
  Area area;
  bool enabled = true;
  std::int64_t version = 0;
  friend bool operator==(const Fence&, const Fence&) = default;
};
// {"id", "site", "zone"?, "name"?, "hazardous"?, "restricted"?, "enabled"?,
//  "area": {"outer": [[x, y], ...], "holes": [[[x, y], ...], ...]?, "z_min"?, "z_max"?}}
core::Result<Fence> ParseFence(core::OrgId org, const core::Json& doc);
core::Json ToJson(const Fence& f);
core::Result<Area> ParseArea(const core::Json& j, std::string_view field = "area");
core::Json AreaToJson(const Area& a);

struct SiteFrame {
  std::optional<LatLon> origin;  // WGS-84 of the site's (0, 0); required for GPS tags
  FrameTransform uwb;            // UWB anchor frame -> site frame
  friend bool operator==(const SiteFrame&, const SiteFrame&) = default;
};
// {"origin": {"lat", "lon"}?, "uwb": {"dx", "dy", "dz", "rotation_deg"}?}
core::Result<SiteFrame> ParseSiteFrame(const core::Json& doc);
core::Json ToJson(const SiteFrame& f);

// One position report as decoded (ingest: MQTT topic / HTTP body).
struct PositionFix {
  std::string tag;
  core::Timestamp time;
  enum class Frame : std::uint8_t { kLocal, kWgs84 } frame = Frame::kLocal;
  // kLocal: UWB anchor-frame metres; kWgs84: lat (x), lon (y) in degrees, altitude in
  // metres above the site's grade (z).
  double x = 0, y = 0;
  std::optional<double> z;
  std::optional<double> accuracy_m;  // reported horizontal accuracy (1 sigma)
};

}  // namespace wg::presence

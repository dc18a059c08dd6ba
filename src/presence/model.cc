// People-on-site value types: strict parsing and the JSON the API returns
// (docs/formats/presence.md). Every ToJson output parses back to the same value.
#include "wg/presence/model.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "wg/core/json_reader.h"

namespace wg::presence {

namespace {

using core::Json;
using core::JsonReader;
using core::Result;
using core::Status;

constexpr std::size_t kMaxCode = 64;          // site, zone
constexpr std::size_t kMaxDescription = 128;  // tag description, fence name
constexpr std::size_t kMaxNote = 256;         // binding note
constexpr double kMaxFrameOffset = 1e6;       // UWB frame translation, metres
constexpr double kMaxRotationDeg = 360;

Status Bad(std::string field, std::string msg) {
  return Status::InvalidArgument(std::move(msg), std::move(field));
}

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

bool UsernameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Field name "prefix.key" or just "key" when the prefix is empty.
std::string Join(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

Status MaxLen(const std::string& s, std::size_t max, std::string_view field) {
  if (s.size() > max) {
    return Bad(std::string(field), "longer than " + std::to_string(max) + " bytes");
  }
  return Status::Ok();
}

// A string of at most kMaxCode bytes without control characters.
Status CheckCode(const std::string& s, std::string_view field) {
  if (s.size() > kMaxCode) {
    return Bad(std::string(field), "longer than " + std::to_string(kMaxCode) + " bytes");
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Bad(std::string(field), "must not contain control characters");
    }
  }
  return Status::Ok();
}

Result<std::optional<core::Timestamp>> OptTime(const Json& doc, std::string_view key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::optional<core::Timestamp>();
  if (!it->is_string()) return Bad(std::string(key), "expected an RFC 3339 timestamp");
  WG_ASSIGN_OR_RETURN(auto t, core::ParseTimestamp(it->get<std::string>(), key));
  return std::optional<core::Timestamp>(t);
}

// One [x, y] point of a ring: "area.outer[2]" for the shape, ".x"/".y" for a value.
Result<Vec2> ParsePoint(const Json& j, const std::string& field) {
  if (!j.is_array() || j.size() != 2) return Bad(field, "expected [x, y]");
  double v[2] = {0, 0};
  for (std::size_t k = 0; k < 2; ++k) {
    std::string f = field + (k == 0 ? ".x" : ".y");
    if (!j[k].is_number()) return Bad(f, "expected a number");
    v[k] = j[k].get<double>();
    if (!std::isfinite(v[k])) return Bad(f, "must be finite");
    if (std::fabs(v[k]) > kMaxLocalCoordinate) {
      return Bad(f, "must be within ±1000000 m of the site origin");
    }
  }
  return Vec2{v[0], v[1]};
}

Result<Ring> ParseRing(const Json& j, const std::string& field) {
  if (!j.is_array()) return Bad(field, "expected an array of [x, y] points");
  if (j.size() > kMaxRingVertices) {
    return Bad(field, "at most " + std::to_string(kMaxRingVertices) + " vertices");
  }
  if (j.size() < 3) return Bad(field, "needs at least 3 vertices");
  Ring r;
  r.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    WG_ASSIGN_OR_RETURN(auto p, ParsePoint(j[i], JsonReader::Index(field, i)));
    r.push_back(p);
  }
  return r;
}

Json RingJson(const Ring& r) {
  Json a = Json::array();
  for (const auto& p : r) a.push_back(Json::array({p.x, p.y}));
  return a;
}

}  // namespace

std::string_view TagKindName(TagKind k) {
  switch (k) {
    case TagKind::kUwb: return "uwb";
    case TagKind::kGps: return "gps";
  }
  return "uwb";
}

core::Result<TagKind> ParseTagKind(std::string_view s, std::string_view field) {
  if (s == "uwb") return TagKind::kUwb;
  if (s == "gps") return TagKind::kGps;
  return Bad(std::string(field), "unknown tag kind '" + std::string(s) +
                                     "' (expected uwb or gps)");
}

bool ValidId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), IdChar);
}


// --- Tag --------------------------------------------------------------------------------

core::Result<Tag> ParseTag(core::OrgId org, const core::Json& doc) {
  if (!doc.is_object()) return Bad("tag", "expected a JSON object");
  JsonReader r(doc, "");
  r.Only({"id", "site", "kind", "description", "enabled", "version"});
  Tag t;
  t.org = org;
  t.id = r.Str("id");
  WG_RETURN_IF_ERROR(r.status());
  if (!ValidId(t.id)) return Bad("id", "expected [A-Za-z0-9._-]{1,64}");
  t.site = r.Str("site");
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(CheckCode(t.site, "site"));
  auto kind = r.Str("kind");
  WG_RETURN_IF_ERROR(r.status());
  WG_ASSIGN_OR_RETURN(t.kind, ParseTagKind(kind, "kind"));
  t.description = r.Str("description", false);
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(MaxLen(t.description, kMaxDescription, "description"));
  t.enabled = r.Bool("enabled", true);
  t.version = r.Int64("version", 0, INT64_MAX, 0);
  WG_RETURN_IF_ERROR(r.status());
  return t;
}

core::Json ToJson(const Tag& t) {
  Json j = Json::object();
  j["id"] = t.id;
  j["site"] = t.site;
  j["kind"] = TagKindName(t.kind);
  j["description"] = t.description;
  j["enabled"] = t.enabled;
  j["version"] = t.version;
  return j;
}

// --- PersonRef --------------------------------------------------------------------------

std::string PersonRef::Key() const {
  return (kind == Kind::kWorker ? "worker:" : "user:") + code;
}

core::Result<PersonRef> ParsePersonRef(std::string_view key, std::string_view field) {
  std::string f(field);
  auto colon = key.find(':');
  if (colon == std::string_view::npos) {
    return Bad(f, "expected \"worker:<code>\" or \"user:<username>\"");
  }
  std::string_view prefix = key.substr(0, colon);
  std::string_view code = key.substr(colon + 1);
  PersonRef p;
  if (prefix == "worker") {
    if (!ValidId(code)) return Bad(f, "worker code must be [A-Za-z0-9._-]{1,64}");
    p.kind = PersonRef::Kind::kWorker;
  } else if (prefix == "user") {
    if (code.size() < 3 || code.size() > 64 ||
        !std::all_of(code.begin(), code.end(), UsernameChar)) {
      return Bad(f, "username must be [a-z0-9._-]{3,64}");
    }
    p.kind = PersonRef::Kind::kUser;
  } else {
    return Bad(f, "unknown person kind '" + std::string(prefix) + "' (expected worker or user)");
  }
  p.code = std::string(code);
  return p;
}

// --- Binding ----------------------------------------------------------------------------

core::Result<Binding> ParseBinding(std::string_view tag, const core::Json& doc,
                                   core::Timestamp now) {
  if (!ValidId(tag)) return Bad("tag", "expected [A-Za-z0-9._-]{1,64}");
  if (!doc.is_object()) return Bad("binding", "expected a JSON object");
  JsonReader r(doc, "");
  // "id" and "tag" are what ToJson writes; a body naming another tag is refused.
  r.Only({"id", "tag", "person", "valid_from", "valid_until", "note"});
  Binding b;
  b.tag = std::string(tag);
  b.id = r.Int64("id", 0, INT64_MAX, 0);
  auto body_tag = r.Str("tag", false);
  auto person = r.Str("person");
  WG_RETURN_IF_ERROR(r.status());
  if (r.Has("tag") && body_tag != tag) {
    return Bad("tag", "does not match the tag '" + std::string(tag) + "'");
  }
  WG_ASSIGN_OR_RETURN(b.person, ParsePersonRef(person, "person"));
  WG_ASSIGN_OR_RETURN(auto from, OptTime(doc, "valid_from"));
  b.valid_from = from.value_or(now);
  WG_ASSIGN_OR_RETURN(b.valid_until, OptTime(doc, "valid_until"));
  if (b.valid_until && *b.valid_until <= b.valid_from) {
    return Bad("valid_until", "must be after valid_from");
  }
  b.note = r.Str("note", false);
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(MaxLen(b.note, kMaxNote, "note"));
  return b;
}

core::Json ToJson(const Binding& b) {
  Json j = Json::object();
  j["id"] = b.id;
  j["tag"] = b.tag;
  j["person"] = b.person.Key();
  j["valid_from"] = core::FormatTimestamp(b.valid_from);
  j["valid_until"] = b.valid_until ? Json(core::FormatTimestamp(*b.valid_until)) : Json();
  j["note"] = b.note;
  return j;
}

// --- Area -------------------------------------------------------------------------------

core::Result<Area> ParseArea(const core::Json& j, std::string_view field) {
  std::string base(field);
  if (!j.is_object()) return Bad(base, "expected an object");
  JsonReader r(j, Join(base, ""));
  r.Only({"outer", "holes", "z_min", "z_max"});
  WG_RETURN_IF_ERROR(r.status());
  Area a;
  auto outer = j.find("outer");
  if (outer == j.end() || outer->is_null()) return Bad(Join(base, "outer"), "is required");
  WG_ASSIGN_OR_RETURN(a.outer, ParseRing(*outer, Join(base, "outer")));
  auto holes = j.find("holes");
  if (holes != j.end() && !holes->is_null()) {
    std::string hf = Join(base, "holes");
    if (!holes->is_array()) return Bad(hf, "expected an array of rings");
    if (holes->size() > kMaxHoles) {
      return Bad(hf, "at most " + std::to_string(kMaxHoles) + " holes");
    }
    for (std::size_t i = 0; i < holes->size(); ++i) {
      WG_ASSIGN_OR_RETURN(auto ring, ParseRing((*holes)[i], JsonReader::Index(hf, i)));
      a.holes.push_back(std::move(ring));
    }
  }
  a.z_min = r.OptNumber("z_min", -kMaxHeight, kMaxHeight);
  a.z_max = r.OptNumber("z_max", -kMaxHeight, kMaxHeight);
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(ValidateArea(a, base));
  return a;
}

core::Json AreaToJson(const Area& a) {
  Json j = Json::object();
  j["outer"] = RingJson(a.outer);
  Json holes = Json::array();
  for (const auto& h : a.holes) holes.push_back(RingJson(h));
  j["holes"] = std::move(holes);
  if (a.z_min) j["z_min"] = *a.z_min;
  if (a.z_max) j["z_max"] = *a.z_max;
  return j;
}

// --- Fence ------------------------------------------------------------------------------

core::Result<Fence> ParseFence(core::OrgId org, const core::Json& doc) {
  if (!doc.is_object()) return Bad("fence", "expected a JSON object");
  JsonReader r(doc, "");
  r.Only({"id", "site", "zone", "name", "hazardous", "restricted", "enabled", "area",
          "version"});
  Fence f;
  f.org = org;
  f.id = r.Str("id");
  WG_RETURN_IF_ERROR(r.status());
  if (!ValidId(f.id)) return Bad("id", "expected [A-Za-z0-9._-]{1,64}");
  f.site = r.Str("site");
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(CheckCode(f.site, "site"));
  f.zone = r.Str("zone", false);
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(CheckCode(f.zone, "zone"));
  f.name = r.Str("name", false);
  WG_RETURN_IF_ERROR(r.status());
  WG_RETURN_IF_ERROR(MaxLen(f.name, kMaxDescription, "name"));
  f.hazardous = r.Bool("hazardous", false);
  f.restricted = r.Bool("restricted", false);
  f.enabled = r.Bool("enabled", true);
  f.version = r.Int64("version", 0, INT64_MAX, 0);
  WG_RETURN_IF_ERROR(r.status());
  auto area = doc.find("area");
  if (area == doc.end() || area->is_null()) return Bad("area", "is required");
  WG_ASSIGN_OR_RETURN(f.area, ParseArea(*area, "area"));
  return f;
}

core::Json ToJson(const Fence& f) {
  Json j = Json::object();
  j["id"] = f.id;
  j["site"] = f.site;
  j["zone"] = f.zone;
  j["name"] = f.name;
  j["hazardous"] = f.hazardous;
  j["restricted"] = f.restricted;
  j["enabled"] = f.enabled;
  j["area"] = AreaToJson(f.area);
  j["version"] = f.version;
  return j;
}

// --- SiteFrame --------------------------------------------------------------------------

core::Result<SiteFrame> ParseSiteFrame(const core::Json& doc) {
  if (!doc.is_object()) return Bad("frame", "expected a JSON object");
  JsonReader r(doc, "");
  r.Only({"origin", "uwb"});
  WG_RETURN_IF_ERROR(r.status());
  SiteFrame f;
  if (r.Has("origin")) {
    const Json& o = r.Object("origin");
    WG_RETURN_IF_ERROR(r.status());
    JsonReader ro(o, "origin.");
    ro.Only({"lat", "lon"});
    LatLon p;
    p.lat = ro.Number("lat", -90, 90, std::nullopt);
    p.lon = ro.Number("lon", -180, 180, std::nullopt);
    WG_RETURN_IF_ERROR(ro.status());
    WG_RETURN_IF_ERROR(ValidateLatLon(p, "origin"));
    f.origin = p;
  }
  if (r.Has("uwb")) {
    const Json& u = r.Object("uwb");
    WG_RETURN_IF_ERROR(r.status());
    JsonReader ru(u, "uwb.");
    ru.Only({"dx", "dy", "dz", "rotation_deg"});
    f.uwb.dx = ru.Number("dx", -kMaxFrameOffset, kMaxFrameOffset, 0);
    f.uwb.dy = ru.Number("dy", -kMaxFrameOffset, kMaxFrameOffset, 0);
    f.uwb.dz = ru.Number("dz", -kMaxFrameOffset, kMaxFrameOffset, 0);
    f.uwb.rotation_deg = ru.Number("rotation_deg", -kMaxRotationDeg, kMaxRotationDeg, 0);
    WG_RETURN_IF_ERROR(ru.status());
  }
  return f;
}

core::Json ToJson(const SiteFrame& f) {
  Json j = Json::object();
  if (f.origin) j["origin"] = Json{{"lat", f.origin->lat}, {"lon", f.origin->lon}};
  j["uwb"] = Json{{"dx", f.uwb.dx},
                  {"dy", f.uwb.dy},
                  {"dz", f.uwb.dz},
                  {"rotation_deg", f.uwb.rotation_deg}};
  return j;
}

}  // namespace wg::presence

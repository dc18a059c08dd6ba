// The permit document (docs/formats/permit.md): strict parser, writer and the canonical
// content every signer signs. Type, grade and state codes live in model_enums.cc.
#include "wg/permit/model.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <utility>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/evidence/fact.h"

namespace wg::permit {

namespace {

using core::Json;
using core::Result;
using core::Status;
using core::Timestamp;

// --- member tables (the single source of DocumentMembers and the unknown-member check) --

constexpr std::array<std::string_view, 27> kPermitMembers = {
    "site",
    "type",
    "grade",
    "supersedes",
    "title",
    "work_unit",
    "owning_unit",
    "location",
    "planned_start",
    "planned_end",
    "hazard_analysis",
    "hazards",
    "measures",
    "people",
    "linked_permits",
    "activities",
    "gas",
    "environment",
    "signatures",
    "hot_work",
    "confined_space",
    "blind_plate",
    "height",
    "lifting",
    "temporary_power",
    "excavation",
    "road_breaking",
};
constexpr std::array<std::string_view, 12> kServiceMembers = {
    "id",       "number",      "org",        "state",
    "version",  "approved_at", "started_at", "last_suspended_at",
    "ended_at", "created_by",  "created_at", "updated_at",
};
constexpr std::array<std::string_view, 7> kLocationMembers = {
    "zone", "description", "point", "elevation_m", "fence", "area_class", "outdoor",
};
constexpr std::array<std::string_view, 2> kPointMembers = {
    "x",
    "y",
};
constexpr std::array<std::string_view, 5> kPersonMembers = {
    "role", "worker_code", "username", "name", "certificate_numbers",
};
constexpr std::array<std::string_view, 5> kMeasureMembers = {
    "code", "text", "involved", "confirmer", "confirmed_at",
};
constexpr std::array<std::string_view, 8> kGasMembers = {
    "time", "point", "gas", "value", "unit", "analyst", "instrument", "continuous",
};
constexpr std::array<std::string_view, 8> kSignatureMembers = {
    "role", "username", "signed_at", "key_id", "digest", "signature", "opinion", "position",
};
constexpr std::array<std::string_view, 3> kEnvironmentMembers = {
    "wind_force",
    "weather",
    "temperature_c",
};
constexpr std::array<std::string_view, 3> kNearbyMembers = {
    "kind",
    "distance_m",
    "description",
};
constexpr std::array<std::string_view, 14> kHotWorkMembers = {
    "method",
    "on_running_equipment",
    "hot_tapping",
    "shutdown_and_isolated",
    "oxygen_equipment",
    "in_fixed_hot_work_area",
    "nearby",
    "oxygen_acetylene_distance_m",
    "cylinder_to_point_distance_m",
    "welder_machine_distance_m",
    "video_cameras",
    "written_plan_ref",
    "continuous_monitor",
    "isolation",
};
constexpr std::array<std::string_view, 9> kConfinedSpaceMembers = {
    "space_name",     "original_medium",      "oxygen_enriched",
    "isolation",      "ventilation",          "lighting_voltage_v",
    "wet_or_cramped", "previously_flammable", "continuous_monitor",
};
constexpr std::array<std::string_view, 4> kPlateMembers = {
    "number",
    "action",
    "material",
    "size",
};
constexpr std::array<std::string_view, 8> kBlindPlateMembers = {
    "pipeline", "medium",      "temperature_c", "pressure_mpa",
    "plates",   "diagram_ref", "toxic_line",    "actual_start",
};
constexpr std::array<std::string_view, 5> kHeightMembers = {
    "height_m", "method_b_factors", "raising_situations", "grade", "protective_layer",
};
constexpr std::array<std::string_view, 8> kLiftingMembers = {
    "mass_t", "grade",          "complex_load",   "plan_ref", "risk_analysis_ref",
    "cranes", "max_load_ratio", "test_lift_done",
};
constexpr std::array<std::string_view, 5> kTemporaryPowerMembers = {
    "voltage", "load_kw", "hazardous_area", "access_point", "supply_unit",
};
constexpr std::array<std::string_view, 6> kExcavationMembers = {
    "depth_m",
    "area_m2",
    "hazardous_area",
    "sketch_ref",
    "cosigned_departments",
    "buried_facilities_surveyed",
};
constexpr std::array<std::string_view, 5> kRoadBreakingMembers = {
    "road", "traffic_plan_ref", "fire_lane_kept", "short_fixed_point", "cosigned_departments",
};

struct ObjectMembers {
  std::string_view name;
  std::span<const std::string_view> members;
};

const std::array<ObjectMembers, 18> kObjects = {{
    {"permit", kPermitMembers},
    {"location", kLocationMembers},
    {"point", kPointMembers},
    {"person", kPersonMembers},
    {"measure", kMeasureMembers},
    {"gas", kGasMembers},
    {"signature", kSignatureMembers},
    {"environment", kEnvironmentMembers},
    {"nearby", kNearbyMembers},
    {"plate", kPlateMembers},
    {"hot_work", kHotWorkMembers},
    {"confined_space", kConfinedSpaceMembers},
    {"blind_plate", kBlindPlateMembers},
    {"height", kHeightMembers},
    {"lifting", kLiftingMembers},
    {"temporary_power", kTemporaryPowerMembers},
    {"excavation", kExcavationMembers},
    {"road_breaking", kRoadBreakingMembers},
}};

// The section member of each type, in PermitType order.
constexpr std::array<std::string_view, kPermitTypeCount> kSectionNames = {
    "hot_work", "confined_space",  "blind_plate", "height",
    "lifting",  "temporary_power", "excavation",  "road_breaking",
};

// Closed vocabularies (model.h).
constexpr std::array<std::string_view, 8> kRoles = {
    "performer",          "guardian",  "work_leader", "safety_briefer",
    "briefing_recipient", "commander", "gas_analyst", "measure_confirmer",
};
constexpr std::array<std::string_view, 4> kGasUnits = {
    "%vol",
    "%LEL",
    "ppm",
    "mg/m3",
};
constexpr std::array<std::string_view, 8> kWeather = {
    "fog", "dense_fog", "rain", "rainstorm", "heavy_snow", "snow", "thunderstorm", "storm",
};
constexpr std::array<std::string_view, 6> kNearbyKinds = {
    "venting", "draining", "painting", "solvent_cleaning", "dust_sweeping", "hazmat_train",
};
constexpr std::array<std::string_view, 4> kHotWorkMethods = {
    "welding",
    "cutting",
    "grinding",
    "other",
};
constexpr std::array<std::string_view, 4> kIsolation = {
    "blind_plate",
    "pipe_removed",
    "valve",
    "water_seal",
};
constexpr std::array<std::string_view, 4> kVentilation = {
    "natural",
    "forced",
    "none",
    "pure_oxygen",
};
constexpr std::array<std::string_view, 2> kPlateActions = {
    "insert",
    "remove",
};

// Members left out of the signed content: where the permit is in its life, not what it
// says (docs/formats/permit.md, "Canonical content").
constexpr std::array<std::string_view, 10> kUnsignedMembers = {
    "signatures",        "state",    "version",    "environment", "approved_at", "started_at",
    "last_suspended_at", "ended_at", "updated_at", "id",
};

// --- physical limits ---------------------------------------------------------------
constexpr double kMaxCoordinate = 1e7;   // |x|, |y| in site-local metres
constexpr double kMaxDistance = 100000;  // metres
constexpr double kMaxHeight = 1000;      // metres
constexpr double kMinElevation = -1000;  // metres (pits, shafts)
constexpr double kMaxMass = 20000;       // tonnes
constexpr double kMaxDepth = 100;        // metres
constexpr double kMinTemperature = -273.15;
constexpr double kMaxProcessTemperature = 2000;  // °C in a pipeline
constexpr double kMinAirTemperature = -90;
constexpr double kMaxAirTemperature = 60;
constexpr double kMinPressure = -0.1;       // MPa gauge (full vacuum)
constexpr double kMaxPressure = 1000;       // MPa
constexpr double kMaxVoltage = 1000;        // V, lighting
constexpr double kMaxLoad = 100000;         // kW
constexpr double kMaxArea = 1e6;            // m²
constexpr std::int64_t kMaxWindForce = 17;  // Beaufort
constexpr std::int64_t kMaxCranes = 20;

constexpr std::size_t kMaxCode = 64;
constexpr std::size_t kMaxName = 200;

// --- small helpers -----------------------------------------------------------------

template <std::size_t N>
bool OneOf(const std::array<std::string_view, N>& set, std::string_view s) {
  for (auto v : set) {
    if (v == s) return true;
  }
  return false;
}

template <std::size_t N>
std::string Listed(const std::array<std::string_view, N>& set) {
  std::string out;
  for (auto v : set) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

// Shortest decimal that reads back as the same double, positional notation ("0.5", "30",
// "0.0000001"); both zeros are "0". Used for messages and for the canonical content.
std::string FormatDouble(double v) {
  if (v == 0) return "0";
  std::array<char, 400> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed);
  if (ec != std::errc()) return "nan";
  return std::string(buf.data(), end);
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string At(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

Status Invalid(std::string msg, std::string field) {
  return Status::InvalidArgument(std::move(msg), std::move(field));
}

const Json* Member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Opens an object: it must be a JSON object with only the listed members.
Status CheckObject(const Json& j, const std::string& path,
                   std::span<const std::string_view> allowed) {
  if (!j.is_object()) return Invalid("expected a JSON object", path.empty() ? "permit" : path);
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (auto a : allowed) {
      if (a == it.key()) known = true;
    }
    if (!known) return Invalid("unknown member", Join(path, it.key()));
  }
  return Status::Ok();
}

// Kinds of text, each with its own alphabet and length limit (docs/formats/permit.md).
enum class TextKind {
  kCode,        // vocabulary codes, numbers, tags: 1..64 printable ASCII, no spaces
  kUsername,    // [a-z0-9._-]{3,64}
  kWorkerCode,  // [A-Za-z0-9_.-]{1,64}
  kName,        // one line of text, ≤ 200 characters
  kFree,        // free text, may contain line breaks and tabs, ≤ PermitLimits::max_text
};

Status CheckTextKind(std::string_view s, const std::string& field, TextKind kind,
                     std::size_t max_free) {
  switch (kind) {
    case TextKind::kCode:
      if (s.size() > kMaxCode) return Invalid("is longer than 64 characters", field);
      for (char c : s) {
        if (c <= ' ' || c >= 0x7F) {
          return Invalid("may contain only printable ASCII characters without spaces", field);
        }
      }
      return Status::Ok();
    case TextKind::kUsername:
      if (s.size() < 3 || s.size() > 64) return Invalid("must be 3 to 64 characters", field);
      for (char c : s) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return Invalid("may contain only a-z, 0-9, '.', '_' and '-'", field);
      }
      return Status::Ok();
    case TextKind::kWorkerCode:
      if (s.size() > 64) return Invalid("is longer than 64 characters", field);
      for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok) return Invalid("may contain only letters, digits, '_', '-' and '.'", field);
      }
      return Status::Ok();
    case TextKind::kName:
      return core::CheckText(s, field, kMaxName, /*required=*/false);
    case TextKind::kFree: {
      if (!core::IsValidUtf8(s)) return Invalid("is not valid UTF-8", field);
      for (unsigned char c : s) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
          return Invalid("contains a control character other than line feed or tab", field);
        }
      }
      if (core::Utf8Length(s) > max_free) {
        return Invalid("is longer than " + std::to_string(max_free) + " characters", field);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// The reading context of one JSON object: its path and the document limits.
class Reader {
 public:
  Reader(const Json& obj, std::string path, const PermitLimits& limits)
      : obj_(obj), path_(std::move(path)), limits_(limits) {}

  const std::string& path() const { return path_; }
  const PermitLimits& limits() const { return limits_; }
  std::string Field(std::string_view key) const { return Join(path_, key); }
  const Json* Find(std::string_view key) const { return Member(obj_, key); }

  Result<std::string> Text(std::string_view key, TextKind kind, bool required = false) const {
    const Json* v = Find(key);
    if (v == nullptr) {
      if (required) return Invalid("is required", Field(key));
      return std::string();
    }
    if (!v->is_string()) return Invalid("expected a string", Field(key));
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty()) {
      if (required) return Invalid("is required", Field(key));
      return std::string();
    }
    WG_RETURN_IF_ERROR(CheckTextKind(s, Field(key), kind, limits_.max_text));
    return s;
  }

  template <std::size_t N>
  Result<std::string> Enum(std::string_view key, const std::array<std::string_view, N>& set,
                           bool required) const {
    WG_ASSIGN_OR_RETURN(std::string s, Text(key, TextKind::kCode, required));
    if (!s.empty() && !OneOf(set, s)) {
      return Invalid("must be one of " + Listed(set), Field(key));
    }
    return s;
  }

  Result<std::optional<double>> Number(std::string_view key, double min, double max) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::optional<double>();
    if (!v->is_number()) return Invalid("expected a number", Field(key));
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
      return Invalid("must be between " + FormatDouble(min) + " and " + FormatDouble(max),
                     Field(key));
    }
    return std::optional<double>(d);
  }

  Result<double> RequiredNumber(std::string_view key, double min, double max) const {
    WG_ASSIGN_OR_RETURN(auto v, Number(key, min, max));
    if (!v) return Invalid("is required", Field(key));
    return *v;
  }

  Result<std::optional<std::int64_t>> Int(std::string_view key, std::int64_t min,
                                          std::int64_t max) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::optional<std::int64_t>();
    if (!v->is_number_integer()) return Invalid("expected an integer", Field(key));
    const std::string range =
        "must be between " + std::to_string(min) + " and " + std::to_string(max);
    if (v->is_number_unsigned()) {
      if (v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
        return Invalid(range, Field(key));
      }
    }
    const auto i = v->get<std::int64_t>();
    if (i < min || i > max) return Invalid(range, Field(key));
    return std::optional<std::int64_t>(i);
  }

  Result<bool> Bool(std::string_view key, bool fallback) const {
    const Json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) return Invalid("expected true or false", Field(key));
    return v->get<bool>();
  }

  Result<std::optional<Timestamp>> Time(std::string_view key) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::optional<Timestamp>();
    if (!v->is_string()) return Invalid("expected an RFC 3339 date-time string", Field(key));
    const auto& s = v->get_ref<const std::string&>();
    // core::ParseTimestamp reads a bare date as midnight in Shanghai; a permit time must
    // say the time of day and its offset.
    if (s.size() <= 10) {
      return Invalid(
          "expected an RFC 3339 date-time with a UTC offset such as "
          "2026-12-01T08:00:00+08:00, got '" +
              s + "'",
          Field(key));
    }
    WG_ASSIGN_OR_RETURN(Timestamp t, core::ParseTimestamp(s, Field(key)));
    return std::optional<Timestamp>(t);
  }

  Result<Timestamp> RequiredTime(std::string_view key) const {
    WG_ASSIGN_OR_RETURN(auto t, Time(key));
    if (!t) return Invalid("is required", Field(key));
    return *t;
  }

  // An array member; each element is read by `parse(element, element_path)`.
  template <typename T, typename F>
  Result<std::vector<T>> List(std::string_view key, std::size_t max, F&& parse) const {
    std::vector<T> out;
    const Json* v = Find(key);
    if (v == nullptr) return out;
    if (!v->is_array()) return Invalid("expected an array", Field(key));
    if (v->size() > max) {
      return Invalid(
          "has " + std::to_string(v->size()) + " entries; the limit is " + std::to_string(max),
          Field(key));
    }
    out.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
      WG_ASSIGN_OR_RETURN(T item, parse((*v)[i], At(Field(key), i)));
      out.push_back(std::move(item));
    }
    return out;
  }

  // An array of non-empty strings of one kind (and, when `set` is given, from that set).
  Result<std::vector<std::string>> Strings(std::string_view key, TextKind kind,
                                           std::span<const std::string_view> set = {}) const {
    return List<std::string>(key, limits_.max_list,
                             [&](const Json& e, const std::string& at) -> Result<std::string> {
                               if (!e.is_string()) return Invalid("expected a string", at);
                               const auto& s = e.get_ref<const std::string&>();
                               if (s.empty()) return Invalid("must not be empty", at);
                               WG_RETURN_IF_ERROR(CheckTextKind(s, at, kind, limits_.max_text));
                               if (!set.empty()) {
                                 bool found = false;
                                 std::string all;
                                 for (auto a : set) {
                                   if (a == s) found = true;
                                   if (!all.empty()) all += ", ";
                                   all += a;
                                 }
                                 if (!found) return Invalid("must be one of " + all, at);
                               }
                               return s;
                             });
  }

 private:
  const Json& obj_;
  std::string path_;
  const PermitLimits& limits_;
};

// --- objects -----------------------------------------------------------------------

Result<Point> ParsePoint(const Json& j, const std::string& path, const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kPointMembers));
  Reader r(j, path, limits);
  Point p;
  WG_ASSIGN_OR_RETURN(p.x, r.RequiredNumber("x", -kMaxCoordinate, kMaxCoordinate));
  WG_ASSIGN_OR_RETURN(p.y, r.RequiredNumber("y", -kMaxCoordinate, kMaxCoordinate));
  return p;
}

int Orientation(const Point& a, const Point& b, const Point& c) {
  const double v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
  return (v > 0) - (v < 0);
}

// p is collinear with a-b: does it lie within the segment's bounding box?
bool WithinBox(const Point& a, const Point& b, const Point& p) {
  return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y &&
         p.y <= std::max(a.y, b.y);
}

bool SegmentsIntersect(const Point& a, const Point& b, const Point& c, const Point& d) {
  const int o1 = Orientation(a, b, c), o2 = Orientation(a, b, d);
  const int o3 = Orientation(c, d, a), o4 = Orientation(c, d, b);
  if (o1 != o2 && o3 != o4) return true;
  return (o1 == 0 && WithinBox(a, b, c)) || (o2 == 0 && WithinBox(a, b, d)) ||
         (o3 == 0 && WithinBox(c, d, a)) || (o4 == 0 && WithinBox(c, d, b));
}

// A fence is a simple polygon: at least three points, no repeated consecutive point, no
// two edges crossing or touching except neighbours at their shared corner.
Status CheckFence(const std::vector<Point>& fence, const std::string& path) {
  const std::size_t n = fence.size();
  if (n == 0) return Status::Ok();
  if (n < 3) return Invalid("needs at least 3 points (or none)", path);
  for (std::size_t i = 0; i < n; ++i) {
    if (fence[i] == fence[(i + 1) % n]) {
      return Invalid("repeats point " + std::to_string(i), At(path, (i + 1) % n));
    }
  }
  auto edge = [&](std::size_t e) { return std::to_string(e) + "-" + std::to_string((e + 1) % n); };
  for (std::size_t i = 0; i < n; ++i) {
    const Point& a = fence[i];
    const Point& b = fence[(i + 1) % n];
    for (std::size_t k = i + 1; k < n; ++k) {
      const Point& c = fence[k];
      const Point& d = fence[(k + 1) % n];
      const bool next = k == i + 1;             // shares b == c
      const bool wraps = i == 0 && k == n - 1;  // shares a == d
      bool bad = false;
      if (next) {
        // Neighbours meet at b; they must not fold back over each other.
        bad = (Orientation(a, b, d) == 0 && WithinBox(a, b, d)) ||
              (Orientation(c, d, a) == 0 && WithinBox(c, d, a));
      } else if (wraps) {
        bad = (Orientation(a, b, c) == 0 && WithinBox(a, b, c)) ||
              (Orientation(c, d, b) == 0 && WithinBox(c, d, b));
      } else {
        bad = SegmentsIntersect(a, b, c, d);
      }
      if (bad) {
        return Invalid("is self-intersecting: edge " + edge(i) + " meets edge " + edge(k), path);
      }
    }
  }
  return Status::Ok();
}

Result<Location> ParseLocation(const Json& j, const std::string& path, const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kLocationMembers));
  Reader r(j, path, limits);
  Location l;
  WG_ASSIGN_OR_RETURN(l.zone, r.Text("zone", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(l.description, r.Text("description", TextKind::kFree));
  const Json* point = r.Find("point");
  if (point == nullptr) return Invalid("is required", r.Field("point"));
  WG_ASSIGN_OR_RETURN(l.point, ParsePoint(*point, r.Field("point"), limits));
  WG_ASSIGN_OR_RETURN(auto elevation, r.Number("elevation_m", kMinElevation, kMaxHeight));
  l.elevation_m = elevation.value_or(0);
  WG_ASSIGN_OR_RETURN(l.fence, r.List<Point>("fence", limits.max_fence_points,
                                             [&](const Json& e, const std::string& p) {
                                               return ParsePoint(e, p, limits);
                                             }));
  WG_RETURN_IF_ERROR(CheckFence(l.fence, r.Field("fence")));
  WG_ASSIGN_OR_RETURN(l.area_class, r.Text("area_class", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(l.outdoor, r.Bool("outdoor", true));
  return l;
}

Result<Person> ParsePerson(const Json& j, const std::string& path, const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kPersonMembers));
  Reader r(j, path, limits);
  Person p;
  WG_ASSIGN_OR_RETURN(p.role, r.Enum("role", kRoles, /*required=*/true));
  WG_ASSIGN_OR_RETURN(p.worker_code, r.Text("worker_code", TextKind::kWorkerCode));
  WG_ASSIGN_OR_RETURN(p.username, r.Text("username", TextKind::kUsername));
  if (p.worker_code.empty() && p.username.empty()) {
    return Invalid("is required: a person needs a worker_code, a username or both",
                   r.Field("worker_code"));
  }
  WG_ASSIGN_OR_RETURN(p.name, r.Text("name", TextKind::kName));
  WG_ASSIGN_OR_RETURN(p.certificate_numbers, r.Strings("certificate_numbers", TextKind::kName));
  return p;
}

Result<Measure> ParseMeasure(const Json& j, const std::string& path, const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kMeasureMembers));
  Reader r(j, path, limits);
  Measure m;
  WG_ASSIGN_OR_RETURN(m.code, r.Text("code", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(m.text, r.Text("text", TextKind::kFree, /*required=*/true));
  WG_ASSIGN_OR_RETURN(m.involved, r.Bool("involved", true));
  WG_ASSIGN_OR_RETURN(m.confirmer, r.Text("confirmer", TextKind::kUsername));
  WG_ASSIGN_OR_RETURN(m.confirmed_at, r.Time("confirmed_at"));
  if (m.confirmer.empty() && m.confirmed_at) {
    return Invalid("is required when confirmed_at is set", r.Field("confirmer"));
  }
  if (!m.confirmer.empty() && !m.confirmed_at) {
    return Invalid("is required when confirmer is set", r.Field("confirmed_at"));
  }
  return m;
}

double MaxGasValue(std::string_view unit) {
  if (unit == "ppm") return 1e6;
  if (unit == "mg/m3") return 1e7;
  return 100;  // %vol, %LEL (instrument full scale)
}

Result<GasReading> ParseGas(const Json& j, const std::string& path, const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kGasMembers));
  Reader r(j, path, limits);
  GasReading g;
  WG_ASSIGN_OR_RETURN(g.time, r.RequiredTime("time"));
  WG_ASSIGN_OR_RETURN(g.point, r.Text("point", TextKind::kName, /*required=*/true));
  WG_ASSIGN_OR_RETURN(g.gas, r.Text("gas", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(g.unit, r.Enum("unit", kGasUnits, /*required=*/true));
  WG_ASSIGN_OR_RETURN(g.value, r.RequiredNumber("value", 0, MaxGasValue(g.unit)));
  WG_ASSIGN_OR_RETURN(g.analyst, r.Text("analyst", TextKind::kName));
  WG_ASSIGN_OR_RETURN(g.instrument, r.Text("instrument", TextKind::kName));
  WG_ASSIGN_OR_RETURN(g.continuous, r.Bool("continuous", false));
  return g;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// 64 raw bytes in base64url without padding (RFC 4648 §5: 86 characters, canonical), as
// the service writes them (core::Base64UrlEncode).
Status CheckSignatureBytes(std::string_view s, const std::string& field) {
  if (s.size() != 86) {
    return Invalid("must be the 64-byte signature in base64url without padding (86 characters)",
                   field);
  }
  auto raw = core::Base64UrlDecode(s, field);
  if (!raw) return raw.error();
  if (raw->size() != 64) return Invalid("is not base64url of a 64-byte signature", field);
  return Status::Ok();
}

// "<username>/k<n>"
Status CheckKeyId(std::string_view s, const std::string& field) {
  const auto slash = s.rfind('/');
  const std::string want = "must be <username>/k<n>";
  if (slash == std::string_view::npos || slash + 2 >= s.size() || s[slash + 1] != 'k') {
    return Invalid(want, field);
  }
  if (!CheckTextKind(s.substr(0, slash), field, TextKind::kUsername, 0).ok()) {
    return Invalid(want, field);
  }
  const auto digits = s.substr(slash + 2);
  if (digits.size() > 9) return Invalid(want, field);
  for (char c : digits) {
    if (c < '0' || c > '9') return Invalid(want, field);
  }
  return Status::Ok();
}

Result<Signature> ParseSignature(const Json& j, const std::string& path,
                                 const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kSignatureMembers));
  Reader r(j, path, limits);
  Signature s;
  WG_ASSIGN_OR_RETURN(s.role, r.Text("role", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.username, r.Text("username", TextKind::kUsername, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.signed_at, r.RequiredTime("signed_at"));
  WG_ASSIGN_OR_RETURN(s.key_id, r.Text("key_id", TextKind::kCode, /*required=*/true));
  WG_RETURN_IF_ERROR(CheckKeyId(s.key_id, r.Field("key_id")));
  WG_ASSIGN_OR_RETURN(s.digest, r.Text("digest", TextKind::kCode, /*required=*/true));
  if (s.digest.size() != 64 || !IsLowerHex(s.digest)) {
    return Invalid("must be 64 lowercase hex digits (SM3)", r.Field("digest"));
  }
  // kName only bounds the length; CheckSignatureBytes decides the alphabet.
  WG_ASSIGN_OR_RETURN(s.signature, r.Text("signature", TextKind::kName, /*required=*/true));
  WG_RETURN_IF_ERROR(CheckSignatureBytes(s.signature, r.Field("signature")));
  WG_ASSIGN_OR_RETURN(s.opinion, r.Text("opinion", TextKind::kFree));
  if (const Json* pos = r.Find("position")) {
    WG_ASSIGN_OR_RETURN(s.position, ParsePoint(*pos, r.Field("position"), limits));
  }
  return s;
}

Result<Environment> ParseEnvironment(const Json& j, const std::string& path,
                                     const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kEnvironmentMembers));
  Reader r(j, path, limits);
  Environment e;
  WG_ASSIGN_OR_RETURN(auto wind, r.Int("wind_force", 0, kMaxWindForce));
  e.wind_force = static_cast<int>(wind.value_or(0));
  WG_ASSIGN_OR_RETURN(e.weather, r.Strings("weather", TextKind::kCode, kWeather));
  WG_ASSIGN_OR_RETURN(e.temperature_c,
                      r.Number("temperature_c", kMinAirTemperature, kMaxAirTemperature));
  return e;
}

Result<NearbyActivity> ParseNearby(const Json& j, const std::string& path,
                                   const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kNearbyMembers));
  Reader r(j, path, limits);
  NearbyActivity n;
  WG_ASSIGN_OR_RETURN(n.kind, r.Enum("kind", kNearbyKinds, /*required=*/true));
  WG_ASSIGN_OR_RETURN(n.distance_m, r.RequiredNumber("distance_m", 0, kMaxDistance));
  WG_ASSIGN_OR_RETURN(n.description, r.Text("description", TextKind::kFree));
  return n;
}

// --- sections ----------------------------------------------------------------------

Result<HotWorkSection> ParseHotWork(const Reader& r) {
  HotWorkSection s;
  WG_ASSIGN_OR_RETURN(s.method, r.Enum("method", kHotWorkMethods, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.on_running_equipment, r.Bool("on_running_equipment", false));
  WG_ASSIGN_OR_RETURN(s.hot_tapping, r.Bool("hot_tapping", false));
  WG_ASSIGN_OR_RETURN(s.shutdown_and_isolated, r.Bool("shutdown_and_isolated", false));
  WG_ASSIGN_OR_RETURN(s.oxygen_equipment, r.Bool("oxygen_equipment", false));
  WG_ASSIGN_OR_RETURN(s.in_fixed_hot_work_area, r.Bool("in_fixed_hot_work_area", false));
  WG_ASSIGN_OR_RETURN(s.nearby, r.List<NearbyActivity>("nearby", r.limits().max_list,
                                                       [&](const Json& e, const std::string& p) {
                                                         return ParseNearby(e, p, r.limits());
                                                       }));
  WG_ASSIGN_OR_RETURN(s.oxygen_acetylene_distance_m,
                      r.Number("oxygen_acetylene_distance_m", 0, kMaxDistance));
  WG_ASSIGN_OR_RETURN(s.cylinder_to_point_distance_m,
                      r.Number("cylinder_to_point_distance_m", 0, kMaxDistance));
  WG_ASSIGN_OR_RETURN(s.welder_machine_distance_m,
                      r.Number("welder_machine_distance_m", 0, kMaxDistance));
  WG_ASSIGN_OR_RETURN(s.video_cameras, r.Strings("video_cameras", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(s.written_plan_ref, r.Text("written_plan_ref", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.continuous_monitor, r.Text("continuous_monitor", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.isolation, r.Strings("isolation", TextKind::kCode, kIsolation));
  return s;
}

Result<ConfinedSpaceSection> ParseConfinedSpace(const Reader& r) {
  ConfinedSpaceSection s;
  WG_ASSIGN_OR_RETURN(s.space_name, r.Text("space_name", TextKind::kName, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.original_medium, r.Text("original_medium", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.oxygen_enriched, r.Bool("oxygen_enriched", false));
  WG_ASSIGN_OR_RETURN(s.isolation, r.Strings("isolation", TextKind::kCode, kIsolation));
  WG_ASSIGN_OR_RETURN(s.ventilation, r.Enum("ventilation", kVentilation, /*required=*/false));
  WG_ASSIGN_OR_RETURN(s.lighting_voltage_v, r.Number("lighting_voltage_v", 0, kMaxVoltage));
  WG_ASSIGN_OR_RETURN(s.wet_or_cramped, r.Bool("wet_or_cramped", false));
  WG_ASSIGN_OR_RETURN(s.previously_flammable, r.Bool("previously_flammable", false));
  WG_ASSIGN_OR_RETURN(s.continuous_monitor, r.Text("continuous_monitor", TextKind::kName));
  return s;
}

Result<BlindPlate> ParsePlate(const Json& j, const std::string& path, const PermitLimits& limits) {
  WG_RETURN_IF_ERROR(CheckObject(j, path, kPlateMembers));
  Reader r(j, path, limits);
  BlindPlate b;
  WG_ASSIGN_OR_RETURN(b.number, r.Text("number", TextKind::kName, /*required=*/true));
  WG_ASSIGN_OR_RETURN(b.action, r.Enum("action", kPlateActions, /*required=*/true));
  WG_ASSIGN_OR_RETURN(b.material, r.Text("material", TextKind::kName));
  WG_ASSIGN_OR_RETURN(b.size, r.Text("size", TextKind::kName));
  return b;
}

Result<BlindPlateSection> ParseBlindPlate(const Reader& r) {
  BlindPlateSection s;
  WG_ASSIGN_OR_RETURN(s.pipeline, r.Text("pipeline", TextKind::kName, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.medium, r.Text("medium", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.temperature_c,
                      r.Number("temperature_c", kMinTemperature, kMaxProcessTemperature));
  WG_ASSIGN_OR_RETURN(s.pressure_mpa, r.Number("pressure_mpa", kMinPressure, kMaxPressure));
  WG_ASSIGN_OR_RETURN(s.plates, r.List<BlindPlate>("plates", r.limits().max_list,
                                                   [&](const Json& e, const std::string& p) {
                                                     return ParsePlate(e, p, r.limits());
                                                   }));
  WG_ASSIGN_OR_RETURN(s.diagram_ref, r.Text("diagram_ref", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.toxic_line, r.Bool("toxic_line", false));
  WG_ASSIGN_OR_RETURN(s.actual_start, r.Time("actual_start"));
  return s;
}

// A section's declared grade: empty, or a grade of the type.
Result<std::string> SectionGrade(const Reader& r, PermitType type) {
  WG_ASSIGN_OR_RETURN(std::string g, r.Text("grade", TextKind::kCode));
  if (!g.empty() && GradeRank(type, g) < 0) {
    return Invalid(type == PermitType::kHeight ? "must be one of I, II, III, IV"
                                               : "must be one of grade1, grade2, grade3",
                   r.Field("grade"));
  }
  return g;
}

Result<HeightSection> ParseHeight(const Reader& r) {
  HeightSection s;
  WG_ASSIGN_OR_RETURN(s.height_m, r.RequiredNumber("height_m", 0, kMaxHeight));
  WG_ASSIGN_OR_RETURN(s.method_b_factors, r.Strings("method_b_factors", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(s.raising_situations, r.Strings("raising_situations", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(s.grade, SectionGrade(r, PermitType::kHeight));
  WG_ASSIGN_OR_RETURN(s.protective_layer, r.Bool("protective_layer", false));
  return s;
}

Result<LiftingSection> ParseLifting(const Reader& r) {
  LiftingSection s;
  WG_ASSIGN_OR_RETURN(s.mass_t, r.RequiredNumber("mass_t", 0, kMaxMass));
  WG_ASSIGN_OR_RETURN(s.grade, SectionGrade(r, PermitType::kLifting));
  WG_ASSIGN_OR_RETURN(s.complex_load, r.Bool("complex_load", false));
  WG_ASSIGN_OR_RETURN(s.plan_ref, r.Text("plan_ref", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.risk_analysis_ref, r.Text("risk_analysis_ref", TextKind::kName));
  WG_ASSIGN_OR_RETURN(auto cranes, r.Int("cranes", 1, kMaxCranes));
  s.cranes = static_cast<int>(cranes.value_or(1));
  WG_ASSIGN_OR_RETURN(s.max_load_ratio, r.Number("max_load_ratio", 0, 1));
  WG_ASSIGN_OR_RETURN(s.test_lift_done, r.Bool("test_lift_done", false));
  return s;
}

Result<TemporaryPowerSection> ParseTemporaryPower(const Reader& r) {
  TemporaryPowerSection s;
  WG_ASSIGN_OR_RETURN(s.voltage, r.Text("voltage", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.load_kw, r.Number("load_kw", 0, kMaxLoad));
  WG_ASSIGN_OR_RETURN(s.hazardous_area, r.Bool("hazardous_area", false));
  WG_ASSIGN_OR_RETURN(s.access_point, r.Text("access_point", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.supply_unit, r.Text("supply_unit", TextKind::kName));
  return s;
}

Result<ExcavationSection> ParseExcavation(const Reader& r) {
  ExcavationSection s;
  WG_ASSIGN_OR_RETURN(s.depth_m, r.RequiredNumber("depth_m", 0, kMaxDepth));
  WG_ASSIGN_OR_RETURN(s.area_m2, r.Number("area_m2", 0, kMaxArea));
  WG_ASSIGN_OR_RETURN(s.hazardous_area, r.Bool("hazardous_area", false));
  WG_ASSIGN_OR_RETURN(s.sketch_ref, r.Text("sketch_ref", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.cosigned_departments, r.Strings("cosigned_departments", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(s.buried_facilities_surveyed, r.Bool("buried_facilities_surveyed", false));
  return s;
}

Result<RoadBreakingSection> ParseRoadBreaking(const Reader& r) {
  RoadBreakingSection s;
  WG_ASSIGN_OR_RETURN(s.road, r.Text("road", TextKind::kName, /*required=*/true));
  WG_ASSIGN_OR_RETURN(s.traffic_plan_ref, r.Text("traffic_plan_ref", TextKind::kName));
  WG_ASSIGN_OR_RETURN(s.fire_lane_kept, r.Bool("fire_lane_kept", false));
  WG_ASSIGN_OR_RETURN(s.short_fixed_point, r.Bool("short_fixed_point", false));
  WG_ASSIGN_OR_RETURN(s.cosigned_departments, r.Strings("cosigned_departments", TextKind::kCode));
  return s;
}

// Reads the one section `type` calls for into `p`.
Status ParseSection(const Json& j, PermitType type, const PermitLimits& limits, Permit& p) {
  const std::string name(kSectionNames[static_cast<std::size_t>(type)]);
  WG_RETURN_IF_ERROR(CheckObject(j, name, DocumentMembers(name)));
  Reader r(j, name, limits);
  switch (type) {
    case PermitType::kHotWork: {
      WG_ASSIGN_OR_RETURN(p.hot_work, ParseHotWork(r));
      break;
    }
    case PermitType::kConfinedSpace: {
      WG_ASSIGN_OR_RETURN(p.confined_space, ParseConfinedSpace(r));
      break;
    }
    case PermitType::kBlindPlate: {
      WG_ASSIGN_OR_RETURN(p.blind_plate, ParseBlindPlate(r));
      break;
    }
    case PermitType::kHeight: {
      WG_ASSIGN_OR_RETURN(p.height, ParseHeight(r));
      break;
    }
    case PermitType::kLifting: {
      WG_ASSIGN_OR_RETURN(p.lifting, ParseLifting(r));
      break;
    }
    case PermitType::kTemporaryPower: {
      WG_ASSIGN_OR_RETURN(p.temporary_power, ParseTemporaryPower(r));
      break;
    }
    case PermitType::kExcavation: {
      WG_ASSIGN_OR_RETURN(p.excavation, ParseExcavation(r));
      break;
    }
    case PermitType::kRoadBreaking: {
      WG_ASSIGN_OR_RETURN(p.road_breaking, ParseRoadBreaking(r));
      break;
    }
  }
  return Status::Ok();
}

std::string GradeList(PermitType t) {
  switch (t) {
    case PermitType::kHotWork:
      return "special, grade1, grade2";
    case PermitType::kHeight:
      return "I, II, III, IV";
    case PermitType::kLifting:
      return "grade1, grade2, grade3";
    default:
      return "";
  }
}

Status CheckGrade(PermitType t, const std::string& grade) {
  if (GradeRank(t, grade) >= 0) return Status::Ok();
  const std::string list = GradeList(t);
  if (list.empty()) {
    return Invalid("must be empty: " + std::string(PermitTypeCode(t)) + " has no grades", "grade");
  }
  if (grade.empty()) {
    return Invalid("is required for " + std::string(PermitTypeCode(t)) + "; one of " + list,
                   "grade");
  }
  return Invalid("is not a grade of " + std::string(PermitTypeCode(t)) + "; one of " + list,
                 "grade");
}

// --- writer ------------------------------------------------------------------------

void PutText(Json& j, const char* key, const std::string& s) {
  if (!s.empty()) j[key] = s;
}

void PutStrings(Json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}

void PutNumber(Json& j, const char* key, const std::optional<double>& v) {
  if (v) j[key] = *v;
}

void PutTime(Json& j, const char* key, const std::optional<Timestamp>& t) {
  if (t) j[key] = core::FormatTimestamp(*t);
}

Json PointJson(const Point& p) { return Json{{"x", p.x}, {"y", p.y}}; }

template <typename T, typename F>
void PutList(Json& j, const char* key, const std::vector<T>& v, F&& to_json) {
  if (v.empty()) return;
  Json arr = Json::array();
  for (const auto& e : v) arr.push_back(to_json(e));
  j[key] = std::move(arr);
}

Json LocationJson(const Location& l) {
  Json j = Json::object();
  PutText(j, "zone", l.zone);
  PutText(j, "description", l.description);
  j["point"] = PointJson(l.point);
  j["elevation_m"] = l.elevation_m;
  PutList(j, "fence", l.fence, PointJson);
  PutText(j, "area_class", l.area_class);
  j["outdoor"] = l.outdoor;
  return j;
}

Json PersonJson(const Person& p) {
  Json j = Json::object();
  PutText(j, "role", p.role);
  PutText(j, "worker_code", p.worker_code);
  PutText(j, "username", p.username);
  PutText(j, "name", p.name);
  PutStrings(j, "certificate_numbers", p.certificate_numbers);
  return j;
}

Json MeasureJson(const Measure& m) {
  Json j = Json::object();
  PutText(j, "code", m.code);
  PutText(j, "text", m.text);
  j["involved"] = m.involved;
  PutText(j, "confirmer", m.confirmer);
  PutTime(j, "confirmed_at", m.confirmed_at);
  return j;
}

Json GasJson(const GasReading& g) {
  Json j = Json::object();
  j["time"] = core::FormatTimestamp(g.time);
  PutText(j, "point", g.point);
  PutText(j, "gas", g.gas);
  j["value"] = g.value;
  PutText(j, "unit", g.unit);
  PutText(j, "analyst", g.analyst);
  PutText(j, "instrument", g.instrument);
  j["continuous"] = g.continuous;
  return j;
}

Json SignatureJson(const Signature& s) {
  Json j = Json::object();
  PutText(j, "role", s.role);
  PutText(j, "username", s.username);
  j["signed_at"] = core::FormatTimestamp(s.signed_at);
  PutText(j, "key_id", s.key_id);
  PutText(j, "digest", s.digest);
  PutText(j, "signature", s.signature);
  PutText(j, "opinion", s.opinion);
  if (s.position) j["position"] = PointJson(*s.position);
  return j;
}

Json NearbyJson(const NearbyActivity& n) {
  Json j = Json::object();
  PutText(j, "kind", n.kind);
  j["distance_m"] = n.distance_m;
  PutText(j, "description", n.description);
  return j;
}

Json PlateJson(const BlindPlate& b) {
  Json j = Json::object();
  PutText(j, "number", b.number);
  PutText(j, "action", b.action);
  PutText(j, "material", b.material);
  PutText(j, "size", b.size);
  return j;
}

Json HotWorkJson(const HotWorkSection& s) {
  Json j = Json::object();
  PutText(j, "method", s.method);
  j["on_running_equipment"] = s.on_running_equipment;
  j["hot_tapping"] = s.hot_tapping;
  j["shutdown_and_isolated"] = s.shutdown_and_isolated;
  j["oxygen_equipment"] = s.oxygen_equipment;
  j["in_fixed_hot_work_area"] = s.in_fixed_hot_work_area;
  PutList(j, "nearby", s.nearby, NearbyJson);
  PutNumber(j, "oxygen_acetylene_distance_m", s.oxygen_acetylene_distance_m);
  PutNumber(j, "cylinder_to_point_distance_m", s.cylinder_to_point_distance_m);
  PutNumber(j, "welder_machine_distance_m", s.welder_machine_distance_m);
  PutStrings(j, "video_cameras", s.video_cameras);
  PutText(j, "written_plan_ref", s.written_plan_ref);
  PutText(j, "continuous_monitor", s.continuous_monitor);
  PutStrings(j, "isolation", s.isolation);
  return j;
}

Json ConfinedSpaceJson(const ConfinedSpaceSection& s) {
  Json j = Json::object();
  PutText(j, "space_name", s.space_name);
  PutText(j, "original_medium", s.original_medium);
  j["oxygen_enriched"] = s.oxygen_enriched;
  PutStrings(j, "isolation", s.isolation);
  PutText(j, "ventilation", s.ventilation);
  PutNumber(j, "lighting_voltage_v", s.lighting_voltage_v);
  j["wet_or_cramped"] = s.wet_or_cramped;
  j["previously_flammable"] = s.previously_flammable;
  PutText(j, "continuous_monitor", s.continuous_monitor);
  return j;
}

Json BlindPlateJson(const BlindPlateSection& s) {
  Json j = Json::object();
  PutText(j, "pipeline", s.pipeline);
  PutText(j, "medium", s.medium);
  PutNumber(j, "temperature_c", s.temperature_c);
  PutNumber(j, "pressure_mpa", s.pressure_mpa);
  PutList(j, "plates", s.plates, PlateJson);
  PutText(j, "diagram_ref", s.diagram_ref);
  j["toxic_line"] = s.toxic_line;
  PutTime(j, "actual_start", s.actual_start);
  return j;
}

Json HeightJson(const HeightSection& s) {
  Json j = Json::object();
  j["height_m"] = s.height_m;
  PutStrings(j, "method_b_factors", s.method_b_factors);
  PutStrings(j, "raising_situations", s.raising_situations);
  PutText(j, "grade", s.grade);
  j["protective_layer"] = s.protective_layer;
  return j;
}

Json LiftingJson(const LiftingSection& s) {
  Json j = Json::object();
  j["mass_t"] = s.mass_t;
  PutText(j, "grade", s.grade);
  j["complex_load"] = s.complex_load;
  PutText(j, "plan_ref", s.plan_ref);
  PutText(j, "risk_analysis_ref", s.risk_analysis_ref);
  j["cranes"] = s.cranes;
  PutNumber(j, "max_load_ratio", s.max_load_ratio);
  j["test_lift_done"] = s.test_lift_done;
  return j;
}

Json TemporaryPowerJson(const TemporaryPowerSection& s) {
  Json j = Json::object();
  PutText(j, "voltage", s.voltage);
  PutNumber(j, "load_kw", s.load_kw);
  j["hazardous_area"] = s.hazardous_area;
  PutText(j, "access_point", s.access_point);
  PutText(j, "supply_unit", s.supply_unit);
  return j;
}

Json ExcavationJson(const ExcavationSection& s) {
  Json j = Json::object();
  j["depth_m"] = s.depth_m;
  PutNumber(j, "area_m2", s.area_m2);
  j["hazardous_area"] = s.hazardous_area;
  PutText(j, "sketch_ref", s.sketch_ref);
  PutStrings(j, "cosigned_departments", s.cosigned_departments);
  j["buried_facilities_surveyed"] = s.buried_facilities_surveyed;
  return j;
}

Json RoadBreakingJson(const RoadBreakingSection& s) {
  Json j = Json::object();
  PutText(j, "road", s.road);
  PutText(j, "traffic_plan_ref", s.traffic_plan_ref);
  j["fire_lane_kept"] = s.fire_lane_kept;
  j["short_fixed_point"] = s.short_fixed_point;
  PutStrings(j, "cosigned_departments", s.cosigned_departments);
  return j;
}

// Every non-integer number becomes a string (FormatDouble): CanonicalJson admits no
// floats, and a decimal string is the same on every platform.
Json FloatsToStrings(const Json& j) {
  if (j.is_number_float()) return FormatDouble(j.get<double>());
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = FloatsToStrings(it.value());
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(FloatsToStrings(e));
    return out;
  }
  return j;
}

}  // namespace

// --- public ------------------------------------------------------------------------

std::vector<std::string_view> DocumentMembers(std::string_view object) {
  for (const auto& o : kObjects) {
    if (o.name == object) return {o.members.begin(), o.members.end()};
  }
  return {};
}

std::vector<std::string_view> DocumentObjectNames() {
  std::vector<std::string_view> out;
  for (const auto& o : kObjects) out.push_back(o.name);
  return out;
}

std::vector<std::string_view> ServiceMembers() {
  return {kServiceMembers.begin(), kServiceMembers.end()};
}

core::Result<Permit> ParsePermit(const core::Json& doc, bool service_fields,
                                 const PermitLimits& limits) {
  if (!doc.is_object()) return Invalid("expected a JSON object", "permit");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (OneOf(kServiceMembers, key)) {
      if (!service_fields) {
        return Invalid("is assigned by the service; omit it from a client document", key);
      }
    } else if (!OneOf(kPermitMembers, key)) {
      return Invalid("unknown member", key);
    }
  }
  Reader r(doc, "", limits);
  Permit p;

  WG_ASSIGN_OR_RETURN(std::string type, r.Text("type", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(p.type, ParsePermitType(type, "type"));
  if (PermitTypeCode(p.type) != type) {
    return Invalid("must be a type code such as " + std::string(PermitTypeCode(p.type)), "type");
  }
  WG_ASSIGN_OR_RETURN(p.grade, r.Text("grade", TextKind::kCode));
  WG_RETURN_IF_ERROR(CheckGrade(p.type, p.grade));
  WG_ASSIGN_OR_RETURN(p.site, r.Text("site", TextKind::kCode, /*required=*/true));
  WG_ASSIGN_OR_RETURN(p.supersedes, r.Text("supersedes", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(p.title, r.Text("title", TextKind::kName, /*required=*/true));
  WG_ASSIGN_OR_RETURN(p.work_unit, r.Text("work_unit", TextKind::kName));
  WG_ASSIGN_OR_RETURN(p.owning_unit, r.Text("owning_unit", TextKind::kName));

  const Json* location = r.Find("location");
  if (location == nullptr) return Invalid("is required", "location");
  WG_ASSIGN_OR_RETURN(p.location, ParseLocation(*location, "location", limits));

  WG_ASSIGN_OR_RETURN(p.planned_start, r.RequiredTime("planned_start"));
  WG_ASSIGN_OR_RETURN(p.planned_end, r.RequiredTime("planned_end"));
  if (p.planned_end <= p.planned_start) {
    return Invalid("must be after planned_start", "planned_end");
  }

  WG_ASSIGN_OR_RETURN(p.hazard_analysis, r.Text("hazard_analysis", TextKind::kFree));
  WG_ASSIGN_OR_RETURN(p.hazards, r.Strings("hazards", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(p.measures, r.List<Measure>("measures", limits.max_measures,
                                                  [&](const Json& e, const std::string& path) {
                                                    return ParseMeasure(e, path, limits);
                                                  }));
  WG_ASSIGN_OR_RETURN(p.people, r.List<Person>("people", limits.max_people,
                                               [&](const Json& e, const std::string& path) {
                                                 return ParsePerson(e, path, limits);
                                               }));
  WG_ASSIGN_OR_RETURN(p.linked_permits, r.Strings("linked_permits", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(p.activities, r.Strings("activities", TextKind::kCode));
  WG_ASSIGN_OR_RETURN(
      p.gas, r.List<GasReading>("gas", limits.max_gas, [&](const Json& e, const std::string& path) {
        return ParseGas(e, path, limits);
      }));
  if (const Json* env = r.Find("environment")) {
    WG_ASSIGN_OR_RETURN(p.environment, ParseEnvironment(*env, "environment", limits));
  }
  WG_ASSIGN_OR_RETURN(p.signatures, r.List<Signature>("signatures", limits.max_signatures,
                                                      [&](const Json& e, const std::string& path) {
                                                        return ParseSignature(e, path, limits);
                                                      }));

  // Exactly the section of the type.
  for (std::size_t i = 0; i < kSectionNames.size(); ++i) {
    const auto t = static_cast<PermitType>(i);
    const Json* section = r.Find(kSectionNames[i]);
    if (t == p.type) {
      if (section == nullptr) {
        return Invalid("is required for type " + type, std::string(kSectionNames[i]));
      }
      WG_RETURN_IF_ERROR(ParseSection(*section, t, limits, p));
    } else if (section != nullptr) {
      return Invalid("does not match type " + type +
                         " (a permit carries only the section "
                         "of its type: " +
                         std::string(kSectionNames[static_cast<std::size_t>(p.type)]) + ")",
                     std::string(kSectionNames[i]));
    }
  }

  if (service_fields) {
    WG_ASSIGN_OR_RETURN(auto id, r.Int("id", 0, std::numeric_limits<std::int64_t>::max()));
    p.id = id.value_or(0);
    WG_ASSIGN_OR_RETURN(p.number, r.Text("number", TextKind::kCode));
    WG_ASSIGN_OR_RETURN(p.org, r.Text("org", TextKind::kCode));
    if (r.Find("state") != nullptr) {
      WG_ASSIGN_OR_RETURN(std::string state, r.Text("state", TextKind::kCode, true));
      WG_ASSIGN_OR_RETURN(p.state, ParseState(state, "state"));
    }
    WG_ASSIGN_OR_RETURN(auto version,
                        r.Int("version", 1, std::numeric_limits<std::int64_t>::max()));
    p.version = version.value_or(1);
    WG_ASSIGN_OR_RETURN(p.approved_at, r.Time("approved_at"));
    WG_ASSIGN_OR_RETURN(p.started_at, r.Time("started_at"));
    WG_ASSIGN_OR_RETURN(p.last_suspended_at, r.Time("last_suspended_at"));
    WG_ASSIGN_OR_RETURN(p.ended_at, r.Time("ended_at"));
    WG_ASSIGN_OR_RETURN(p.created_by, r.Text("created_by", TextKind::kCode));
    WG_ASSIGN_OR_RETURN(auto created_at, r.Time("created_at"));
    p.created_at = created_at.value_or(Timestamp{});
    WG_ASSIGN_OR_RETURN(auto updated_at, r.Time("updated_at"));
    p.updated_at = updated_at.value_or(Timestamp{});
  }
  return p;
}

core::Result<Permit> ParsePermitText(std::string_view text, bool service_fields,
                                     const PermitLimits& limits) {
  // A full permit (500 gas readings, 200 people, long texts) stays well under 4 MiB and
  // 8 levels of nesting.
  WG_ASSIGN_OR_RETURN(
      core::Json doc,
      core::ParseJson(text, core::JsonLimits{.max_bytes = 4 << 20, .max_depth = 16}, "permit"));
  return ParsePermit(doc, service_fields, limits);
}

core::Json ToJson(const Permit& p) {
  Json j = Json::object();
  if (p.id != 0) j["id"] = p.id;
  PutText(j, "number", p.number);
  PutText(j, "org", p.org);
  PutText(j, "site", p.site);
  j["type"] = std::string(PermitTypeCode(p.type));
  PutText(j, "grade", p.grade);
  j["state"] = std::string(StateCode(p.state));
  j["version"] = p.version;
  PutText(j, "supersedes", p.supersedes);
  PutText(j, "title", p.title);
  PutText(j, "work_unit", p.work_unit);
  PutText(j, "owning_unit", p.owning_unit);
  j["location"] = LocationJson(p.location);
  j["planned_start"] = core::FormatTimestamp(p.planned_start);
  j["planned_end"] = core::FormatTimestamp(p.planned_end);
  PutText(j, "hazard_analysis", p.hazard_analysis);
  PutStrings(j, "hazards", p.hazards);
  PutList(j, "measures", p.measures, MeasureJson);
  PutList(j, "people", p.people, PersonJson);
  PutStrings(j, "linked_permits", p.linked_permits);
  PutStrings(j, "activities", p.activities);
  PutList(j, "gas", p.gas, GasJson);
  const Environment& env = p.environment;
  if (env.wind_force != 0 || !env.weather.empty() || env.temperature_c) {
    Json e = Json::object();
    e["wind_force"] = env.wind_force;
    PutStrings(e, "weather", env.weather);
    PutNumber(e, "temperature_c", env.temperature_c);
    j["environment"] = std::move(e);
  }
  PutList(j, "signatures", p.signatures, SignatureJson);
  if (p.hot_work) j["hot_work"] = HotWorkJson(*p.hot_work);
  if (p.confined_space) j["confined_space"] = ConfinedSpaceJson(*p.confined_space);
  if (p.blind_plate) j["blind_plate"] = BlindPlateJson(*p.blind_plate);
  if (p.height) j["height"] = HeightJson(*p.height);
  if (p.lifting) j["lifting"] = LiftingJson(*p.lifting);
  if (p.temporary_power) j["temporary_power"] = TemporaryPowerJson(*p.temporary_power);
  if (p.excavation) j["excavation"] = ExcavationJson(*p.excavation);
  if (p.road_breaking) j["road_breaking"] = RoadBreakingJson(*p.road_breaking);
  PutTime(j, "approved_at", p.approved_at);
  PutTime(j, "started_at", p.started_at);
  PutTime(j, "last_suspended_at", p.last_suspended_at);
  PutTime(j, "ended_at", p.ended_at);
  PutText(j, "created_by", p.created_by);
  if (p.created_at.micros != 0) j["created_at"] = core::FormatTimestamp(p.created_at);
  if (p.updated_at.micros != 0) j["updated_at"] = core::FormatTimestamp(p.updated_at);
  return j;
}

std::string CanonicalContent(const Permit& p) {
  Json doc = ToJson(p);
  for (auto key : kUnsignedMembers) doc.erase(std::string(key));
  const Json content = FloatsToStrings(doc);
  auto text = evidence::CanonicalJson(content);
  if (text) return *std::move(text);
  // Only text that is not UTF-8 fails, which ParsePermit never admits; replacing it keeps
  // the function total and the output deterministic.
  return core::DumpJson(content);
}

std::string ContentDigest(const Permit& p) {
  const crypto::Digest32 d = crypto::Sm3(CanonicalContent(p));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace wg::permit

namespace wg::permit {

core::Result<std::vector<GasReading>> ParseGasReadings(const core::Json& list,
                                                       std::string_view field,
                                                       const PermitLimits& limits) {
  const std::string path(field);
  if (!list.is_array()) return Invalid("must be an array of gas readings", path);
  if (list.empty()) return Invalid("must hold at least one reading", path);
  if (list.size() > limits.max_gas) {
    return Invalid("at most " + std::to_string(limits.max_gas) + " readings", path);
  }
  std::vector<GasReading> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    WG_ASSIGN_OR_RETURN(GasReading g, ParseGas(list[i], At(path, i), limits));
    out.push_back(std::move(g));
  }
  return out;
}

core::Json ToJson(const GasReading& g) { return GasJson(g); }

}  // namespace wg::permit

namespace wg::permit {

core::Json WithoutFloats(const core::Json& j) { return FloatsToStrings(j); }

}  // namespace wg::permit

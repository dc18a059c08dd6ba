// Site plans (site_plan.h, docs/formats/site-plan.md): strict parsing and the
// canonical JSON. ToJson writes exactly the members ParseSitePlan reads, so a
// stored plan is always in one form and ParseSitePlan(ToJson(p)) == p.
#include "wg/presence/site_plan.h"

#include <array>
#include <cmath>
#include <set>
#include <string_view>
#include <utility>

#include "wg/presence/model.h"

namespace wg::presence {

namespace {

using core::Json;
using core::Result;
using core::Status;

constexpr double kMaxPlanCoordinate =
    100'000; // metres: a site plan is never 200 km wide
constexpr std::size_t kMaxPlanText = 128; // names and labels, bytes

constexpr std::array<std::string_view, 9> kFeatureKinds = {
    "unit", "tank", "vessel", "rack", "building",
    "road", "pipe", "label",  "gate"};

Status Bad(std::string field, std::string msg) {
  return Status::InvalidArgument(std::move(msg), std::move(field));
}

std::string Index(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

std::string Member(std::string_view prefix, std::string_view key) {
  if (prefix.empty())
    return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

Status CheckMembers(const Json &obj,
                    std::initializer_list<std::string_view> allowed,
                    std::string_view field) {
  if (!obj.is_object())
    return Bad(std::string(field.empty() ? "plan" : field),
               "expected an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed)
      known = known || it.key() == a;
    if (!known)
      return Bad(Member(field, it.key()), "unknown member");
  }
  return Status::Ok();
}

// An optional text member of at most kMaxPlanText bytes without control
// characters;
// "" when absent.
Result<std::string> Text(const Json &obj, std::string_view key,
                         std::string_view prefix) {
  auto it = obj.find(key);
  if (it == obj.end())
    return std::string();
  const std::string field = Member(prefix, key);
  if (!it->is_string())
    return Bad(field, "expected a string");
  std::string s = it->get<std::string>();
  if (s.size() > kMaxPlanText) {
    return Bad(field, "longer than " + std::to_string(kMaxPlanText) + " bytes");
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Bad(field, "must not contain control characters");
    }
  }
  return s;
}

Result<double> Coordinate(const Json &j, const std::string &field) {
  if (!j.is_number())
    return Bad(field, "expected a number");
  const double v = j.get<double>();
  if (!std::isfinite(v))
    return Bad(field, "must be finite");
  if (std::fabs(v) > kMaxPlanCoordinate) {
    return Bad(field, "must be within ±100000 m of the site origin");
  }
  return v;
}

// [x, y]; the coordinates are named field[0] and field[1].
Result<Vec2> Point(const Json &j, const std::string &field) {
  if (!j.is_array() || j.size() != 2)
    return Bad(field, "expected [x, y]");
  WG_ASSIGN_OR_RETURN(double x, Coordinate(j[0], Index(field, 0)));
  WG_ASSIGN_OR_RETURN(double y, Coordinate(j[1], Index(field, 1)));
  return Vec2{x, y};
}

// A vertex list of min_vertices..kMaxPlanVertices points.
Result<Ring> Vertices(const Json &j, const std::string &field,
                      std::size_t min_vertices) {
  if (!j.is_array())
    return Bad(field, "expected an array of [x, y] points");
  if (j.size() > kMaxPlanVertices) {
    return Bad(field,
               "at most " + std::to_string(kMaxPlanVertices) + " vertices");
  }
  if (j.size() < min_vertices) {
    return Bad(field,
               "needs at least " + std::to_string(min_vertices) + " vertices");
  }
  Ring r;
  r.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    WG_ASSIGN_OR_RETURN(Vec2 p, Point(j[i], Index(field, i)));
    r.push_back(p);
  }
  return r;
}

// A closed shape: at least 3 vertices, no repeated closing vertex (geo.h's one
// canonical form), no consecutive duplicates, a non-zero area. Zones
// additionally go through ValidateArea (simple ring) by the caller.
Result<Ring> Polygon(const Json &j, const std::string &field) {
  WG_ASSIGN_OR_RETURN(Ring r, Vertices(j, field, 3));
  if (r.front() == r.back()) {
    return Bad(Index(field, r.size() - 1), "do not repeat the first vertex");
  }
  for (std::size_t i = 1; i < r.size(); ++i) {
    if (r[i] == r[i - 1])
      return Bad(Index(field, i), "repeats the previous vertex");
  }
  double twice_area = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Vec2 &a = r[i];
    const Vec2 &b = r[(i + 1) % r.size()];
    twice_area += a.x * b.y - b.x * a.y;
  }
  if (!(std::fabs(twice_area) > 0))
    return Bad(field, "has zero area");
  return r;
}

// ValidateArea names "<field>.outer[3].x"; the plan's field is "<field>[3][0]".
Status ZoneShape(const Ring &ring, const std::string &field) {
  Area area;
  area.outer = ring;
  Status s = ValidateArea(area, field);
  if (s.ok())
    return s;
  std::string f = s.field();
  const std::string outer = field + ".outer";
  if (f.rfind(outer, 0) == 0)
    f = field + f.substr(outer.size());
  if (f.size() >= 2 && f.compare(f.size() - 2, 2, ".x") == 0)
    f.replace(f.size() - 2, 2, "[0]");
  if (f.size() >= 2 && f.compare(f.size() - 2, 2, ".y") == 0)
    f.replace(f.size() - 2, 2, "[1]");
  return Bad(f.empty() ? field : f, s.message());
}

Result<PlanZone> Zone(const Json &j, const std::string &field) {
  WG_RETURN_IF_ERROR(CheckMembers(j, {"code", "name", "polygon"}, field));
  PlanZone z;
  auto code = j.find("code");
  if (code == j.end())
    return Bad(Member(field, "code"), "is required");
  if (!code->is_string())
    return Bad(Member(field, "code"), "expected a string");
  z.code = code->get<std::string>();
  if (!ValidId(z.code))
    return Bad(Member(field, "code"), "expected [A-Za-z0-9._-]{1,64}");
  WG_ASSIGN_OR_RETURN(z.name, Text(j, "name", field));
  auto poly = j.find("polygon");
  if (poly == j.end())
    return Bad(Member(field, "polygon"), "is required");
  WG_ASSIGN_OR_RETURN(z.polygon, Polygon(*poly, Member(field, "polygon")));
  WG_RETURN_IF_ERROR(ZoneShape(z.polygon, Member(field, "polygon")));
  return z;
}

bool KnownFeatureKind(std::string_view k) {
  for (std::string_view f : kFeatureKinds) {
    if (f == k)
      return true;
  }
  return false;
}

Result<PlanFeature> Feature(const Json &j, const std::string &field) {
  WG_RETURN_IF_ERROR(CheckMembers(
      j, {"kind", "label", "polygon", "polyline", "centre", "radius_m"},
      field));
  PlanFeature f;
  auto kind = j.find("kind");
  if (kind == j.end())
    return Bad(Member(field, "kind"), "is required");
  if (!kind->is_string())
    return Bad(Member(field, "kind"), "expected a string");
  f.kind = kind->get<std::string>();
  if (!KnownFeatureKind(f.kind)) {
    return Bad(Member(field, "kind"), "expected unit, tank, vessel, rack, "
                                      "building, road, pipe, label or gate");
  }
  WG_ASSIGN_OR_RETURN(f.label, Text(j, "label", field));
  const bool has_polygon = j.contains("polygon");
  const bool has_polyline = j.contains("polyline");
  const bool has_centre = j.contains("centre");
  if (int{has_polygon} + int{has_polyline} + int{has_centre} != 1) {
    return Bad(field, "needs exactly one of polygon, polyline or centre");
  }
  if (has_polygon) {
    WG_ASSIGN_OR_RETURN(f.polygon,
                        Polygon(j["polygon"], Member(field, "polygon")));
  } else if (has_polyline) {
    WG_ASSIGN_OR_RETURN(f.polyline,
                        Vertices(j["polyline"], Member(field, "polyline"), 2));
  } else {
    WG_ASSIGN_OR_RETURN(Vec2 c, Point(j["centre"], Member(field, "centre")));
    f.centre = c;
  }
  if (auto r = j.find("radius_m"); r != j.end()) {
    const std::string rf = Member(field, "radius_m");
    if (!has_centre)
      return Bad(rf, "only a feature with a centre has a radius");
    if (!r->is_number())
      return Bad(rf, "expected a number");
    f.radius_m = r->get<double>();
    if (!std::isfinite(f.radius_m))
      return Bad(rf, "must be finite");
    if (f.radius_m < 0 || f.radius_m > kMaxPlanCoordinate) {
      return Bad(rf, "must be within 0..100000 m");
    }
  }
  if (has_centre && f.radius_m == 0 && f.kind != "label") {
    return Bad(Member(field, "radius_m"),
               "a circle needs a radius > 0 (only a label is a point)");
  }
  if (f.kind == "label" && f.label.empty()) {
    return Bad(Member(field, "label"), "a label feature needs a text");
  }
  return f;
}

Json VerticesJson(const Ring &r) {
  Json a = Json::array();
  for (const Vec2 &p : r)
    a.push_back(Json::array({p.x, p.y}));
  return a;
}

} // namespace

core::Result<SitePlan> ParseSitePlan(const core::Json &doc) {
  WG_RETURN_IF_ERROR(
      CheckMembers(doc, {"name", "extent", "zones", "points", "features"}, ""));
  SitePlan plan;
  WG_ASSIGN_OR_RETURN(plan.name, Text(doc, "name", ""));

  auto extent = doc.find("extent");
  if (extent == doc.end())
    return Bad("extent", "is required");
  WG_RETURN_IF_ERROR(CheckMembers(*extent, {"min", "max"}, "extent"));
  if (!extent->contains("min"))
    return Bad("extent.min", "is required");
  if (!extent->contains("max"))
    return Bad("extent.max", "is required");
  WG_ASSIGN_OR_RETURN(plan.min, Point((*extent)["min"], "extent.min"));
  WG_ASSIGN_OR_RETURN(plan.max, Point((*extent)["max"], "extent.max"));
  if (!(plan.min.x < plan.max.x))
    return Bad("extent.max[0]", "must be greater than extent.min[0]");
  if (!(plan.min.y < plan.max.y))
    return Bad("extent.max[1]", "must be greater than extent.min[1]");

  if (auto zones = doc.find("zones"); zones != doc.end()) {
    if (!zones->is_array())
      return Bad("zones", "expected an array");
    if (zones->size() > kMaxPlanZones) {
      return Bad("zones",
                 "at most " + std::to_string(kMaxPlanZones) + " zones");
    }
    std::set<std::string> codes;
    for (std::size_t i = 0; i < zones->size(); ++i) {
      const std::string field = Index("zones", i);
      WG_ASSIGN_OR_RETURN(PlanZone z, Zone((*zones)[i], field));
      if (!codes.insert(z.code).second) {
        return Bad(field + ".code", "zone code '" + z.code + "' appears twice");
      }
      plan.zones.push_back(std::move(z));
    }
  }

  if (auto points = doc.find("points"); points != doc.end()) {
    if (!points->is_object())
      return Bad("points", "expected an object {point id: [x, y]}");
    if (points->size() > kMaxPlanPoints) {
      return Bad("points",
                 "at most " + std::to_string(kMaxPlanPoints) + " points");
    }
    for (auto it = points->begin(); it != points->end(); ++it) {
      if (!ValidId(it.key())) {
        return Bad("points", "point ids must be [A-Za-z0-9._-]{1,64}");
      }
      WG_ASSIGN_OR_RETURN(Vec2 p, Point(it.value(), "points." + it.key()));
      plan.points.emplace(it.key(), p);
    }
  }

  if (auto features = doc.find("features"); features != doc.end()) {
    if (!features->is_array())
      return Bad("features", "expected an array");
    if (features->size() > kMaxPlanFeatures) {
      return Bad("features",
                 "at most " + std::to_string(kMaxPlanFeatures) + " features");
    }
    plan.features.reserve(features->size());
    for (std::size_t i = 0; i < features->size(); ++i) {
      WG_ASSIGN_OR_RETURN(PlanFeature f,
                          Feature((*features)[i], Index("features", i)));
      plan.features.push_back(std::move(f));
    }
  }
  return plan;
}

core::Json ToJson(const SitePlan &plan) {
  Json zones = Json::array();
  for (const PlanZone &z : plan.zones) {
    zones.push_back(Json{{"code", z.code},
                         {"name", z.name},
                         {"polygon", VerticesJson(z.polygon)}});
  }
  Json points = Json::object();
  for (const auto &[id, p] : plan.points)
    points[id] = Json::array({p.x, p.y});
  Json features = Json::array();
  for (const PlanFeature &f : plan.features) {
    Json j{{"kind", f.kind}, {"label", f.label}};
    if (!f.polygon.empty())
      j["polygon"] = VerticesJson(f.polygon);
    if (!f.polyline.empty())
      j["polyline"] = VerticesJson(f.polyline);
    if (f.centre) {
      j["centre"] = Json::array({f.centre->x, f.centre->y});
      j["radius_m"] = f.radius_m;
    }
    features.push_back(std::move(j));
  }
  return Json{{"name", plan.name},
              {"extent",
               {{"min", Json::array({plan.min.x, plan.min.y})},
                {"max", Json::array({plan.max.x, plan.max.y})}}},
              {"zones", std::move(zones)},
              {"points", std::move(points)},
              {"features", std::move(features)}};
}

} // namespace wg::presence

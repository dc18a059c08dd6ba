#pragma once
// A site plan (docs/formats/site-plan.md): what the risk board draws for one site, in the
// site frame's metres (the frame UWB positions and fences use). No map tiles: the plan is
// the site's own drawing.
//
//   extent    the drawn rectangle {min:[x,y], max:[x,y]}
//   zones     monitoring/permit zones: code (the zone code points, alarms and permits
//             carry), display name, polygon — the board colours each by its worst alarm
//   points    monitoring point id -> [x, y] where its detector stands
//   features  the drawing: units, tanks, vessels, pipe racks, buildings, roads, labels,
//             each a polygon, a polyline or a circle with an optional label
//
// Parsing is strict: unknown members, wrong types, out-of-range or non-finite numbers,
// polygons with fewer than 3 vertices, more than the limits below are kInvalidArgument
// naming the member ("zones[2].polygon[0][1]", "points.TF3-H2S-01").

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/presence/geo.h"

namespace wg::presence {

struct PlanZone {
  std::string code;  // [A-Za-z0-9._-]{1,64}
  std::string name;  // <= 128 bytes
  Ring polygon;      // 3..256 vertices
  friend bool operator==(const PlanZone&, const PlanZone&) = default;
};

struct PlanFeature {
  // unit | tank | vessel | rack | building | road | pipe | label | gate
  std::string kind;
  std::string label;                  // <= 128 bytes, may be empty
  Ring polygon;                       // a closed shape (3..256 vertices), or
  Ring polyline;                      // an open line (2..256 vertices), or
  std::optional<Vec2> centre;         // a circle with radius_m (tank, vessel), or a label
  double radius_m = 0;                // 0 for a label anchor
  friend bool operator==(const PlanFeature&, const PlanFeature&) = default;
};

struct SitePlan {
  std::string name;  // display name, <= 128 bytes (optional; the site's name otherwise)
  Vec2 min, max;     // extent; min < max on both axes, |coordinate| <= 100 km
  std::vector<PlanZone> zones;                 // <= 256, codes unique
  std::map<std::string, Vec2> points;          // <= 20,000 point ids
  std::vector<PlanFeature> features;           // <= 4,096
  friend bool operator==(const SitePlan&, const SitePlan&) = default;
};

inline constexpr std::size_t kMaxPlanZones = 256;
inline constexpr std::size_t kMaxPlanPoints = 20000;
inline constexpr std::size_t kMaxPlanFeatures = 4096;
inline constexpr std::size_t kMaxPlanVertices = 256;

core::Result<SitePlan> ParseSitePlan(const core::Json& doc);
core::Json ToJson(const SitePlan& plan);  // ParseSitePlan(ToJson(p)) == p

}  // namespace wg::presence

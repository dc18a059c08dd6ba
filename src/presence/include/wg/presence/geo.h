#pragma once
// Geometry of people on site (docs/formats/presence.md#geometry): site-local planar
// coordinates in metres (x east, y north of the site origin, z up from grade), polygons
// with holes and an optional height band, WGS-84 conversion around a site origin, and a
// uniform-grid spatial index so a position check visits only the fences near it.
//
// Conventions:
//   - A polygon is a ring of >= 3 distinct vertices without the closing repeat, simple
//     (no self-intersection), either orientation; concave is fine. A ring that repeats its
//     first vertex at the end is rejected ("do not repeat the first vertex"), not
//     normalised, so a stored area is always in the one canonical form.
//   - The boundary counts as inside (on an outer edge or a hole's edge is inside the area:
//     a person standing on the fence line is in the fence), within a tolerance of
//     1e-9 * max(1, |p.x|, |p.y|) metres so computed vertices and midpoints land on it.
//   - |coordinate| <= kMaxLocalCoordinate: a site is never 1,000 km wide; larger values
//     are a unit or frame error and are rejected, not wrapped.
//   - The antimeridian is irrelevant: sites are local frames; WGS-84 is only converted
//     around a site origin and in the regional (haversine) query.

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wg/core/status.h"

namespace wg::presence {

inline constexpr double kMaxLocalCoordinate = 1'000'000;  // metres
inline constexpr double kMaxHeight = 10'000;              // |z| metres
inline constexpr std::size_t kMaxRingVertices = 1024;
inline constexpr std::size_t kMaxHoles = 64;
// Vertices of all rings of one area together: bounds the pairwise crossing checks of
// validation (a fence is a site drawing, not a survey).
inline constexpr std::size_t kMaxAreaVertices = 4096;
inline constexpr double kEarthRadiusM = 6'371'008.8;      // IUGG mean radius

struct Vec2 {
  double x = 0, y = 0;
  friend bool operator==(const Vec2&, const Vec2&) = default;
};
struct Vec3 {
  double x = 0, y = 0, z = 0;
  friend bool operator==(const Vec3&, const Vec3&) = default;
};

struct Box {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
  bool Contains(Vec2 p) const {
    return p.x >= min_x && p.x <= max_x && p.y >= min_y && p.y <= max_y;
  }
};

using Ring = std::vector<Vec2>;

// A fence area: an outer ring, holes, and an optional height band [z_min, z_max] (both
// inclusive; a missing bound is open).
struct Area {
  Ring outer;
  std::vector<Ring> holes;
  std::optional<double> z_min, z_max;
  friend bool operator==(const Area&, const Area&) = default;
};

// kInvalidArgument naming `field` + ".outer[3].x", ".holes[0]", ".z_max" ...: fewer than 3
// distinct vertices, non-finite or out-of-range coordinates, zero area, a
// self-intersecting ring, a hole not strictly inside the outer ring (touching counts as
// not inside) or overlapping/touching another hole, a non-finite or |z| > kMaxHeight
// bound, z_min >= z_max (a zero-thick band is an error), too many vertices/holes.
core::Status ValidateArea(const Area& a, std::string_view field);

// Point in polygon (even-odd over the outer ring and holes; boundary inside). `z` is
// checked against the height band when given; without z a banded area is matched on
// the plane only.
bool Contains(const Area& a, Vec2 p, std::optional<double> z = std::nullopt);
bool RingContains(const Ring& r, Vec2 p);  // boundary inside
// Shortest planar distance from p to the area (0 when inside; inside a hole, the distance
// to the nearest edge; +infinity for an empty area). Contains/RingContains/Distance do
// not allocate.
double Distance(const Area& a, Vec2 p);
Box Bounds(const Area& a);
Box Bounds(const Ring& r);
double SignedRingArea(const Ring& r);  // shoelace; > 0 counter-clockwise
// A regular polygon of `sides` vertices approximating a circle (a permit without a fence
// gets one around its work point).
Ring CircleRing(Vec2 centre, double radius_m, int sides = 24);

// --- WGS-84 -----------------------------------------------------------------------------
struct LatLon {
  double lat = 0, lon = 0;  // degrees
  friend bool operator==(const LatLon&, const LatLon&) = default;
};
// |lat| <= 90, |lon| <= 180, finite; kInvalidArgument naming field + ".lat"/".lon".
core::Status ValidateLatLon(LatLon p, std::string_view field);
// Great-circle distance (haversine on the mean sphere), metres.
double HaversineMetres(LatLon a, LatLon b);

// A local tangent plane (east-north) at `origin` on the WGS-84 ellipsoid: a surface point
// is taken to earth-centred coordinates (prime-vertical radius at its latitude) and
// projected orthographically onto the plane tangent at the origin; ToWgs84 is the exact
// inverse onto the surface. Within 10 km of the origin, planar distances are within
// 0.1 m of the ellipsoidal geodesic (the projection's scale error there is ~1e-6; tested
// against Vincenty). A scaled lat/lon plane (metres per degree at the origin) would not
// meet this: it is off by ~d^2 tan(lat)/2R, about 5 m at 10 km and 60 degrees.
class LocalFrame {
 public:
  explicit LocalFrame(LatLon origin);
  Vec2 ToLocal(LatLon p) const;
  LatLon ToWgs84(Vec2 p) const;
  LatLon origin() const { return origin_; }

 private:
  LatLon origin_;
  double sin_lat_ = 0, cos_lat_ = 1, sin_lon_ = 0, cos_lon_ = 1;
  double ox_ = 0, oy_ = 0, oz_ = 0;  // the origin in earth-centred metres
};

// The UWB anchor frame of a site, mapped into the site frame: rotate by `rotation_deg`
// (counter-clockwise) about the anchor origin, then translate by (dx, dy, dz).
struct FrameTransform {
  double dx = 0, dy = 0, dz = 0, rotation_deg = 0;
  Vec3 Apply(Vec3 p) const;
  friend bool operator==(const FrameTransform&, const FrameTransform&) = default;
};

// --- spatial index ----------------------------------------------------------------------
// A uniform grid over the plane: each entry is listed under every cell its box touches,
// so a point query looks at one cell. An entry whose box would cover more than
// `max_cells_per_entry` cells goes on a short "large" list checked by every query
// (site-wide zones), keeping memory bounded.
class GridIndex {
 public:
  explicit GridIndex(double cell_m = 32, std::size_t max_cells_per_entry = 4096);
  void Insert(std::uint32_t id, const Box& box);  // replaces an existing entry of `id`
  void Remove(std::uint32_t id);
  // Appends the ids whose box contains p (each once) to `out`.
  void Query(Vec2 p, std::vector<std::uint32_t>& out) const;
  // Appends the ids whose box comes within `radius_m` of p (each once; the appended ids
  // are in ascending order). A negative or NaN radius matches nothing.
  void QueryRadius(Vec2 p, double radius_m, std::vector<std::uint32_t>& out) const;
  std::size_t size() const { return boxes_.size(); }

 private:
  static std::uint64_t Key(std::int64_t cx, std::int64_t cy);
  std::int64_t Cell(double v) const;
  double cell_m_;
  std::size_t max_cells_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> cells_;
  std::unordered_map<std::uint32_t, Box> boxes_;
  std::vector<std::uint32_t> large_;
};

}  // namespace wg::presence

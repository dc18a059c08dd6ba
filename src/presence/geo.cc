#include "wg/presence/geo.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <utility>

namespace wg::presence {
namespace {

using core::Status;

double Cross(Vec2 o, Vec2 a, Vec2 b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

int Sign(double v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }

// q lies within the bounding box of segment pq's endpoints a, b (used once
// collinear).
bool WithinBox(Vec2 a, Vec2 b, Vec2 q) {
  return q.x >= std::min(a.x, b.x) && q.x <= std::max(a.x, b.x) && q.y >= std::min(a.y, b.y) &&
         q.y <= std::max(a.y, b.y);
}

// Closed segments ab and cd share at least one point (touching counts).
bool SegmentsIntersect(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const int d1 = Sign(Cross(c, d, a));
  const int d2 = Sign(Cross(c, d, b));
  const int d3 = Sign(Cross(a, b, c));
  const int d4 = Sign(Cross(a, b, d));
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  if (d1 == 0 && WithinBox(c, d, a)) return true;
  if (d2 == 0 && WithinBox(c, d, b)) return true;
  if (d3 == 0 && WithinBox(a, b, c)) return true;
  if (d4 == 0 && WithinBox(a, b, d)) return true;
  return false;
}

double SegmentDistance2(Vec2 p, Vec2 a, Vec2 b) {
  const double ex = b.x - a.x, ey = b.y - a.y;
  const double wx = p.x - a.x, wy = p.y - a.y;
  const double len2 = ex * ex + ey * ey;
  double t = len2 > 0 ? (wx * ex + wy * ey) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double dx = wx - t * ex, dy = wy - t * ey;
  return dx * dx + dy * dy;
}

// Tolerance for "on the boundary": relative to the magnitude of the
// coordinates, so a point computed as a vertex or edge midpoint in floating
// point still lands on the edge.
double BoundaryEps(Vec2 p) { return 1e-9 * std::max({1.0, std::fabs(p.x), std::fabs(p.y)}); }

enum class Where { kOutside, kBoundary, kInside };

// One pass over the ring: boundary test (only for edges whose expanded box
// holds p) and the even-odd crossing count. No allocation.
Where Classify(const Ring &r, Vec2 p, double eps) {
  const std::size_t n = r.size();
  if (n < 3) return Where::kOutside;
  const double eps2 = eps * eps;
  bool inside = false;
  Vec2 a = r[n - 1];
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 b = r[i];
    // Most edges lie wholly above or below p: they can neither hold p nor cross
    // its ray.
    if (p.y < std::min(a.y, b.y) - eps || p.y > std::max(a.y, b.y) + eps) {
      a = b;
      continue;
    }
    if (p.x >= std::min(a.x, b.x) - eps && p.x <= std::max(a.x, b.x) + eps &&
        SegmentDistance2(p, a, b) <= eps2) {
      return Where::kBoundary;
    }
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x_cross = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < x_cross) inside = !inside;
    }
    a = b;
  }
  return inside ? Where::kInside : Where::kOutside;
}

std::string Idx(std::size_t i) { return "[" + std::to_string(i) + "]"; }

// Per-ring checks that need no other ring: count, finite and in-range
// coordinates, distinct vertices, non-zero area, no self-intersection.
Status ValidateRing(const Ring &r, const std::string &f) {
  if (r.size() < 3) {
    return Status::InvalidArgument(
        "a ring needs at least 3 distinct vertices, got " + std::to_string(r.size()), f);
  }
  if (r.size() > kMaxRingVertices) {
    return Status::InvalidArgument("a ring has at most " + std::to_string(kMaxRingVertices) +
                                       " vertices, got " + std::to_string(r.size()),
                                   f);
  }
  for (std::size_t i = 0; i < r.size(); ++i) {
    const std::pair<double, const char *> coords[] = {{r[i].x, ".x"}, {r[i].y, ".y"}};
    for (const auto &[v, name] : coords) {
      if (!std::isfinite(v)) {
        return Status::InvalidArgument("coordinate is not a finite number", f + Idx(i) + name);
      }
      if (std::fabs(v) > kMaxLocalCoordinate) {
        return Status::InvalidArgument(
            "coordinate is outside +-1,000,000 m of "
            "the site origin (unit or frame error?)",
            f + Idx(i) + name);
      }
    }
  }
  // Repeated vertices (sorted copy: O(n log n)). The closing repeat gets its
  // own message.
  if (r.front() == r.back()) {
    return Status::InvalidArgument(
        "the last vertex repeats the first; do not "
        "repeat the first vertex, rings close "
        "implicitly",
        f + Idx(r.size() - 1));
  }
  {
    std::vector<std::pair<Vec2, std::size_t>> sorted;
    sorted.reserve(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) sorted.emplace_back(r[i], i);
    std::sort(sorted.begin(), sorted.end(), [](const auto &l, const auto &rr) {
      if (l.first.x != rr.first.x) return l.first.x < rr.first.x;
      if (l.first.y != rr.first.y) return l.first.y < rr.first.y;
      return l.second < rr.second;
    });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i].first == sorted[i - 1].first) {
        return Status::InvalidArgument(
            "vertex repeats vertex " + std::to_string(sorted[i - 1].second),
            f + Idx(sorted[i].second));
      }
    }
  }
  // Simplicity: non-adjacent edges must not meet at all; adjacent edges meet
  // only at their shared vertex (no fold back along the previous edge).
  const std::size_t n = r.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 a = r[i], b = r[(i + 1) % n];
    const Vec2 c = r[(i + 2) % n];
    if (Cross(a, b, c) == 0 && (a.x - b.x) * (c.x - b.x) + (a.y - b.y) * (c.y - b.y) > 0) {
      return Status::InvalidArgument(
          "ring folds back on itself at vertex " + std::to_string((i + 1) % n),
          f + Idx((i + 1) % n));
    }
    const Box eb{std::min(a.x, b.x), std::min(a.y, b.y), std::max(a.x, b.x), std::max(a.y, b.y)};
    for (std::size_t j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // adjacent through the closing edge
      const Vec2 c2 = r[j], d2 = r[(j + 1) % n];
      if (std::max(c2.x, d2.x) < eb.min_x || std::min(c2.x, d2.x) > eb.max_x ||
          std::max(c2.y, d2.y) < eb.min_y || std::min(c2.y, d2.y) > eb.max_y) {
        continue;
      }
      if (SegmentsIntersect(a, b, c2, d2)) {
        return Status::InvalidArgument("ring is self-intersecting: edge " + std::to_string(i) +
                                           " meets edge " + std::to_string(j),
                                       f + Idx(i));
      }
    }
  }
  // After the simplicity check: only a sliver can still have (near) zero area.
  if (std::fabs(SignedRingArea(r)) <= 1e-9) {
    return Status::InvalidArgument("ring has zero area", f);
  }
  return Status::Ok();
}

bool BoxesOverlap(const Box &a, const Box &b) {
  return a.min_x <= b.max_x && b.min_x <= a.max_x && a.min_y <= b.max_y && b.min_y <= a.max_y;
}

// Any edge of r meets any edge of s (touching counts).
bool RingsMeet(const Ring &r, const Ring &s) {
  const Box bs = Bounds(s);
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Vec2 a = r[i], b = r[(i + 1) % r.size()];
    const Box eb{std::min(a.x, b.x), std::min(a.y, b.y), std::max(a.x, b.x), std::max(a.y, b.y)};
    if (!BoxesOverlap(eb, bs)) continue;
    for (std::size_t j = 0; j < s.size(); ++j) {
      const Vec2 c = s[j], d = s[(j + 1) % s.size()];
      if (std::max(c.x, d.x) < eb.min_x || std::min(c.x, d.x) > eb.max_x ||
          std::max(c.y, d.y) < eb.min_y || std::min(c.y, d.y) > eb.max_y) {
        continue;
      }
      if (SegmentsIntersect(a, b, c, d)) return true;
    }
  }
  return false;
}

// The exact, tolerance-free classification used by validation (holes must be
// strictly inside, so the eps-inclusive boundary of Contains would be too
// lenient).
bool StrictlyInside(const Ring &r, Vec2 p) { return Classify(r, p, 0.0) == Where::kInside; }

}  // namespace

core::Status ValidateArea(const Area &a, std::string_view field) {
  const std::string f(field);
  WG_RETURN_IF_ERROR(ValidateRing(a.outer, f + ".outer"));
  if (a.holes.size() > kMaxHoles) {
    return Status::InvalidArgument("an area has at most " + std::to_string(kMaxHoles) +
                                       " holes, got " + std::to_string(a.holes.size()),
                                   f + ".holes");
  }
  std::size_t total = a.outer.size();
  for (const Ring &hole : a.holes) total += hole.size();
  if (total > kMaxAreaVertices) {
    return Status::InvalidArgument("an area has at most " + std::to_string(kMaxAreaVertices) +
                                       " vertices in all its rings, got " + std::to_string(total),
                                   f);
  }
  for (std::size_t h = 0; h < a.holes.size(); ++h) {
    WG_RETURN_IF_ERROR(ValidateRing(a.holes[h], f + ".holes" + Idx(h)));
  }
  const Box outer_box = Bounds(a.outer);
  std::vector<Box> hole_boxes;
  hole_boxes.reserve(a.holes.size());
  for (std::size_t h = 0; h < a.holes.size(); ++h) {
    const Ring &hole = a.holes[h];
    const std::string hf = f + ".holes" + Idx(h);
    hole_boxes.push_back(Bounds(hole));
    // With no edge meeting the outer ring, one vertex strictly inside puts the
    // whole hole strictly inside.
    if (RingsMeet(hole, a.outer)) {
      return Status::InvalidArgument("hole touches or crosses the outer ring", hf);
    }
    if (!BoxesOverlap(hole_boxes.back(), outer_box) || !StrictlyInside(a.outer, hole[0])) {
      return Status::InvalidArgument("hole is not inside the outer ring", hf);
    }
    for (std::size_t g = 0; g < h; ++g) {
      if (!BoxesOverlap(hole_boxes[g], hole_boxes[h])) continue;
      if (RingsMeet(hole, a.holes[g]) || StrictlyInside(a.holes[g], hole[0]) ||
          StrictlyInside(hole, a.holes[g][0])) {
        return Status::InvalidArgument("hole overlaps hole " + std::to_string(g), hf);
      }
    }
  }
  const std::pair<const std::optional<double> *, const char *> bounds[] = {{&a.z_min, ".z_min"},
                                                                           {&a.z_max, ".z_max"}};
  for (const auto &[z, name] : bounds) {
    if (!z->has_value()) continue;
    if (!std::isfinite(**z)) {
      return Status::InvalidArgument("height is not a finite number", f + name);
    }
    if (std::fabs(**z) > kMaxHeight) {
      return Status::InvalidArgument("height is outside +-10,000 m", f + name);
    }
  }
  if (a.z_min && a.z_max && !(*a.z_min < *a.z_max)) {
    return Status::InvalidArgument("z_max must be greater than z_min (a band has thickness)",
                                   f + ".z_max");
  }
  return Status::Ok();
}

bool RingContains(const Ring &r, Vec2 p) {
  return Classify(r, p, BoundaryEps(p)) != Where::kOutside;
}

bool Contains(const Area &a, Vec2 p, std::optional<double> z) {
  if (z.has_value()) {
    if (a.z_min && !(*z >= *a.z_min)) return false;
    if (a.z_max && !(*z <= *a.z_max)) return false;
  }
  if (a.outer.size() < 3) return false;
  const double eps = BoundaryEps(p);
  // Bounding box first: a cheap linear scan without divisions rejects most far
  // points.
  double min_x = a.outer[0].x, max_x = min_x, min_y = a.outer[0].y, max_y = min_y;
  for (const Vec2 &v : a.outer) {
    min_x = std::min(min_x, v.x);
    max_x = std::max(max_x, v.x);
    min_y = std::min(min_y, v.y);
    max_y = std::max(max_y, v.y);
  }
  if (!(p.x >= min_x - eps && p.x <= max_x + eps && p.y >= min_y - eps && p.y <= max_y + eps)) {
    return false;
  }
  if (Classify(a.outer, p, eps) == Where::kOutside) return false;
  for (const Ring &hole : a.holes) {
    if (Classify(hole, p, eps) == Where::kInside) return false;
  }
  return true;
}

double Distance(const Area &a, Vec2 p) {
  if (Contains(a, p)) return 0.0;
  double best = std::numeric_limits<double>::infinity();
  auto scan = [&](const Ring &r) {
    const std::size_t n = r.size();
    for (std::size_t i = 0; i < n; ++i) {
      best = std::min(best, SegmentDistance2(p, r[i], r[(i + 1) % n]));
    }
  };
  scan(a.outer);
  for (const Ring &hole : a.holes) scan(hole);
  return std::sqrt(best);
}

Box Bounds(const Area &a) { return Bounds(a.outer); }

Box Bounds(const Ring &r) {
  if (r.empty()) return Box{};
  Box b{r[0].x, r[0].y, r[0].x, r[0].y};
  for (const Vec2 &v : r) {
    b.min_x = std::min(b.min_x, v.x);
    b.min_y = std::min(b.min_y, v.y);
    b.max_x = std::max(b.max_x, v.x);
    b.max_y = std::max(b.max_y, v.y);
  }
  return b;
}

double SignedRingArea(const Ring &r) {
  if (r.size() < 3) return 0.0;
  // Relative to the first vertex: keeps precision for rings far from the
  // origin.
  const Vec2 o = r[0];
  double twice = 0;
  for (std::size_t i = 1; i + 1 < r.size(); ++i) twice += Cross(o, r[i], r[i + 1]);
  return twice / 2;
}

Ring CircleRing(Vec2 centre, double radius_m, int sides) {
  sides = std::max(sides, 3);
  Ring r;
  r.reserve(static_cast<std::size_t>(sides));
  for (int i = 0; i < sides; ++i) {
    const double t = 2 * std::numbers::pi * i / sides;
    r.push_back({centre.x + radius_m * std::cos(t), centre.y + radius_m * std::sin(t)});
  }
  return r;
}

// --- WGS-84
// -----------------------------------------------------------------------------
namespace {

constexpr double kWgs84A = 6'378'137.0;
constexpr double kWgs84F = 1 / 298.257223563;
constexpr double kWgs84E2 = kWgs84F * (2 - kWgs84F);
constexpr double kDegToRad = std::numbers::pi / 180;

struct Ecef {
  double x, y, z;
};

// A point on the ellipsoid surface (height 0).
Ecef ToEcef(double lat_rad, double lon_rad) {
  const double s = std::sin(lat_rad), c = std::cos(lat_rad);
  const double n = kWgs84A / std::sqrt(1 - kWgs84E2 * s * s);  // prime-vertical radius
  return {n * c * std::cos(lon_rad), n * c * std::sin(lon_rad), n * (1 - kWgs84E2) * s};
}

double WrapLon(double lon) {
  lon = std::remainder(lon, 360.0);  // [-180, 180]
  return lon;
}

}  // namespace

core::Status ValidateLatLon(LatLon p, std::string_view field) {
  const std::string f(field);
  if (!std::isfinite(p.lat) || std::fabs(p.lat) > 90) {
    return Status::InvalidArgument("latitude must be a finite number of degrees in [-90, 90]",
                                   f + ".lat");
  }
  if (!std::isfinite(p.lon) || std::fabs(p.lon) > 180) {
    return Status::InvalidArgument("longitude must be a finite number of degrees in [-180, 180]",
                                   f + ".lon");
  }
  return Status::Ok();
}

double HaversineMetres(LatLon a, LatLon b) {
  const double p1 = a.lat * kDegToRad, p2 = b.lat * kDegToRad;
  const double dp = p2 - p1, dl = (b.lon - a.lon) * kDegToRad;
  const double s1 = std::sin(dp / 2), s2 = std::sin(dl / 2);
  const double h = s1 * s1 + std::cos(p1) * std::cos(p2) * s2 * s2;
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

LocalFrame::LocalFrame(LatLon origin) : origin_(origin) {
  const double phi = origin.lat * kDegToRad, lam = origin.lon * kDegToRad;
  sin_lat_ = std::sin(phi);
  cos_lat_ = std::cos(phi);
  sin_lon_ = std::sin(lam);
  cos_lon_ = std::cos(lam);
  const Ecef o = ToEcef(phi, lam);
  ox_ = o.x;
  oy_ = o.y;
  oz_ = o.z;
}

Vec2 LocalFrame::ToLocal(LatLon p) const {
  const Ecef e = ToEcef(p.lat * kDegToRad, p.lon * kDegToRad);
  const double dx = e.x - ox_, dy = e.y - oy_, dz = e.z - oz_;
  // Rows of the ECEF -> ENU rotation at the origin.
  const double east = -sin_lon_ * dx + cos_lon_ * dy;
  const double north = -sin_lat_ * cos_lon_ * dx - sin_lat_ * sin_lon_ * dy + cos_lat_ * dz;
  return {east, north};
}

LatLon LocalFrame::ToWgs84(Vec2 p) const {
  // The surface point whose orthographic projection onto the tangent plane is
  // p: walk from the plane point along the origin's up vector until the
  // ellipsoid is reached (the root nearer the plane of a quadratic in the
  // walked distance u).
  const double ex = -sin_lon_, ey = cos_lon_, ez = 0;
  const double nx = -sin_lat_ * cos_lon_, ny = -sin_lat_ * sin_lon_, nz = cos_lat_;
  const double ux = cos_lat_ * cos_lon_, uy = cos_lat_ * sin_lon_, uz = sin_lat_;
  const double b2 = kWgs84A * kWgs84A * (1 - kWgs84E2);
  const double a2 = kWgs84A * kWgs84A;
  // Plane point relative to the origin, then the quadratic in u for
  // (X^2 + Y^2) / a^2 + Z^2 / b^2 = 1 with (X, Y, Z) = o + q + u * up.
  const double qx = p.x * ex + p.y * nx, qy = p.x * ey + p.y * ny, qz = p.x * ez + p.y * nz;
  const double px = ox_ + qx, py = oy_ + qy, pz = oz_ + qz;
  const double qa = (ux * ux + uy * uy) / a2 + uz * uz / b2;
  const double qb = 2 * ((px * ux + py * uy) / a2 + pz * uz / b2);
  // F(plane point) - 1, computed from the small offset q to avoid cancellation
  // (the origin itself lies on the ellipsoid).
  const double qc =
      (2 * (ox_ * qx + oy_ * qy) + qx * qx + qy * qy) / a2 + (2 * oz_ * qz + qz * qz) / b2;
  const double disc = std::max(0.0, qb * qb - 4 * qa * qc);
  // Root of smaller magnitude, in the cancellation-free form.
  const double sq = std::sqrt(disc);
  const double den = qb >= 0 ? -qb - sq : -qb + sq;
  const double u = den != 0 ? 2 * qc / den : 0.0;
  const double x = px + u * ux, y = py + u * uy, z = pz + u * uz;
  // On the surface (height 0) geodetic latitude is exact: tan(phi) = z / ((1 -
  // e^2) r).
  const double r = std::hypot(x, y);
  const double lat = std::atan2(z, (1 - kWgs84E2) * r) / kDegToRad;
  const double lon = r > 0 ? std::atan2(y, x) / kDegToRad : origin_.lon;
  return {lat, WrapLon(lon)};
}

Vec3 FrameTransform::Apply(Vec3 p) const {
  const double t = rotation_deg * kDegToRad;
  const double c = std::cos(t), s = std::sin(t);
  return {p.x * c - p.y * s + dx, p.x * s + p.y * c + dy, p.z + dz};
}

// --- spatial index
// ----------------------------------------------------------------------
namespace {

// Cells are clamped to the int32 range so Key stays injective; a box reaching
// beyond it covers far more than any max_cells and goes on the large list
// anyway.
constexpr std::int64_t kCellLimit = (std::int64_t{1} << 31) - 1;

bool FiniteBox(const Box &b) {
  return std::isfinite(b.min_x) && std::isfinite(b.min_y) && std::isfinite(b.max_x) &&
         std::isfinite(b.max_y) && b.min_x <= b.max_x && b.min_y <= b.max_y;
}

double BoxDistance2(const Box &b, Vec2 p) {
  const double dx = std::max({b.min_x - p.x, 0.0, p.x - b.max_x});
  const double dy = std::max({b.min_y - p.y, 0.0, p.y - b.max_y});
  return dx * dx + dy * dy;
}

}  // namespace

GridIndex::GridIndex(double cell_m, std::size_t max_cells_per_entry)
    : cell_m_(std::isfinite(cell_m) && cell_m > 0 ? cell_m : 32.0),
      max_cells_(std::max<std::size_t>(1, max_cells_per_entry)) {}

std::uint64_t GridIndex::Key(std::int64_t cx, std::int64_t cy) {
  // Pack the two (clamped, hence 32-bit) cell coordinates, then mix with the
  // splitmix64 finaliser, a bijection: keys stay unique and spread well over
  // the hash buckets (std::hash<uint64_t> is the identity).
  std::uint64_t k = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(cx)) << 32) |
                    static_cast<std::uint32_t>(cy);
  k ^= k >> 30;
  k *= 0xbf58476d1ce4e5b9ULL;
  k ^= k >> 27;
  k *= 0x94d049bb133111ebULL;
  k ^= k >> 31;
  return k;
}

std::int64_t GridIndex::Cell(double v) const {
  const double c = std::floor(v / cell_m_);
  if (!(c > -static_cast<double>(kCellLimit))) return -kCellLimit;  // also NaN
  if (c > static_cast<double>(kCellLimit)) return kCellLimit;
  return static_cast<std::int64_t>(c);
}

void GridIndex::Insert(std::uint32_t id, const Box &box) {
  Remove(id);
  boxes_.emplace(id, box);
  const std::int64_t x0 = Cell(box.min_x), x1 = Cell(box.max_x);
  const std::int64_t y0 = Cell(box.min_y), y1 = Cell(box.max_y);
  const double cells = (static_cast<double>(x1 - x0) + 1) * (static_cast<double>(y1 - y0) + 1);
  if (!FiniteBox(box) || cells > static_cast<double>(max_cells_)) {
    large_.push_back(id);
    return;
  }
  for (std::int64_t cx = x0; cx <= x1; ++cx) {
    for (std::int64_t cy = y0; cy <= y1; ++cy) {
      std::vector<std::uint32_t> &bucket = cells_[Key(cx, cy)];
      if (bucket.empty() || bucket.back() != id) bucket.push_back(id);
    }
  }
}

void GridIndex::Remove(std::uint32_t id) {
  const auto it = boxes_.find(id);
  if (it == boxes_.end()) return;
  const Box box = it->second;
  boxes_.erase(it);
  if (const auto l = std::find(large_.begin(), large_.end(), id); l != large_.end()) {
    large_.erase(l);
    return;
  }
  const std::int64_t x0 = Cell(box.min_x), x1 = Cell(box.max_x);
  const std::int64_t y0 = Cell(box.min_y), y1 = Cell(box.max_y);
  for (std::int64_t cx = x0; cx <= x1; ++cx) {
    for (std::int64_t cy = y0; cy <= y1; ++cy) {
      const auto c = cells_.find(Key(cx, cy));
      if (c == cells_.end()) continue;
      std::erase(c->second, id);
      if (c->second.empty()) cells_.erase(c);
    }
  }
}

void GridIndex::Query(Vec2 p, std::vector<std::uint32_t> &out) const {
  for (const std::uint32_t id : large_) {
    if (boxes_.at(id).Contains(p)) out.push_back(id);
  }
  // An entry is listed at most once per cell, so one cell yields no duplicates.
  const auto c = cells_.find(Key(Cell(p.x), Cell(p.y)));
  if (c == cells_.end()) return;
  for (const std::uint32_t id : c->second) {
    if (boxes_.at(id).Contains(p)) out.push_back(id);
  }
}

void GridIndex::QueryRadius(Vec2 p, double radius_m, std::vector<std::uint32_t> &out) const {
  if (!(radius_m >= 0) || !std::isfinite(p.x) || !std::isfinite(p.y)) return;
  const std::size_t start = out.size();
  const double r2 = radius_m * radius_m;
  const std::int64_t x0 = Cell(p.x - radius_m), x1 = Cell(p.x + radius_m);
  const std::int64_t y0 = Cell(p.y - radius_m), y1 = Cell(p.y + radius_m);
  const double cells = (static_cast<double>(x1 - x0) + 1) * (static_cast<double>(y1 - y0) + 1);
  if (cells > static_cast<double>(boxes_.size())) {
    // Wider than the index is big: a scan of every entry is cheaper than the
    // cells.
    for (const auto &[id, box] : boxes_) {
      if (BoxDistance2(box, p) <= r2) out.push_back(id);
    }
    return;  // each id once by construction
  }
  for (const std::uint32_t id : large_) {
    if (BoxDistance2(boxes_.at(id), p) <= r2) out.push_back(id);
  }
  for (std::int64_t cx = x0; cx <= x1; ++cx) {
    for (std::int64_t cy = y0; cy <= y1; ++cy) {
      const auto c = cells_.find(Key(cx, cy));
      if (c == cells_.end()) continue;
      for (const std::uint32_t id : c->second) {
        if (BoxDistance2(boxes_.at(id), p) <= r2) out.push_back(id);
      }
    }
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
  out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(start), out.end()), out.end());
}

}  // namespace wg::presence

#include "wg/presence/geo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <numbers>
#include <random>
#include <string>
#include <vector>

// Counts heap allocations in this test binary so the hot-path functions can be
// checked not to allocate. Not under the address sanitizer, which owns operator new.
#if defined(__SANITIZE_ADDRESS__)
#define WG_COUNT_ALLOCATIONS 0
#else
#define WG_COUNT_ALLOCATIONS 1
#endif
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

#if WG_COUNT_ALLOCATIONS
void *operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void *p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
#endif

namespace wg::presence {
namespace {

using core::StatusCode;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Ring Square(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

Ring Reversed(Ring r) {
  std::reverse(r.begin(), r.end());
  return r;
}

// 10 x 10 square with a 2 x 2 hole at (4..6, 4..6).
Area SquareWithHole() {
  Area a;
  a.outer = Square(0, 0, 10, 10);
  a.holes.push_back(Square(4, 4, 6, 6));
  return a;
}

// A U: 0..9 wide, 0..9 high, with the notch x in (3, 6), y in (3, 9] cut out.
Area UShape() {
  Area a;
  a.outer = {{0, 0}, {9, 0}, {9, 9}, {6, 9}, {6, 3}, {3, 3}, {3, 9}, {0, 9}};
  return a;
}

// --- Contains
// ---------------------------------------------------------------------------

TEST(GeoContains, InteriorExteriorAndBoundary) {
  Area a;
  a.outer = Square(0, 0, 10, 10);
  EXPECT_TRUE(Contains(a, {5, 5}));
  EXPECT_FALSE(Contains(a, {-0.001, 5}));
  EXPECT_FALSE(Contains(a, {5, 10.001}));
  EXPECT_FALSE(Contains(a, {20, 20}));
  // Every vertex and every edge midpoint is inside.
  for (std::size_t i = 0; i < a.outer.size(); ++i) {
    const Vec2 v = a.outer[i], w = a.outer[(i + 1) % a.outer.size()];
    EXPECT_TRUE(Contains(a, v)) << i;
    EXPECT_TRUE(Contains(a, {(v.x + w.x) / 2, (v.y + w.y) / 2})) << i;
  }
  EXPECT_FALSE(Contains(a, {kNaN, 5}));
}

TEST(GeoContains, BoundaryOfSlantedEdgeFarFromOrigin) {
  // A triangle far from the origin with a slanted edge: the computed midpoint
  // is not exactly on the edge in floating point, yet it counts as the
  // boundary.
  Area a;
  a.outer = {{900'000.1, 800'000.3}, {900'123.7, 800'077.9}, {900'010.2, 800'200.4}};
  const Vec2 m{(a.outer[0].x + a.outer[1].x) / 2, (a.outer[0].y + a.outer[1].y) / 2};
  EXPECT_TRUE(Contains(a, m));
  // A point 1 cm outside that edge is outside.
  const double ex = a.outer[1].x - a.outer[0].x, ey = a.outer[1].y - a.outer[0].y;
  const double len = std::hypot(ex, ey);
  const Vec2 out{m.x + 0.01 * ey / len, m.y - 0.01 * ex / len};
  EXPECT_FALSE(Contains(a, out));
  EXPECT_GT(Distance(a, out), 0.009);
}

TEST(GeoContains, ConcaveNotchIsOutside) {
  const Area u = UShape();
  EXPECT_TRUE(Contains(u, {1.5, 8}));    // left arm
  EXPECT_TRUE(Contains(u, {7.5, 8}));    // right arm
  EXPECT_TRUE(Contains(u, {4.5, 1.5}));  // base
  EXPECT_FALSE(Contains(u, {4.5, 6}));   // in the notch
  EXPECT_FALSE(Contains(u, {4.5, 9}));   // notch mouth, between the arm tips
  EXPECT_TRUE(Contains(u, {4.5, 3}));    // on the notch floor
  EXPECT_TRUE(Contains(u, {3, 6}));      // on the notch wall
  // Ray-casting pitfall: a point level with the arm-tip vertices, left of the
  // U.
  EXPECT_FALSE(Contains(u, {-1, 9}));
  EXPECT_FALSE(Contains(u, {-1, 3}));
  EXPECT_TRUE(Contains(u, {1, 3}));
}

TEST(GeoContains, Holes) {
  const Area a = SquareWithHole();
  EXPECT_FALSE(Contains(a, {5, 5}));  // strictly inside the hole
  EXPECT_TRUE(Contains(a, {2, 2}));
  EXPECT_TRUE(Contains(a, {4, 5}));  // on the hole's edge
  EXPECT_TRUE(Contains(a, {6, 6}));  // on the hole's vertex
  EXPECT_TRUE(Contains(a, {5, 4}));
  EXPECT_FALSE(Contains(a, {4.01, 5}));
  EXPECT_FALSE(RingContains(a.holes[0], {3.99, 5}));
  EXPECT_TRUE(RingContains(a.holes[0], {4, 5}));
}

TEST(GeoContains, HeightBand) {
  Area a;
  a.outer = Square(0, 0, 10, 10);
  a.z_min = 2;
  a.z_max = 5;
  EXPECT_TRUE(Contains(a, {5, 5}));  // no z: matched on the plane
  EXPECT_TRUE(Contains(a, {5, 5}, 3.0));
  EXPECT_TRUE(Contains(a, {5, 5}, 2.0));  // band bounds are inclusive
  EXPECT_TRUE(Contains(a, {5, 5}, 5.0));
  EXPECT_FALSE(Contains(a, {5, 5}, 1.99));
  EXPECT_FALSE(Contains(a, {5, 5}, 5.01));
  EXPECT_FALSE(Contains(a, {5, 5}, kNaN));
  EXPECT_FALSE(Contains(a, {11, 5}, 3.0));
  // An open upper bound.
  a.z_max.reset();
  EXPECT_TRUE(Contains(a, {5, 5}, 9000.0));
  EXPECT_FALSE(Contains(a, {5, 5}, 0.0));
}

TEST(GeoContains, OrientationIndependent) {
  Area ccw = UShape();
  ccw.holes.push_back(Square(1, 1, 2, 2));
  Area cw = ccw;
  cw.outer = Reversed(cw.outer);
  cw.holes[0] = Reversed(cw.holes[0]);
  EXPECT_GT(SignedRingArea(ccw.outer), 0);
  EXPECT_LT(SignedRingArea(cw.outer), 0);
  EXPECT_DOUBLE_EQ(SignedRingArea(ccw.outer), 81 - 3 * 6);
  ASSERT_TRUE(ValidateArea(cw, "area").ok());
  for (double x = -0.5; x <= 9.5; x += 0.25) {
    for (double y = -0.5; y <= 9.5; y += 0.25) {
      EXPECT_EQ(Contains(ccw, {x, y}), Contains(cw, {x, y})) << x << "," << y;
      EXPECT_NEAR(Distance(ccw, {x, y}), Distance(cw, {x, y}), 1e-12);
    }
  }
}

TEST(GeoContains, DoesNotAllocate) {
  if (!WG_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under ASan";
  const Area a = SquareWithHole();
  const Area u = UShape();
  const long before = g_allocations.load();
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    const Vec2 p{i * 0.011, i * 0.007};
    hits += Contains(a, p) ? 1 : 0;
    hits += Contains(u, p, 1.0) ? 1 : 0;
    hits += RingContains(a.outer, p) ? 1 : 0;
    hits += Distance(a, p) > 0 ? 1 : 0;
  }
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_GT(hits, 0);
}

// --- Distance
// ---------------------------------------------------------------------------

TEST(GeoDistance, Values) {
  const Area a = SquareWithHole();
  EXPECT_EQ(Distance(a, {2, 2}), 0);
  EXPECT_EQ(Distance(a, {0, 5}), 0);  // on the boundary
  EXPECT_DOUBLE_EQ(Distance(a, {12, 5}), 2);
  EXPECT_DOUBLE_EQ(Distance(a, {-3, -4}), 5);  // nearest is the corner
  EXPECT_DOUBLE_EQ(Distance(a, {5, 5}), 1);    // hole centre: 1 to the hole's edge
  EXPECT_DOUBLE_EQ(Distance(a, {4.5, 5}), 0.5);
  EXPECT_DOUBLE_EQ(Distance(UShape(), {4.5, 6}), 1.5);  // in the notch
  EXPECT_TRUE(std::isinf(Distance(Area{}, {0, 0})));
}

TEST(GeoBounds, RingAndArea) {
  const Area u = UShape();
  const Box b = Bounds(u);
  EXPECT_EQ(b.min_x, 0);
  EXPECT_EQ(b.min_y, 0);
  EXPECT_EQ(b.max_x, 9);
  EXPECT_EQ(b.max_y, 9);
  const Box e = Bounds(Ring{});
  EXPECT_EQ(e.min_x, 0);
  EXPECT_EQ(e.max_x, 0);
}

TEST(GeoCircle, RegularCounterClockwise) {
  const Ring r = CircleRing({100, -50}, 10, 24);
  ASSERT_EQ(r.size(), 24u);
  for (const Vec2 &v : r) EXPECT_NEAR(std::hypot(v.x - 100, v.y + 50), 10, 1e-9);
  EXPECT_GT(SignedRingArea(r), 0);
  // Area of a regular 24-gon: n/2 r^2 sin(2 pi / n).
  EXPECT_NEAR(SignedRingArea(r), 12 * 100 * std::sin(2 * std::numbers::pi / 24), 1e-6);
  Area a;
  a.outer = r;
  EXPECT_TRUE(ValidateArea(a, "fence").ok());
  EXPECT_TRUE(Contains(a, {100, -50}));
  EXPECT_TRUE(Contains(a, {109.5, -50}));
  EXPECT_FALSE(Contains(a, {100, -39.9}));
  EXPECT_EQ(CircleRing({0, 0}, 1, 1).size(), 3u);  // clamped to a triangle
}

// --- ValidateArea
// -----------------------------------------------------------------------

void ExpectInvalid(const Area &a, const std::string &field, const std::string &words = {}) {
  const core::Status s = ValidateArea(a, "area");
  ASSERT_FALSE(s.ok()) << field;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), field) << s.ToString();
  if (!words.empty()) {
    EXPECT_NE(s.message().find(words), std::string::npos) << s.ToString();
  }
}

TEST(GeoValidate, AcceptsGoodAreas) {
  EXPECT_TRUE(ValidateArea(SquareWithHole(), "area").ok());
  EXPECT_TRUE(ValidateArea(UShape(), "area").ok());
  Area banded = UShape();
  banded.z_min = -3;
  banded.z_max = 12.5;
  EXPECT_TRUE(ValidateArea(banded, "area").ok());
  Area two_holes = SquareWithHole();
  two_holes.holes.push_back(Square(7, 7, 8, 8));
  EXPECT_TRUE(ValidateArea(two_holes, "area").ok());
  Area big;
  big.outer =
      Square(-kMaxLocalCoordinate, -kMaxLocalCoordinate, kMaxLocalCoordinate, kMaxLocalCoordinate);
  EXPECT_TRUE(ValidateArea(big, "area").ok());
  Area many;
  many.outer = CircleRing({0, 0}, 100, static_cast<int>(kMaxRingVertices));
  EXPECT_TRUE(ValidateArea(many, "area").ok());
}

TEST(GeoValidate, BowtieRejected) {
  Area a;
  a.outer = {{0, 0}, {1, 1}, {1, 0}, {0, 1}};
  ExpectInvalid(a, "area.outer[0]", "self-intersecting");
  Area h = SquareWithHole();
  h.holes[0] = {{4, 4}, {6, 6}, {6, 4}, {4, 6}};
  ExpectInvalid(h, "area.holes[0][0]", "self-intersecting");
}

TEST(GeoValidate, TouchingNonAdjacentEdgesRejected) {
  // A vertex of the ring lying on a non-adjacent edge (pinched ring).
  Area a;
  a.outer = {{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}};
  const core::Status s = ValidateArea(a, "area");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.field().rfind("area.outer[", 0), 0u) << s.ToString();
}

TEST(GeoValidate, FoldBackRejected) {
  Area a;
  // The edge 2->3 goes back along 1->2.
  a.outer = {{0, 0}, {4, 0}, {4, 4}, {4, 2}, {0, 4}};
  ExpectInvalid(a, "area.outer[2]", "folds back");
  a.outer = {{0, 0}, {1, 0}, {2, 0}};  // collinear: edge 1->2 runs back over 0->1
  ExpectInvalid(a, "area.outer[2]", "folds back");
}

TEST(GeoValidate, VertexCountAndDuplicates) {
  Area a;
  a.outer = {{0, 0}, {1, 0}};
  ExpectInvalid(a, "area.outer", "at least 3");
  a.outer = {{0, 0}, {1, 0}, {1, 1}, {0, 0}};
  ExpectInvalid(a, "area.outer[3]", "do not repeat the first vertex");
  a.outer = {{0, 0}, {1, 0}, {1, 0}, {1, 1}};
  ExpectInvalid(a, "area.outer[2]", "repeats vertex 1");
  a.outer = {{0, 0}, {1, 0}, {0.5, 1e-12}};  // a sliver
  ExpectInvalid(a, "area.outer", "zero area");
  a.outer = CircleRing({0, 0}, 100, static_cast<int>(kMaxRingVertices) + 1);
  ExpectInvalid(a, "area.outer", "at most");
}

TEST(GeoValidate, CoordinatesFiniteAndInRange) {
  Area a;
  a.outer = Square(0, 0, 10, 10);
  a.outer[1].x = 1e7;  // a unit error (cm as m)
  ExpectInvalid(a, "area.outer[1].x", "outside");
  a.outer = Square(0, 0, 10, 10);
  a.outer[2].y = kNaN;
  ExpectInvalid(a, "area.outer[2].y", "finite");
  a.outer = Square(0, 0, 10, 10);
  a.outer[0].x = std::numeric_limits<double>::infinity();
  ExpectInvalid(a, "area.outer[0].x", "finite");
  Area h = SquareWithHole();
  h.holes[0][3].y = -kNaN;
  ExpectInvalid(h, "area.holes[0][3].y", "finite");
}

TEST(GeoValidate, HolesMustBeStrictlyInsideAndDisjoint) {
  Area outside = SquareWithHole();
  outside.holes[0] = Square(20, 20, 22, 22);
  ExpectInvalid(outside, "area.holes[0]", "not inside");

  Area crossing = SquareWithHole();
  crossing.holes[0] = Square(8, 4, 12, 6);
  ExpectInvalid(crossing, "area.holes[0]", "crosses");

  Area touching = SquareWithHole();
  touching.holes[0] = Square(8, 4, 10, 6);  // shares part of the outer edge x = 10
  ExpectInvalid(touching, "area.holes[0]", "touches");

  Area in_notch = UShape();  // bounding box inside the outer ring's, but in the notch
  in_notch.holes.push_back(Square(4, 5, 5, 6));
  ExpectInvalid(in_notch, "area.holes[0]", "not inside");

  Area enclosing = SquareWithHole();  // a hole around the whole outer ring
  enclosing.holes[0] = Square(-1, -1, 11, 11);
  ExpectInvalid(enclosing, "area.holes[0]");

  Area overlap = SquareWithHole();
  overlap.holes.push_back(Square(5, 5, 7, 7));
  ExpectInvalid(overlap, "area.holes[1]", "overlaps hole 0");

  Area nested = SquareWithHole();
  nested.holes.push_back(Square(4.5, 4.5, 5.5, 5.5));
  ExpectInvalid(nested, "area.holes[1]", "overlaps hole 0");

  Area around = SquareWithHole();
  around.holes.push_back(Square(3, 3, 7, 7));
  ExpectInvalid(around, "area.holes[1]", "overlaps hole 0");

  Area too_many;
  too_many.outer = Square(0, 0, 1000, 1000);
  for (std::size_t i = 0; i <= kMaxHoles; ++i) {
    const double x = 10 + 12.0 * static_cast<double>(i);
    too_many.holes.push_back(Square(x, 10, x + 10, 20));
  }
  ExpectInvalid(too_many, "area.holes", "at most");
  too_many.holes.pop_back();
  EXPECT_TRUE(ValidateArea(too_many, "area").ok());
}

TEST(GeoValidate, HeightBand) {
  Area a;
  a.outer = Square(0, 0, 10, 10);
  a.z_min = 5;
  a.z_max = 5;
  ExpectInvalid(a, "area.z_max", "greater than z_min");
  a.z_max = 4;
  ExpectInvalid(a, "area.z_max");
  a.z_max = kMaxHeight + 1;
  ExpectInvalid(a, "area.z_max", "10,000");
  a.z_max.reset();
  a.z_min = kNaN;
  ExpectInvalid(a, "area.z_min", "finite");
  a.z_min = -kMaxHeight;  // only one bound: fine
  EXPECT_TRUE(ValidateArea(a, "area").ok());
}

TEST(GeoValidate, FieldPrefixIsTheCallersName) {
  Area a;
  a.outer = {{0, 0}, {1, 1}};
  const core::Status s = ValidateArea(a, "permits[2].fence");
  EXPECT_EQ(s.field(), "permits[2].fence.outer");
}

// --- WGS-84
// -----------------------------------------------------------------------------

TEST(GeoLatLon, Validate) {
  EXPECT_TRUE(ValidateLatLon({90, -180}, "p").ok());
  EXPECT_TRUE(ValidateLatLon({-33.9, 151.2}, "p").ok());
  EXPECT_EQ(ValidateLatLon({90.0001, 0}, "site.origin").field(), "site.origin.lat");
  EXPECT_EQ(ValidateLatLon({0, -180.5}, "p").field(), "p.lon");
  EXPECT_EQ(ValidateLatLon({kNaN, 0}, "p").field(), "p.lat");
  EXPECT_EQ(ValidateLatLon({0, std::numeric_limits<double>::infinity()}, "p").field(), "p.lon");
}

TEST(GeoLatLon, Haversine) {
  // One degree of arc on the mean sphere.
  EXPECT_NEAR(HaversineMetres({0, 0}, {1, 0}), kEarthRadiusM * std::numbers::pi / 180, 1e-6);
  EXPECT_NEAR(HaversineMetres({0, 0}, {0, 1}), kEarthRadiusM * std::numbers::pi / 180, 1e-6);
  EXPECT_EQ(HaversineMetres({31.2, 121.5}, {31.2, 121.5}), 0);
  // Antipodes: half the circumference, no NaN from rounding.
  EXPECT_NEAR(HaversineMetres({0, 0}, {0, 180}), kEarthRadiusM * std::numbers::pi, 1e-3);
  // Across the antimeridian.
  EXPECT_NEAR(HaversineMetres({0, 179.5}, {0, -179.5}), kEarthRadiusM * std::numbers::pi / 180,
              1e-6);
}

// Vincenty's inverse formula on the WGS-84 ellipsoid (sub-millimetre): the
// reference the local frame is measured against.
double VincentyMetres(LatLon p1, LatLon p2) {
  const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f);
  const double rad = std::numbers::pi / 180;
  const double l = (p2.lon - p1.lon) * rad;
  const double u1 = std::atan((1 - f) * std::tan(p1.lat * rad));
  const double u2 = std::atan((1 - f) * std::tan(p2.lat * rad));
  const double su1 = std::sin(u1), cu1 = std::cos(u1), su2 = std::sin(u2), cu2 = std::cos(u2);
  double lambda = l, sin_sigma = 0, cos_sigma = 0, sigma = 0, cos2_alpha = 0, cos_2sm = 0;
  for (int i = 0; i < 200; ++i) {
    const double sl = std::sin(lambda), cl = std::cos(lambda);
    sin_sigma = std::hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl);
    if (sin_sigma == 0) return 0;
    cos_sigma = su1 * su2 + cu1 * cu2 * cl;
    sigma = std::atan2(sin_sigma, cos_sigma);
    const double sin_alpha = cu1 * cu2 * sl / sin_sigma;
    cos2_alpha = 1 - sin_alpha * sin_alpha;
    cos_2sm = cos2_alpha != 0 ? cos_sigma - 2 * su1 * su2 / cos2_alpha : 0;
    const double c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha));
    const double next =
        l + (1 - c) * f * sin_alpha *
                (sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm * cos_2sm)));
    const bool done = std::fabs(next - lambda) < 1e-13;
    lambda = next;
    if (done) break;
  }
  const double usq = cos2_alpha * (a * a - b * b) / (b * b);
  const double aa = 1 + usq / 16384 * (4096 + usq * (-768 + usq * (320 - 175 * usq)));
  const double bb = usq / 1024 * (256 + usq * (-128 + usq * (74 - 47 * usq)));
  const double ds = bb * sin_sigma *
                    (cos_2sm + bb / 4 *
                                   (cos_sigma * (-1 + 2 * cos_2sm * cos_2sm) -
                                    bb / 6 * cos_2sm * (-3 + 4 * sin_sigma * sin_sigma) *
                                        (-3 + 4 * cos_2sm * cos_2sm)));
  return b * aa * (sigma - ds);
}

TEST(GeoLocalFrame, OriginMapsToZero) {
  const LocalFrame f({31.23, 121.47});
  const Vec2 o = f.ToLocal({31.23, 121.47});
  EXPECT_NEAR(o.x, 0, 1e-9);
  EXPECT_NEAR(o.y, 0, 1e-9);
  EXPECT_EQ(f.origin(), (LatLon{31.23, 121.47}));
  const LatLon back = f.ToWgs84({0, 0});
  EXPECT_NEAR(back.lat, 31.23, 1e-12);
  EXPECT_NEAR(back.lon, 121.47, 1e-12);
}

TEST(GeoLocalFrame, AxesPointEastAndNorth) {
  const LocalFrame f({45, 10});
  const Vec2 north = f.ToLocal({45.01, 10});
  EXPECT_NEAR(north.x, 0, 1e-6);
  EXPECT_GT(north.y, 1000);
  const Vec2 east = f.ToLocal({45, 10.01});
  // The parallel curves poleward of the tangent plane's east axis: ~x^2
  // tan(lat) / 2R.
  EXPECT_GT(east.y, 0);
  EXPECT_NEAR(east.y, east.x * east.x / (2 * 6.39e6), 0.005);
  EXPECT_GT(east.x, 700);
}

TEST(GeoLocalFrame, AccurateAgainstEllipsoidAndSphere) {
  for (const double lat : {0.0, 30.0, 60.0}) {
    const LocalFrame f({lat, 116.4});
    for (const double d : {1000.0, 5000.0, 10000.0}) {
      for (int k = 0; k < 8; ++k) {
        const double bearing = k * std::numbers::pi / 4;
        const Vec2 p{d * std::sin(bearing), d * std::cos(bearing)};
        const LatLon ll = f.ToWgs84(p);
        // Planar distance from the origin matches the ellipsoidal geodesic to
        // 0.1 m.
        EXPECT_NEAR(VincentyMetres(f.origin(), ll), d, 0.1)
            << "lat " << lat << " d " << d << " bearing " << k * 45;
        // And the mean-sphere haversine to within the sphere's own error: the
        // ellipsoid's radii of curvature differ from the mean radius by up to
        // 0.56 % (meridional, at the equator), so the sphere cannot check the
        // 0.1 m claim.
        EXPECT_NEAR(HaversineMetres(f.origin(), ll), d, 0.006 * d);
        // Round trip.
        const Vec2 back = f.ToLocal(ll);
        EXPECT_NEAR(back.x, p.x, 1e-6);
        EXPECT_NEAR(back.y, p.y, 1e-6);
      }
    }
  }
}

TEST(GeoLocalFrame, DistancesBetweenPointsAreKept) {
  // Not just from the origin: two points 10 km out on either side.
  const LocalFrame f({60, 25});
  const Vec2 a{-7000, 7000}, b{7000, 7000};
  const double planar = std::hypot(b.x - a.x, b.y - a.y);
  EXPECT_NEAR(VincentyMetres(f.ToWgs84(a), f.ToWgs84(b)), planar, 0.1);
}

TEST(GeoLocalFrame, RoundTripAcrossTheAntimeridian) {
  const LocalFrame f({-16.5, 179.995});
  const LatLon east = f.ToWgs84({2000, 100});
  EXPECT_LT(east.lon, -179.9);  // wrapped into [-180, 180]
  const Vec2 back = f.ToLocal(east);
  EXPECT_NEAR(back.x, 2000, 1e-6);
  EXPECT_NEAR(back.y, 100, 1e-6);
  const Vec2 p = f.ToLocal({-16.5, -179.995});
  EXPECT_NEAR(p.x, 2 * 0.005 * 111'320 * std::cos(16.5 * std::numbers::pi / 180), 5);
}

TEST(GeoFrameTransform, RotateThenTranslate) {
  const FrameTransform t{.dx = 10, .dy = -5, .dz = 1.5, .rotation_deg = 90};
  const Vec3 p = t.Apply({1, 0, 2});
  EXPECT_NEAR(p.x, 10, 1e-12);
  EXPECT_NEAR(p.y, -4, 1e-12);
  EXPECT_NEAR(p.z, 3.5, 1e-12);
  const Vec3 q = FrameTransform{.rotation_deg = 30}.Apply({2, 0, 0});
  EXPECT_NEAR(q.x, std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(q.y, 1, 1e-12);
  EXPECT_EQ(FrameTransform{}.Apply({1, 2, 3}), (Vec3{1, 2, 3}));
}

// --- GridIndex
// --------------------------------------------------------------------------

std::vector<std::uint32_t> BruteQuery(const std::vector<std::pair<std::uint32_t, Box>> &boxes,
                                      Vec2 p) {
  std::vector<std::uint32_t> ids;
  for (const auto &[id, b] : boxes) {
    if (b.Contains(p)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::uint32_t> BruteRadius(const std::vector<std::pair<std::uint32_t, Box>> &boxes,
                                       Vec2 p, double r) {
  std::vector<std::uint32_t> ids;
  for (const auto &[id, b] : boxes) {
    const double dx = std::max({b.min_x - p.x, 0.0, p.x - b.max_x});
    const double dy = std::max({b.min_y - p.y, 0.0, p.y - b.max_y});
    if (dx * dx + dy * dy <= r * r) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::uint32_t> Sorted(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void CheckAgainstBruteForce(const GridIndex &index,
                            const std::vector<std::pair<std::uint32_t, Box>> &boxes,
                            std::mt19937_64 &rng) {
  ASSERT_EQ(index.size(), boxes.size());
  std::uniform_real_distribution<double> coord(-1100, 1100);
  std::uniform_real_distribution<double> radius(0, 150);
  std::uniform_int_distribution<std::size_t> pick(0, boxes.size() - 1);
  std::size_t nonempty = 0;
  for (int i = 0; i < 10'000; ++i) {
    Vec2 p{coord(rng), coord(rng)};
    if (i % 10 == 0) {  // exactly on a box corner: boundaries are inclusive
      const Box &b = boxes[pick(rng)].second;
      p = i % 20 == 0 ? Vec2{b.max_x, b.max_y} : Vec2{b.min_x, b.min_y};
    }
    std::vector<std::uint32_t> got;
    index.Query(p, got);
    const std::vector<std::uint32_t> want = BruteQuery(boxes, p);
    ASSERT_EQ(Sorted(got), want) << "point " << p.x << "," << p.y;  // also no duplicates
    nonempty += want.empty() ? 0 : 1;
    if (i % 5 == 0) {
      const double r = radius(rng);
      std::vector<std::uint32_t> near{999'999};  // existing content is kept
      index.QueryRadius(p, r, near);
      ASSERT_FALSE(near.empty());
      EXPECT_EQ(near.front(), 999'999u);
      near.erase(near.begin());
      EXPECT_TRUE(std::is_sorted(near.begin(), near.end()));
      ASSERT_EQ(near, BruteRadius(boxes, p, r)) << "point " << p.x << "," << p.y << " r " << r;
    }
  }
  EXPECT_GT(nonempty, 1000u);  // the test exercises hits, not just misses
}

TEST(GeoGridIndex, MatchesBruteForce) {
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> pos(-1000, 1000);
  std::uniform_real_distribution<double> unit(0, 1);
  GridIndex index(32,
                  64);  // 64 cells: the few site-wide boxes go on the large list
  std::vector<std::pair<std::uint32_t, Box>> boxes;
  for (std::uint32_t id = 0; id < 2000; ++id) {
    const double u = unit(rng);
    const double max_size = u < 0.9 ? 50 : (u < 0.99 ? 400 : 3000);
    const double x = pos(rng), y = pos(rng);
    const Box b{x, y, x + unit(rng) * max_size, y + unit(rng) * max_size};
    boxes.emplace_back(id * 7 + 3, b);  // sparse ids
    index.Insert(id * 7 + 3, b);
  }
  CheckAgainstBruteForce(index, boxes, rng);

  // Remove a third, move another third (re-Insert replaces), then check again.
  std::vector<std::pair<std::uint32_t, Box>> kept;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    auto [id, b] = boxes[i];
    if (i % 3 == 0) {
      index.Remove(id);
      continue;
    }
    if (i % 3 == 1) {
      const double x = pos(rng), y = pos(rng);
      b = Box{x, y, x + unit(rng) * (i % 50 == 1 ? 5000 : 60), y + unit(rng) * 60};
      index.Insert(id, b);
    }
    kept.emplace_back(id, b);
  }
  index.Remove(123'456'789);  // unknown: no-op
  CheckAgainstBruteForce(index, kept, rng);
}

TEST(GeoGridIndex, LargeEntriesRemoveAndReinsert) {
  GridIndex index(10, 16);
  const Box site{-5000, -5000, 5000, 5000};  // far more than 16 cells
  index.Insert(1, site);
  index.Insert(2, {0, 0, 5, 5});
  index.Insert(3, {-20, -20, -15, -15});  // negative cells
  std::vector<std::uint32_t> out;
  index.Query({1, 1}, out);
  EXPECT_EQ(Sorted(out), (std::vector<std::uint32_t>{1, 2}));
  out.clear();
  index.Query({-17, -17}, out);
  EXPECT_EQ(Sorted(out), (std::vector<std::uint32_t>{1, 3}));
  out.clear();
  index.Query({6000, 0}, out);
  EXPECT_TRUE(out.empty());

  // A large entry shrunk to a small one moves off the large list, and back.
  index.Insert(1, {100, 100, 101, 101});
  EXPECT_EQ(index.size(), 3u);
  out.clear();
  index.Query({1, 1}, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{2}));
  out.clear();
  index.Query({100.5, 100.5}, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{1}));
  index.Insert(2, site);
  out.clear();
  index.Query({1, 1}, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{2}));
  out.clear();
  index.QueryRadius({102, 102}, 2, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{1, 2}));

  index.Remove(2);
  index.Remove(2);
  EXPECT_EQ(index.size(), 2u);
  out.clear();
  index.Query({1, 1}, out);
  EXPECT_TRUE(out.empty());
  index.Remove(1);
  index.Remove(3);
  EXPECT_EQ(index.size(), 0u);
  out.clear();
  index.QueryRadius({0, 0}, 1e6, out);
  EXPECT_TRUE(out.empty());
}

TEST(GeoGridIndex, CellBordersAndOddInputs) {
  GridIndex index(32, 4096);
  index.Insert(7, {0, 0, 32, 32});  // ends exactly on a cell border
  std::vector<std::uint32_t> out;
  index.Query({32, 32}, out);
  index.Query({0, 0}, out);
  index.Query({-0.0, 32}, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{7, 7, 7}));
  out.clear();
  index.Query({32.001, 0}, out);
  index.Query({kNaN, 1}, out);
  EXPECT_TRUE(out.empty());
  index.QueryRadius({40, 16}, -1, out);
  index.QueryRadius({40, 16}, kNaN, out);
  EXPECT_TRUE(out.empty());
  index.QueryRadius({40, 16}, 8, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{7}));
  // A non-finite box is kept (size counts it) but matches nothing and removes
  // cleanly.
  index.Insert(8, {kNaN, 0, 1, 1});
  EXPECT_EQ(index.size(), 2u);
  out.clear();
  index.Query({0.5, 0.5}, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{7}));
  index.Remove(8);
  EXPECT_EQ(index.size(), 1u);
  // Huge but finite coordinates do not overflow the cell arithmetic.
  index.Insert(9, {1e300, 1e300, 1e300, 1e300});
  out.clear();
  index.Query({1e300, 1e300}, out);
  EXPECT_EQ(out, (std::vector<std::uint32_t>{9}));
}

}  // namespace
}  // namespace wg::presence

namespace wg::presence {
namespace {

TEST(GeoValidate, TotalVerticesAcrossRingsAreCapped) {
  // 5 holes of 1,000 vertices each inside a big square: every ring is legal on its own,
  // together they exceed kMaxAreaVertices (and would make validation quadratic).
  Area a;
  a.outer = {{0, 0}, {10000, 0}, {10000, 10000}, {0, 10000}};
  for (int h = 0; h < 5; ++h) {
    a.holes.push_back(CircleRing({1000.0 + 1500.0 * h, 5000}, 400, 1000));
  }
  auto s = ValidateArea(a, "area");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "area");
  EXPECT_NE(s.message().find("4096"), std::string::npos) << s.message();
  a.holes.resize(4);  // 4,004 vertices: fine
  EXPECT_TRUE(ValidateArea(a, "area").ok()) << ValidateArea(a, "area").ToString();
}

}  // namespace
}  // namespace wg::presence

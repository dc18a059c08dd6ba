// OpenPermitIndex and the cross-work (SIMOPS) matrix (conflict.h).
//
// Layout: organization -> site -> uniform grid of `cell_m` cells. A permit is filed under
// every cell its bounding box (fence, or point when it has no fence) touches, so a query
// for "everything within r of this fence" visits the cells of the query box only; a permit
// seen in several of those cells is reported once, from the first cell of the overlap of
// its cell range with the query range (no visited-set, so const queries stay free of
// shared mutable state and may run concurrently). A permit whose box would touch more than
// kMaxCellsPerEntry cells (a fence around a whole unit) goes to the site's `large` list,
// which every query examines; a query box wider than the site's population scans the site.
// Relations that are not distance-bounded (same pipeline, same confined space, same zone)
// use per-site hash maps, so "two blind-plate jobs on one pipeline" is found anywhere on the
// site without a scan.

#include "wg/permit/conflict.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wg::permit {

namespace {

constexpr double kDefaultCellM = 50.0;
// Beyond this many cells a permit's box is kept in the site's `large` list.
constexpr std::int64_t kMaxCellsPerEntry = 64;
constexpr std::int64_t kCellIndexLimit = std::int64_t{1} << 30;

// Heterogeneous lookup so string_view keys need no temporary std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct CellHash {
  std::size_t operator()(std::uint64_t k) const {
    // splitmix64 finalizer: packed (ix, iy) keys are far from uniform.
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return static_cast<std::size_t>(k);
  }
};

struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// Distance between two boxes (0 when they overlap).
double BoxDistance(const Box& a, const Box& b) {
  const double dx = std::max({0.0, a.x0 - b.x1, b.x0 - a.x1});
  const double dy = std::max({0.0, a.y0 - b.y1, b.y0 - a.y1});
  return std::hypot(dx, dy);
}

// The shape a permit occupies: its fence when it has one, else its work point.
std::vector<Point> ShapeOf(const OpenPermit& p) {
  if (p.fence.empty()) return {p.point};
  return p.fence;
}

Box BoxOf(const std::vector<Point>& shape) {
  Box b{shape[0].x, shape[0].y, shape[0].x, shape[0].y};
  for (const Point& q : shape) {
    b.x0 = std::min(b.x0, q.x);
    b.y0 = std::min(b.y0, q.y);
    b.x1 = std::max(b.x1, q.x);
    b.y1 = std::max(b.y1, q.y);
  }
  return b;
}

bool BoxFinite(const Box& b) {
  return std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) &&
         std::isfinite(b.y1);
}

double Cross(const Point& o, const Point& a, const Point& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

double PointSegmentDistance(const Point& p, const Point& a, const Point& b) {
  const double vx = b.x - a.x, vy = b.y - a.y;
  const double len2 = vx * vx + vy * vy;
  double t = 0;
  if (len2 > 0) t = std::clamp(((p.x - a.x) * vx + (p.y - a.y) * vy) / len2, 0.0, 1.0);
  return std::hypot(p.x - (a.x + t * vx), p.y - (a.y + t * vy));
}

bool SegmentsCross(const Point& a, const Point& b, const Point& c, const Point& d) {
  const double d1 = Cross(c, d, a), d2 = Cross(c, d, b);
  const double d3 = Cross(a, b, c), d4 = Cross(a, b, d);
  // Proper crossings only; touching and collinear overlaps have a zero endpoint distance.
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

double SegmentDistance(const Point& a, const Point& b, const Point& c, const Point& d) {
  if (SegmentsCross(a, b, c, d)) return 0;
  return std::min({PointSegmentDistance(a, c, d), PointSegmentDistance(b, c, d),
                   PointSegmentDistance(c, a, b), PointSegmentDistance(d, a, b)});
}

// Even-odd ray casting; only meaningful for a polygon (≥ 3 vertices).
bool InsidePolygon(const Point& p, const std::vector<Point>& poly) {
  bool inside = false;
  for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const Point& a = poly[i];
    const Point& b = poly[j];
    if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) {
      inside = !inside;
    }
  }
  return inside;
}

// Minimum distance between two shapes: polygons (≥ 3 vertices, filled), polylines
// (2 vertices, a malformed fence) or points; 0 when they touch, cross or nest.
double ShapeDistance(const std::vector<Point>& a, const std::vector<Point>& b) {
  if (a.size() >= 3 && InsidePolygon(b[0], a)) return 0;
  if (b.size() >= 3 && InsidePolygon(a[0], b)) return 0;
  double best = std::numeric_limits<double>::infinity();
  // Edges: a closed ring for a polygon, one (possibly degenerate) segment otherwise.
  const std::size_t na = a.size() >= 3 ? a.size() : 1;
  const std::size_t nb = b.size() >= 3 ? b.size() : 1;
  for (std::size_t i = 0; i < na; ++i) {
    const Point& a0 = a[i];
    const Point& a1 = a[(i + 1) % a.size()];
    for (std::size_t j = 0; j < nb; ++j) {
      const Point& b0 = b[j];
      const Point& b1 = b[(j + 1) % b.size()];
      best = std::min(best, SegmentDistance(a0, a1, b0, b1));
      if (best == 0) return 0;
    }
  }
  return best;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool MatchesSide(const ConflictSide& side, const OpenPermit& p) {
  if (!side.types.empty() &&
      std::find(side.types.begin(), side.types.end(), p.type) == side.types.end()) {
    return false;
  }
  if (!side.area_classes.empty() && !Contains(side.area_classes, p.area_class)) return false;
  if (!side.activities.empty()) {
    bool any = false;
    for (const std::string& a : side.activities) {
      if (Contains(p.activities, a)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

bool WindowsOverlap(const OpenPermit& a, const OpenPermit& b) {
  return a.start < b.end && b.start < a.end;
}

std::string FormatMetres(double v) {
  char buf[32];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e9) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  }
  return buf;
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos;
       pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

std::string FillTemplate(std::string text, const std::string& other, const std::string& distance,
                         const std::string& limit) {
  ReplaceAll(text, "{other}", other);
  ReplaceAll(text, "{distance}", distance);
  ReplaceAll(text, "{limit}", limit);
  return text;
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

// --- OpenPermit ---------------------------------------------------------------------

OpenPermit OpenPermit::From(const Permit& p) {
  OpenPermit o;
  o.id = p.id;
  o.number = p.number;
  o.org = p.org;
  o.site = p.site;
  o.type = p.type;
  o.grade = p.grade;
  o.state = p.state;
  o.zone = p.location.zone;
  o.area_class = p.location.area_class;
  o.point = p.location.point;
  o.elevation_m = p.location.elevation_m;
  o.fence = p.location.fence;
  o.start = p.planned_start;
  o.end = p.planned_end;
  o.activities = p.activities;
  // Activities the type implies, so the matrix can name them whatever the tags say.
  switch (p.type) {
    case PermitType::kHotWork:
      o.activities.emplace_back("hot_work");
      if (p.hot_work) {
        const std::string& m = p.hot_work->method;
        if (m == "welding" || m == "cutting" || m == "grinding") o.activities.push_back(m);
      }
      break;
    case PermitType::kConfinedSpace:
      o.activities.emplace_back("confined_entry");
      break;
    default:
      break;
  }
  o.activities = SortedUnique(std::move(o.activities));
  if (p.blind_plate) o.pipeline = p.blind_plate->pipeline;
  if (p.confined_space) o.space = p.confined_space->space_name;
  if (p.height) o.protective_layer = p.height->protective_layer;
  // The approval step of every signature chain is signed with role "approver" (the index
  // holds no rulebook to look the step up).
  for (const Signature& s : p.signatures) {
    if (s.role == "approver" && !s.username.empty()) o.approvers.push_back(s.username);
  }
  for (const Person& person : p.people) {
    if (person.role == "guardian" && !person.username.empty()) {
      o.guardians.push_back(person.username);
    }
  }
  o.approvers = SortedUnique(std::move(o.approvers));
  o.guardians = SortedUnique(std::move(o.guardians));
  return o;
}

// --- OpenPermitIndex ----------------------------------------------------------------

struct OpenPermitIndex::Impl {
  static constexpr std::size_t kNoPos = static_cast<std::size_t>(-1);

  struct Entry {
    OpenPermit p;
    std::vector<Point> shape;  // fence, or the point
    Box box;
    bool large = false;        // kept in Site::large instead of the grid
    std::int64_t cx0 = 0, cy0 = 0, cx1 = 0, cy1 = 0;  // cell range (inclusive)
    std::size_t site_pos = kNoPos;   // index in Site::all
    std::size_t large_pos = kNoPos;  // index in Site::large
    // Deduplicated usernames, as counted.
    std::vector<std::string> approvers;
    std::vector<std::string> guardians;
  };

  struct Site {
    std::unordered_map<std::uint64_t, std::vector<Entry*>, CellHash> cells;
    std::vector<Entry*> all;
    std::vector<Entry*> large;
    StringMap<std::vector<Entry*>> by_pipeline;
    StringMap<std::vector<Entry*>> by_space;
    StringMap<std::vector<Entry*>> by_zone;
  };

  struct Org {
    std::unordered_map<std::int64_t, std::unique_ptr<Entry>> by_id;
    StringMap<Entry*> by_number;
    StringMap<Site> sites;
    StringMap<int> approved;
    StringMap<int> guarded;
  };

  explicit Impl(double cell) : cell_m(cell) {}

  double cell_m;
  StringMap<Org> orgs;
  std::size_t count = 0;

  static std::uint64_t CellKey(std::int64_t ix, std::int64_t iy) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(ix)) << 32) |
           static_cast<std::uint32_t>(iy);
  }

  std::int64_t CellIndex(double v) const {
    const double c = std::floor(v / cell_m);
    return static_cast<std::int64_t>(
        std::clamp(c, -static_cast<double>(kCellIndexLimit), static_cast<double>(kCellIndexLimit)));
  }

  static void EraseFrom(std::vector<Entry*>& v, const Entry* e) {
    auto it = std::find(v.begin(), v.end(), e);
    if (it == v.end()) return;
    *it = v.back();
    v.pop_back();
  }

  static void EraseKeyed(StringMap<std::vector<Entry*>>& m, const std::string& key,
                         const Entry* e) {
    if (key.empty()) return;
    auto it = m.find(key);
    if (it == m.end()) return;
    EraseFrom(it->second, e);
    if (it->second.empty()) m.erase(it);
  }

  static void Bump(StringMap<int>& m, const std::string& user, int delta) {
    auto it = m.find(user);
    if (it == m.end()) {
      if (delta > 0) m.emplace(user, delta);
      return;
    }
    it->second += delta;
    if (it->second <= 0) m.erase(it);
  }

  void Link(Org& org, Entry* e) {
    Site& site = org.sites[e->p.site];
    e->shape = ShapeOf(e->p);
    e->box = BoxOf(e->shape);
    e->site_pos = site.all.size();
    site.all.push_back(e);
    e->large = false;
    e->large_pos = kNoPos;
    if (BoxFinite(e->box)) {
      e->cx0 = CellIndex(e->box.x0);
      e->cy0 = CellIndex(e->box.y0);
      e->cx1 = CellIndex(e->box.x1);
      e->cy1 = CellIndex(e->box.y1);
      e->large = (e->cx1 - e->cx0 + 1) * (e->cy1 - e->cy0 + 1) > kMaxCellsPerEntry;
    } else {
      e->large = true;  // not placeable; examined by every query of the site
    }
    if (e->large) {
      e->large_pos = site.large.size();
      site.large.push_back(e);
    } else {
      for (std::int64_t ix = e->cx0; ix <= e->cx1; ++ix) {
        for (std::int64_t iy = e->cy0; iy <= e->cy1; ++iy) site.cells[CellKey(ix, iy)].push_back(e);
      }
    }
    if (!e->p.pipeline.empty()) site.by_pipeline[e->p.pipeline].push_back(e);
    if (!e->p.space.empty()) site.by_space[e->p.space].push_back(e);
    if (!e->p.zone.empty()) site.by_zone[e->p.zone].push_back(e);
    if (!e->p.number.empty()) org.by_number[e->p.number] = e;
    e->approvers = SortedUnique(e->p.approvers);
    e->guardians = SortedUnique(e->p.guardians);
    for (const std::string& u : e->approvers) Bump(org.approved, u, 1);
    for (const std::string& u : e->guardians) Bump(org.guarded, u, 1);
  }

  void Unlink(Org& org, Entry* e) {
    for (const std::string& u : e->approvers) Bump(org.approved, u, -1);
    for (const std::string& u : e->guardians) Bump(org.guarded, u, -1);
    if (!e->p.number.empty()) {
      auto it = org.by_number.find(e->p.number);
      if (it != org.by_number.end() && it->second == e) org.by_number.erase(it);
    }
    auto sit = org.sites.find(e->p.site);
    if (sit == org.sites.end()) return;
    Site& site = sit->second;
    if (e->large) {
      Entry* last = site.large.back();
      site.large[e->large_pos] = last;
      last->large_pos = e->large_pos;
      site.large.pop_back();
    } else {
      for (std::int64_t ix = e->cx0; ix <= e->cx1; ++ix) {
        for (std::int64_t iy = e->cy0; iy <= e->cy1; ++iy) {
          auto cit = site.cells.find(CellKey(ix, iy));
          if (cit == site.cells.end()) continue;
          EraseFrom(cit->second, e);
          if (cit->second.empty()) site.cells.erase(cit);
        }
      }
    }
    {
      Entry* last = site.all.back();
      site.all[e->site_pos] = last;
      last->site_pos = e->site_pos;
      site.all.pop_back();
    }
    EraseKeyed(site.by_pipeline, e->p.pipeline, e);
    EraseKeyed(site.by_space, e->p.space, e);
    EraseKeyed(site.by_zone, e->p.zone, e);
    if (site.all.empty()) org.sites.erase(sit);
  }

  const Site* FindSite(std::string_view org, std::string_view site) const {
    auto oit = orgs.find(org);
    if (oit == orgs.end()) return nullptr;
    auto sit = oit->second.sites.find(site);
    if (sit == oit->second.sites.end()) return nullptr;
    return &sit->second;
  }

  // Every entry of `site` whose box lies within `radius` of `q` (box test only), each
  // once, appended to `out`.
  void Gather(const Site& site, const Box& q, double radius, std::vector<const Entry*>& out) const {
    const Box g{q.x0 - radius, q.y0 - radius, q.x1 + radius, q.y1 + radius};
    bool scan = !BoxFinite(g) || !std::isfinite(radius);
    std::int64_t qx0 = 0, qy0 = 0, qx1 = 0, qy1 = 0;
    if (!scan) {
      qx0 = CellIndex(g.x0);
      qy0 = CellIndex(g.y0);
      qx1 = CellIndex(g.x1);
      qy1 = CellIndex(g.y1);
      // A cell lookup costs a few box tests; past that, scan the site.
      const double cells = static_cast<double>(qx1 - qx0 + 1) * static_cast<double>(qy1 - qy0 + 1);
      scan = cells * 4 > static_cast<double>(site.all.size());
    }
    if (scan) {
      for (const Entry* e : site.all) {
        if (BoxDistance(e->box, q) <= radius) out.push_back(e);
      }
      return;
    }
    for (const Entry* e : site.large) {
      if (BoxDistance(e->box, q) <= radius) out.push_back(e);
    }
    for (std::int64_t ix = qx0; ix <= qx1; ++ix) {
      for (std::int64_t iy = qy0; iy <= qy1; ++iy) {
        auto cit = site.cells.find(CellKey(ix, iy));
        if (cit == site.cells.end()) continue;
        for (const Entry* e : cit->second) {
          // Report an entry from the first cell its range shares with the query range.
          if (ix != std::max(e->cx0, qx0) || iy != std::max(e->cy0, qy0)) continue;
          if (BoxDistance(e->box, q) <= radius) out.push_back(e);
        }
      }
    }
  }
};

OpenPermitIndex::OpenPermitIndex(double cell_m)
    : impl_(std::make_unique<Impl>(std::isfinite(cell_m) && cell_m > 0 ? cell_m
                                                                         : kDefaultCellM)) {}
OpenPermitIndex::~OpenPermitIndex() = default;
OpenPermitIndex::OpenPermitIndex(OpenPermitIndex&&) noexcept = default;
OpenPermitIndex& OpenPermitIndex::operator=(OpenPermitIndex&&) noexcept = default;

void OpenPermitIndex::Upsert(const OpenPermit& p) {
  if (!IsOpen(p.state)) {
    Remove(p.org, p.id);
    return;
  }
  if (!impl_) impl_ = std::make_unique<Impl>(kDefaultCellM);
  Impl::Org& org = impl_->orgs[p.org];
  auto& slot = org.by_id[p.id];
  if (slot) {
    impl_->Unlink(org, slot.get());
  } else {
    slot = std::make_unique<Impl::Entry>();
    ++impl_->count;
  }
  slot->p = p;
  impl_->Link(org, slot.get());
}

void OpenPermitIndex::Remove(std::string_view org, std::int64_t id) {
  if (!impl_) return;
  auto oit = impl_->orgs.find(org);
  if (oit == impl_->orgs.end()) return;
  Impl::Org& o = oit->second;
  auto it = o.by_id.find(id);
  if (it == o.by_id.end()) return;
  impl_->Unlink(o, it->second.get());
  o.by_id.erase(it);
  --impl_->count;
  if (o.by_id.empty()) impl_->orgs.erase(oit);
}

std::size_t OpenPermitIndex::size() const { return impl_ ? impl_->count : 0; }

const OpenPermit* OpenPermitIndex::Find(std::string_view org, std::int64_t id) const {
  if (!impl_) return nullptr;
  auto oit = impl_->orgs.find(org);
  if (oit == impl_->orgs.end()) return nullptr;
  auto it = oit->second.by_id.find(id);
  return it == oit->second.by_id.end() ? nullptr : &it->second->p;
}

const OpenPermit* OpenPermitIndex::FindByNumber(std::string_view org,
                                                std::string_view number) const {
  if (!impl_) return nullptr;
  auto oit = impl_->orgs.find(org);
  if (oit == impl_->orgs.end()) return nullptr;
  auto it = oit->second.by_number.find(number);
  return it == oit->second.by_number.end() ? nullptr : &it->second->p;
}

std::vector<const OpenPermit*> OpenPermitIndex::Near(std::string_view org, std::string_view site,
                                                     const OpenPermit& candidate,
                                                     double radius_m) const {
  std::vector<const OpenPermit*> result;
  if (!impl_ || !(radius_m >= 0)) return result;
  const Impl::Site* s = impl_->FindSite(org, site);
  if (s == nullptr) return result;
  const std::vector<Point> shape = ShapeOf(candidate);
  const Box box = BoxOf(shape);
  std::vector<const Impl::Entry*> found;
  impl_->Gather(*s, box, radius_m, found);
  for (const Impl::Entry* e : found) {
    if (e->p.id == candidate.id && e->p.org == candidate.org) continue;
    if (!WindowsOverlap(candidate, e->p)) continue;
    if (ShapeDistance(shape, e->shape) <= radius_m) result.push_back(&e->p);
  }
  return result;
}

int OpenPermitIndex::OpenApprovedBy(std::string_view org, std::string_view username) const {
  if (!impl_) return 0;
  auto oit = impl_->orgs.find(org);
  if (oit == impl_->orgs.end()) return 0;
  auto it = oit->second.approved.find(username);
  return it == oit->second.approved.end() ? 0 : it->second;
}

int OpenPermitIndex::OpenGuardedBy(std::string_view org, std::string_view username,
                                   std::int64_t exclude_id) const {
  if (!impl_) return 0;
  auto oit = impl_->orgs.find(org);
  if (oit == impl_->orgs.end()) return 0;
  auto it = oit->second.guarded.find(username);
  if (it == oit->second.guarded.end()) return 0;
  int n = it->second;
  if (exclude_id != 0) {
    auto eit = oit->second.by_id.find(exclude_id);
    if (eit != oit->second.by_id.end() &&
        std::binary_search(eit->second->guardians.begin(), eit->second->guardians.end(),
                           username)) {
      --n;
    }
  }
  return n;
}

std::vector<Violation> OpenPermitIndex::Conflicts(const PermitRulebook& book,
                                                  const OpenPermit& candidate,
                                                  std::size_t* examined) const {
  using Entry = Impl::Entry;
  std::vector<Violation> out;
  if (examined != nullptr) *examined = 0;
  if (!impl_) return out;
  const Impl::Site* site = impl_->FindSite(candidate.org, candidate.site);
  if (site == nullptr) return out;

  // The rules the candidate takes part in, and on which side.
  struct Applicable {
    const ConflictRule* rule;
    bool cand_a;  // candidate matches a: the other must match b
    bool cand_b;
  };
  std::vector<Applicable> rules;
  double radius = -1;
  bool by_pipeline = false, by_space = false, by_zone = false, whole_site = false;
  for (const ConflictRule& r : book.conflicts()) {
    const bool ma = MatchesSide(r.a, candidate);
    const bool mb = MatchesSide(r.b, candidate);
    if (!ma && !mb) continue;
    if (r.relation == "same_pipeline" && candidate.pipeline.empty()) continue;
    if (r.relation == "same_space" && candidate.space.empty()) continue;
    if (r.relation == "same_zone" && candidate.zone.empty()) continue;
    rules.push_back({&r, ma, mb});
    // Where the others can be: the narrowest source that holds every possible match.
    if (r.within_m) {
      radius = std::max(radius, std::max(0.0, *r.within_m));
    } else if (r.relation == "same_pipeline") {
      by_pipeline = true;
    } else if (r.relation == "same_space") {
      by_space = true;
    } else if (r.relation == "same_zone") {
      by_zone = true;
    } else if (r.relation == "fall_line") {
      radius = std::max(radius, 0.0);  // no radius given: the fences must meet
    } else {
      whole_site = true;
    }
  }
  if (rules.empty()) return out;

  const std::vector<Point> shape = ShapeOf(candidate);
  const Box box = BoxOf(shape);
  std::vector<const Entry*> others;
  if (whole_site) {
    others.assign(site->all.begin(), site->all.end());
  } else {
    int sources = 0;
    auto add_keyed = [&](const StringMap<std::vector<Entry*>>& m, const std::string& key) {
      auto it = m.find(key);
      if (it == m.end()) return;
      others.insert(others.end(), it->second.begin(), it->second.end());
      ++sources;
    };
    if (radius >= 0) {
      impl_->Gather(*site, box, radius, others);
      ++sources;
    }
    if (by_pipeline) add_keyed(site->by_pipeline, candidate.pipeline);
    if (by_space) add_keyed(site->by_space, candidate.space);
    if (by_zone) add_keyed(site->by_zone, candidate.zone);
    if (sources > 1) {
      std::sort(others.begin(), others.end());
      others.erase(std::unique(others.begin(), others.end()), others.end());
    }
  }

  std::size_t count = 0;
  for (const Entry* e : others) {
    const OpenPermit& other = e->p;
    if (other.id == candidate.id) continue;  // the permit itself, re-checked while open
    if (!WindowsOverlap(candidate, other)) continue;
    ++count;
    double distance = -1;  // computed on first need
    auto dist = [&]() {
      if (distance < 0) distance = ShapeDistance(shape, e->shape);
      return distance;
    };
    for (const Applicable& ap : rules) {
      const ConflictRule& r = *ap.rule;
      if (!((ap.cand_a && MatchesSide(r.b, other)) || (ap.cand_b && MatchesSide(r.a, other)))) {
        continue;
      }
      if (r.relation == "same_pipeline") {
        if (other.pipeline != candidate.pipeline) continue;
      } else if (r.relation == "same_space") {
        if (other.space != candidate.space) continue;
      } else if (r.relation == "same_zone") {
        if (other.zone != candidate.zone) continue;
      } else if (r.relation == "fall_line") {
        if (candidate.elevation_m == other.elevation_m) continue;
        const OpenPermit& upper =
            candidate.elevation_m > other.elevation_m ? candidate : other;
        if (r.unless == "protective_layer" && upper.protective_layer) continue;
        if (dist() > r.within_m.value_or(0.0)) continue;
      }
      if (r.within_m && r.relation != "fall_line" && dist() > *r.within_m) continue;

      Violation v;
      v.rule = r.id;
      v.clause = r.clause;
      v.severity = r.severity;
      v.field = "location";
      v.related = other.number;
      const std::string limit = r.within_m ? FormatMetres(*r.within_m) : std::string();
      const bool wants_distance = r.message_en.find("{distance}") != std::string::npos ||
                                  r.message_zh.find("{distance}") != std::string::npos;
      std::string shown;
      if (wants_distance) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", dist());
        shown = buf;
      }
      v.message = FillTemplate(r.message_en, other.number, shown, limit);
      v.message_zh = FillTemplate(r.message_zh, other.number, shown, limit);
      out.push_back(std::move(v));
    }
  }
  if (examined != nullptr) *examined = count;
  // Stable order whatever the grid's: blocks first, then by other permit and rule.
  std::sort(out.begin(), out.end(), [](const Violation& x, const Violation& y) {
    return std::tie(x.severity, x.related, x.rule) < std::tie(y.severity, y.related, y.rule);
  });
  return out;
}

}  // namespace wg::permit

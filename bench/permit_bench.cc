// Google Benchmark figures for the permit checker with the cross-work (SIMOPS) index
// (wg_permit):
//   BM_CheckRulebookOnly      Check() of a realistic grade-1 hot-work permit
//                             (docs/examples/permits/hot_work.json) without conflicts: the
//                             floor every check pays.
//   BM_CheckSite/indexed      the full Check() (rulebook + conflict matrix through the
//                             OpenPermitIndex) against 1,000 open permits on its site
//                             (random types, positions in 1 km², windows around the check
//                             time); BM_CheckSite/naive: the same rulebook Check() plus a
//                             linear scan of the site's 1,000 permits applying the same matrix.
//   BM_CheckProvince/...      the same against 100,000 open permits across 2,000 sites
//                             (400 organizations × 5 sites); the naive scan walks all 100,000.
//   BM_IndexUpsert            replacing a permit (moved, new window) in the 100,000 index.
//   BM_IndexBuild             inserting 100,000 permits into an empty index.
// Each check benchmark times every call and reports p50/p90/p99/p99.9 (µs) as counters;
// after the run a summary prints naive / indexed ratios. No Directory: people and
// authority rules are skipped in every variant alike. See bench/README.md.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "wg/permit/check.h"
#include "wg/permit/conflict.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"

namespace {

using wg::core::Duration;
using wg::core::Timestamp;
using wg::permit::Check;
using wg::permit::CheckOptions;
using wg::permit::ConflictRule;
using wg::permit::ConflictSide;
using wg::permit::Decision;
using wg::permit::OpenPermit;
using wg::permit::OpenPermitIndex;
using wg::permit::Permit;
using wg::permit::PermitRulebook;
using wg::permit::PermitType;
using wg::permit::Point;
using wg::permit::State;
using wg::permit::Violation;

constexpr double kSiteSide = 1000.0;  // 1 km²
constexpr int kChecks = 4096;         // distinct candidate positions, cycled

const PermitRulebook& Book() {
  static const PermitRulebook book = [] {
    auto b = PermitRulebook::LoadEmbedded();
    if (!b.has_value()) {
      std::fprintf(stderr, "rulebook: %s\n", b.error().message().c_str());
      std::abort();
    }
    return std::move(*b);
  }();
  return book;
}

Timestamp CheckTime() { return Timestamp::FromSeconds(1'796'000'000); }  // 2026-12-01

// The example document (grade-1 hot work on a pipe rack, people, measures, gas, signatures).
Permit ExamplePermit() {
  std::ifstream in(std::string(WG_SOURCE_DIR) + "/docs/examples/permits/hot_work.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = wg::permit::ParsePermitText(ss.str());
  if (!parsed.has_value()) {
    std::fprintf(stderr, "docs/examples/permits/hot_work.json: %s (%s)\n",
                 parsed.error().message().c_str(), parsed.error().field().c_str());
    std::abort();
  }
  Permit p = std::move(*parsed);
  p.id = 900'000'000;
  p.number = "DH-BENCH-0001";
  p.org = "org0";
  p.site = "site0";
  p.state = State::kPendingSignatures;
  const Duration len = p.planned_end - p.planned_start;
  p.planned_start = CheckTime() + Duration::Minutes(30);
  p.planned_end = p.planned_start + len;
  return p;
}

// A check candidate: the example moved to a random place on its site.
std::vector<Permit> Candidates(const std::vector<std::pair<std::string, std::string>>& sites,
                               std::uint64_t seed) {
  const Permit base = ExamplePermit();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> pos(0, kSiteSide);
  std::uniform_int_distribution<std::size_t> pick(0, sites.size() - 1);
  std::vector<Permit> out;
  for (int i = 0; i < kChecks; ++i) {
    Permit p = base;
    const auto& [org, site] = sites[pick(rng)];
    p.org = org;
    p.site = site;
    const double dx = pos(rng) - p.location.point.x;
    const double dy = pos(rng) - p.location.point.y;
    p.location.point.x += dx;
    p.location.point.y += dy;
    for (Point& q : p.location.fence) {
      q.x += dx;
      q.y += dy;
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Open permits with the mix the matrix cares about.
OpenPermit RandomOpen(std::mt19937_64& rng, std::int64_t id, const std::string& org,
                      const std::string& site) {
  static const char* const kTags[] = {"painting", "solvent_cleaning", "venting", "draining",
                                      "dust_sweeping", "sampling"};
  static const char* const kAreas[] = {"general", "fire_explosion_hazard", "pipe_rack",
                                       "hazardous_area", "major_hazard_tank_dike"};
  std::uniform_real_distribution<double> pos(0, kSiteSide);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> type(0, wg::permit::kPermitTypeCount - 1);
  OpenPermit p;
  p.id = id;
  p.number = "P-" + std::to_string(id);
  p.org = org;
  p.site = site;
  p.type = static_cast<PermitType>(type(rng));
  p.state = unit(rng) < 0.5 ? State::kActive : State::kApproved;
  p.zone = "U-" + std::to_string(static_cast<int>(unit(rng) * 20));
  p.area_class = kAreas[static_cast<int>(unit(rng) * 5)];
  p.point = {pos(rng), pos(rng)};
  if (unit(rng) < 0.4) {
    const double w = 5 + unit(rng) * 35, h = 5 + unit(rng) * 35;
    p.fence = {{p.point.x - w / 2, p.point.y - h / 2},
               {p.point.x + w / 2, p.point.y - h / 2},
               {p.point.x + w / 2, p.point.y + h / 2},
               {p.point.x - w / 2, p.point.y + h / 2}};
  }
  // Windows around the check time: started up to 12 h before, 1..12 h long.
  p.start = CheckTime() - Duration::Minutes(static_cast<std::int64_t>(unit(rng) * 720));
  p.end = p.start + Duration::Minutes(60 + static_cast<std::int64_t>(unit(rng) * 660));
  if (unit(rng) < 0.15) p.activities.emplace_back(kTags[static_cast<int>(unit(rng) * 6)]);
  switch (p.type) {
    case PermitType::kHotWork:
      p.activities.emplace_back("hot_work");
      p.activities.emplace_back("welding");
      break;
    case PermitType::kConfinedSpace:
      p.space = "V-" + std::to_string(static_cast<int>(unit(rng) * 100));
      p.activities.emplace_back("confined_entry");
      break;
    case PermitType::kBlindPlate:
      p.pipeline = "L-" + std::to_string(static_cast<int>(unit(rng) * 300));
      break;
    case PermitType::kHeight:
      p.elevation_m = 2 + unit(rng) * 40;
      p.protective_layer = unit(rng) < 0.5;
      break;
    default:
      break;
  }
  std::sort(p.activities.begin(), p.activities.end());
  p.approvers = {"approver" + std::to_string(static_cast<int>(unit(rng) * 50))};
  p.guardians = {"guardian" + std::to_string(id)};
  return p;
}

struct World {
  std::vector<std::pair<std::string, std::string>> sites;
  std::vector<OpenPermit> open;  // what the naive scan walks
  OpenPermitIndex index;
  std::vector<Permit> candidates;
};

World MakeWorld(int orgs, int sites_per_org, int per_site, std::uint64_t seed) {
  World w;
  std::mt19937_64 rng(seed);
  std::int64_t id = 1;
  for (int o = 0; o < orgs; ++o) {
    for (int s = 0; s < sites_per_org; ++s) {
      const std::string org = "org" + std::to_string(o);
      const std::string site = "site" + std::to_string(s);
      w.sites.emplace_back(org, site);
      for (int i = 0; i < per_site; ++i) w.open.push_back(RandomOpen(rng, id++, org, site));
    }
  }
  for (const OpenPermit& p : w.open) w.index.Upsert(p);
  w.candidates = Candidates(w.sites, seed + 1);
  return w;
}

// --- the naive baseline: the same matrix, one permit after another ----------------------

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool Matches(const ConflictSide& side, const OpenPermit& p) {
  if (!side.types.empty() &&
      std::find(side.types.begin(), side.types.end(), p.type) == side.types.end()) {
    return false;
  }
  if (!side.area_classes.empty() && !Has(side.area_classes, p.area_class)) return false;
  if (side.activities.empty()) return true;
  for (const std::string& a : side.activities) {
    if (Has(p.activities, a)) return true;
  }
  return false;
}

double SegDist(Point p, Point a, Point b) {
  const double vx = b.x - a.x, vy = b.y - a.y, l2 = vx * vx + vy * vy;
  const double t = l2 > 0 ? std::clamp(((p.x - a.x) * vx + (p.y - a.y) * vy) / l2, 0.0, 1.0) : 0;
  return std::hypot(p.x - a.x - t * vx, p.y - a.y - t * vy);
}

bool Inside(Point p, const std::vector<Point>& poly) {
  bool in = false;
  for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    if ((poly[i].y > p.y) != (poly[j].y > p.y) &&
        p.x < (poly[j].x - poly[i].x) * (p.y - poly[i].y) / (poly[j].y - poly[i].y) + poly[i].x) {
      in = !in;
    }
  }
  return in;
}

double Orient(Point o, Point a, Point b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Containment, edge crossings, then vertex-to-edge distances both ways.
double Distance(const OpenPermit& a, const OpenPermit& b) {
  const std::vector<Point> sa = a.fence.empty() ? std::vector<Point>{a.point} : a.fence;
  const std::vector<Point> sb = b.fence.empty() ? std::vector<Point>{b.point} : b.fence;
  if (sa.size() >= 3 && Inside(sb[0], sa)) return 0;
  if (sb.size() >= 3 && Inside(sa[0], sb)) return 0;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    const Point p = sa[i], q = sa[(i + 1) % sa.size()];
    for (std::size_t j = 0; j < sb.size(); ++j) {
      const Point r = sb[j], s = sb[(j + 1) % sb.size()];
      if (Orient(p, q, r) * Orient(p, q, s) < 0 && Orient(r, s, p) * Orient(r, s, q) < 0) return 0;
    }
  }
  double best = 1e300;
  for (int pass = 0; pass < 2; ++pass) {
    const auto& p = pass == 0 ? sa : sb;
    const auto& q = pass == 0 ? sb : sa;
    for (const Point& v : p) {
      for (std::size_t i = 0; i < q.size(); ++i) {
        best = std::min(best, SegDist(v, q[i], q[(i + 1) % q.size()]));
      }
    }
  }
  return best;
}

std::size_t NaiveConflicts(const PermitRulebook& book, const OpenPermit& c,
                           const std::vector<OpenPermit>& all, std::vector<Violation>& out) {
  std::size_t examined = 0;
  for (const OpenPermit& o : all) {
    if (o.org != c.org || o.site != c.site || o.id == c.id) continue;
    if (!(c.start < o.end && o.start < c.end)) continue;
    ++examined;
    double d = -1;
    for (const ConflictRule& r : book.conflicts()) {
      if (!((Matches(r.a, c) && Matches(r.b, o)) || (Matches(r.b, c) && Matches(r.a, o)))) {
        continue;
      }
      if (r.relation == "same_pipeline" && (c.pipeline.empty() || c.pipeline != o.pipeline)) {
        continue;
      }
      if (r.relation == "same_space" && (c.space.empty() || c.space != o.space)) continue;
      if (r.relation == "same_zone" && (c.zone.empty() || c.zone != o.zone)) continue;
      if (r.relation == "fall_line") {
        if (c.elevation_m == o.elevation_m) continue;
        const OpenPermit& upper = c.elevation_m > o.elevation_m ? c : o;
        if (r.unless == "protective_layer" && upper.protective_layer) continue;
      }
      if (r.within_m || r.relation == "fall_line") {
        if (d < 0) d = Distance(c, o);
        if (d > r.within_m.value_or(0.0)) continue;
      }
      Violation v;
      v.rule = r.id;
      v.related = o.number;
      out.push_back(std::move(v));
    }
  }
  return examined;
}

// --- timing -------------------------------------------------------------------------------

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0;
};
std::map<std::string, Percentiles>& Results() {
  static std::map<std::string, Percentiles> r;
  return r;
}

template <typename Fn>
void TimedLoop(benchmark::State& state, const std::string& name, Fn&& fn) {
  std::vector<double> us;
  us.reserve(1 << 16);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    fn(i++);
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    if (us.empty()) return 0.0;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(us.size()));
    return us[std::min(us.size() - 1, k)];
  };
  const Percentiles p{at(0.50), at(0.90), at(0.99), at(0.999)};
  state.counters["p50_us"] = p.p50;
  state.counters["p90_us"] = p.p90;
  state.counters["p99_us"] = p.p99;
  state.counters["p999_us"] = p.p999;
  Results()[name] = p;
}

World& SiteWorld() {
  static World w = MakeWorld(1, 1, 1000, 7);
  return w;
}
World& ProvinceWorld() {
  static World w = MakeWorld(400, 5, 50, 11);
  return w;
}

void RunCheck(benchmark::State& state, World& w, const std::string& name, bool indexed) {
  const PermitRulebook& book = Book();
  std::size_t violations = 0, examined = 0;
  TimedLoop(state, name, [&](std::size_t i) {
    const Permit& p = w.candidates[i % w.candidates.size()];
    CheckOptions o;
    o.at = CheckTime();
    if (indexed) {
      o.open = &w.index;
      Decision d = Check(book, p, o);
      violations += d.violations.size();
      examined += d.conflicts_examined;
      benchmark::DoNotOptimize(d);
    } else {
      Decision d = Check(book, p, o);
      std::vector<Violation> conflicts;
      examined += NaiveConflicts(book, OpenPermit::From(p), w.open, conflicts);
      for (auto& v : conflicts) d.violations.push_back(std::move(v));
      violations += d.violations.size();
      benchmark::DoNotOptimize(d);
    }
  });
  const auto n = static_cast<double>(state.iterations());
  state.counters["violations"] = static_cast<double>(violations) / n;
  state.counters["examined"] = static_cast<double>(examined) / n;
  state.counters["open"] = static_cast<double>(w.open.size());
}

void BM_CheckRulebookOnly(benchmark::State& state) {
  World& w = SiteWorld();
  const PermitRulebook& book = Book();
  TimedLoop(state, "rulebook_only", [&](std::size_t i) {
    CheckOptions o;
    o.at = CheckTime();
    Decision d = Check(book, w.candidates[i % w.candidates.size()], o);
    benchmark::DoNotOptimize(d);
  });
}
BENCHMARK(BM_CheckRulebookOnly)->Iterations(50000)->Unit(benchmark::kMicrosecond);

void BM_CheckSite_Indexed(benchmark::State& state) {
  RunCheck(state, SiteWorld(), "site_indexed", true);
}
void BM_CheckSite_Naive(benchmark::State& state) {
  RunCheck(state, SiteWorld(), "site_naive", false);
}
void BM_CheckProvince_Indexed(benchmark::State& state) {
  RunCheck(state, ProvinceWorld(), "province_indexed", true);
}
void BM_CheckProvince_Naive(benchmark::State& state) {
  RunCheck(state, ProvinceWorld(), "province_naive", false);
}
BENCHMARK(BM_CheckSite_Indexed)->Iterations(50000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CheckSite_Naive)->Iterations(20000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CheckProvince_Indexed)->Iterations(50000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CheckProvince_Naive)->Iterations(5000)->Unit(benchmark::kMicrosecond);

// Conflicts() alone (no rulebook rules), to show what the index itself costs.
void BM_ConflictsOnly(benchmark::State& state) {
  World& w = state.range(0) == 0 ? SiteWorld() : ProvinceWorld();
  std::vector<OpenPermit> cands;
  for (const Permit& p : w.candidates) cands.push_back(OpenPermit::From(p));
  const PermitRulebook& book = Book();
  TimedLoop(state, state.range(0) == 0 ? "site_conflicts_only" : "province_conflicts_only",
            [&](std::size_t i) {
              auto v = w.index.Conflicts(book, cands[i % cands.size()]);
              benchmark::DoNotOptimize(v);
            });
}
BENCHMARK(BM_ConflictsOnly)->Arg(0)->Arg(1)->Iterations(100000)->Unit(benchmark::kMicrosecond);

void BM_IndexUpsert(benchmark::State& state) {
  World& w = ProvinceWorld();
  std::mt19937_64 rng(99);
  std::vector<OpenPermit> moved;
  for (int i = 0; i < 8192; ++i) {
    const OpenPermit& src = w.open[rng() % w.open.size()];
    OpenPermit p = RandomOpen(rng, src.id, src.org, src.site);
    moved.push_back(std::move(p));
  }
  std::size_t i = 0;
  for (auto _ : state) w.index.Upsert(moved[i++ % moved.size()]);
  state.SetItemsProcessed(state.iterations());
  // Put the originals back for any later benchmark.
  for (const OpenPermit& p : moved) w.index.Upsert(w.open[static_cast<std::size_t>(p.id - 1)]);
}
BENCHMARK(BM_IndexUpsert)->Iterations(200000);

void BM_IndexBuild(benchmark::State& state) {
  World& w = ProvinceWorld();
  for (auto _ : state) {
    OpenPermitIndex index;
    for (const OpenPermit& p : w.open) index.Upsert(p);
    benchmark::DoNotOptimize(index);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.open.size()));
}
BENCHMARK(BM_IndexBuild)->Iterations(3)->Unit(benchmark::kMillisecond);

void PrintSummary() {
  const auto& r = Results();
  auto ratio = [&](const char* naive, const char* indexed) {
    auto n = r.find(naive), x = r.find(indexed);
    if (n == r.end() || x == r.end()) return;
    std::printf("%-9s indexed p50 %.1f µs p99 %.1f µs | naive p50 %.1f µs p99 %.1f µs | "
                "naive/indexed %.1fx at p50, %.1fx at p99\n",
                std::string(indexed).substr(0, std::string(indexed).find('_')).c_str(),
                x->second.p50, x->second.p99, n->second.p50, n->second.p99,
                n->second.p50 / x->second.p50, n->second.p99 / x->second.p99);
  };
  std::printf("\nsummary (full Check(), rulebook + conflicts, no directory)\n");
  if (auto it = r.find("rulebook_only"); it != r.end()) {
    std::printf("rulebook only: p50 %.1f µs p99 %.1f µs\n", it->second.p50, it->second.p99);
  }
  ratio("site_naive", "site_indexed");
  ratio("province_naive", "province_indexed");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  PrintSummary();
  return 0;
}

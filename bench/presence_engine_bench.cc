// Google Benchmark figures for the people-on-site engine (wg_presence), issue "people on
// site": 10,000 tagged people at 1 Hz with 1,000 fences on one 2 km x 2 km site.
//
//   BM_IngestWalk   10,000 UWB tags bound to 10,000 workers, each walking at ~1.2 m/s (a
//                   random heading kept for ~20 s); fixes round robin at 1 Hz of fix time.
//                   1,000 fences: 900 zone fences (convex and concave polygons of 8-24
//                   vertices, 10-60 m across, 90 of them hazardous, 45 restricted, some with
//                   holes) and 100 active permits (polygon work fences, a guardian and two
//                   certificate holders each, drawn from the walkers). Every fix is a full
//                   position check: validation, frame, jump check, binding, grid lookup,
//                   exact point-in-area tests, fence transitions and the rules' state.
//                   items_per_second = position checks per second on one thread.
//                   Counters: p50_ns / p99_ns per fix (a timed sample of 200,000 fixes),
//                   fence_checks per fix, events per fix, rss_mb (process resident set
//                   with the fleet built), rej_<verdict> counts.
//   BM_NaiveScan    the baseline in the same run: the same fixes checked against all 1,000
//                   areas with the same exact Contains (no index, no rules) — what a
//                   geofencing node that tests every configured perimeter per message does.
//   BM_Tick         one Tick (grace periods, lone worker, stale tags) over the same fleet.
// See bench/README.md ("People on site").

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wg/presence/engine.h"

namespace {

using wg::core::Duration;
using wg::core::OrgId;
using wg::core::Timestamp;
using namespace wg::presence;

constexpr int kTags = 10'000;
constexpr int kZoneFences = 900;
constexpr int kPermits = 100;
constexpr double kSite = 2000;  // metres square

const PresenceRulebook& Book() {
  static const auto book = PresenceRulebook::LoadEmbedded();
  if (!book.ok()) {
    std::fprintf(stderr, "rulebook: %s\n", book.error().ToString().c_str());
    std::abort();
  }
  return **book;
}

double RssMb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * 4096.0 / (1024 * 1024) : 0;
}

Ring Blob(std::mt19937_64& rng, Vec2 c, double r, bool concave) {
  std::uniform_int_distribution<int> nv(8, 24);
  std::uniform_real_distribution<double> jitter(0.75, 1.0);
  const int n = nv(rng);
  Ring ring;
  for (int k = 0; k < n; ++k) {
    const double a = 2 * M_PI * k / n;
    double rr = r * jitter(rng);
    if (concave && k % 4 == 2) rr *= 0.45;  // notches: a star-ish concave outline
    ring.push_back({c.x + rr * std::cos(a), c.y + rr * std::sin(a)});
  }
  return ring;
}

struct Fleet {
  std::unique_ptr<Engine> engine = std::make_unique<Engine>(Book());
  std::vector<TagIndex> tags;
  std::vector<Vec2> pos;
  std::vector<double> heading;
  Timestamp t0 = *wg::core::ParseTimestamp("2026-11-29T08:00:00+08:00");
  std::int64_t step = 0;
  double rss_mb = 0;
};

std::unique_ptr<Fleet> MakeFleet() {
  const double before = RssMb();
  auto f = std::make_unique<Fleet>();
  const OrgId org{1};
  std::mt19937_64 rng(20261129);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < kTags; ++i) {
    Tag t;
    t.org = org;
    t.id = "T" + std::to_string(i);
    t.site = "S1";
    t.kind = TagKind::kUwb;
    auto idx = f->engine->UpsertTag(t);
    if (!idx.ok()) std::abort();
    f->tags.push_back(*idx);
    Binding b;
    b.tag = t.id;
    b.person = PersonRef{PersonRef::Kind::kWorker, "W" + std::to_string(i)};
    b.valid_from = f->t0 - Duration::Days(1);
    if (!f->engine->SetBindings(org, t.id, {b}).ok()) std::abort();
    f->pos.push_back({u(rng) * kSite, u(rng) * kSite});
    f->heading.push_back(u(rng) * 2 * M_PI);
  }
  for (int i = 0; i < kZoneFences; ++i) {
    Fence fe;
    fe.org = org;
    fe.id = "F" + std::to_string(i);
    fe.site = "S1";
    fe.zone = "Z" + std::to_string(i % 60);
    fe.hazardous = i % 10 == 0;
    fe.restricted = i % 20 == 5;
    const Vec2 c{30 + u(rng) * (kSite - 60), 30 + u(rng) * (kSite - 60)};
    const double r = 5 + u(rng) * 25;
    fe.area.outer = Blob(rng, c, r, i % 3 == 0);
    if (i % 7 == 0) {
      fe.area.holes.push_back(CircleRing(c, r * 0.2, 8));
    }
    if (auto s = f->engine->UpsertFence(fe); !s.ok()) {
      std::fprintf(stderr, "fence %d: %s\n", i, s.ToString().c_str());
      std::abort();
    }
  }
  std::vector<PermitContext> permits;
  for (int i = 0; i < kPermits; ++i) {
    PermitContext p;
    p.org = org;
    p.id = i + 1;
    p.number = "HW-" + std::to_string(i);
    p.site = "S1";
    p.zone = "Z" + std::to_string(i % 60);
    p.type = i % 4 == 0 ? "confined_space" : "hot_work";
    p.active = true;
    p.work_point = {40 + u(rng) * (kSite - 80), 40 + u(rng) * (kSite - 80)};
    p.fence.outer = Blob(rng, p.work_point, 15 + u(rng) * 15, false);
    const int g = (i * 97) % kTags;
    p.guardians.push_back(PersonRef{PersonRef::Kind::kWorker, "W" + std::to_string(g)});
    for (int k = 1; k <= 2; ++k) {
      const int h = (i * 97 + k) % kTags;
      p.holders.push_back({PersonRef{PersonRef::Kind::kWorker, "W" + std::to_string(h)},
                           "performer", "T" + std::to_string(100000 + h)});
    }
    for (int k = 0; k <= 2; ++k) {
      p.authorized.push_back(
          PersonRef{PersonRef::Kind::kWorker, "W" + std::to_string((i * 97 + k) % kTags)});
    }
    p.active_since = f->t0;
    permits.push_back(std::move(p));
  }
  Output out;
  f->engine->SetPermits(org, std::move(permits), f->t0, out);
  f->rss_mb = RssMb();
  (void)before;
  return f;
}

// The next fix of tag i (1 Hz, ~1.2 m/s, turning now and then, bouncing off the edges).
PositionFix Step(Fleet& f, int i, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  if (u(rng) < 0.05) f.heading[i] = u(rng) * 2 * M_PI;
  Vec2& p = f.pos[i];
  p.x += 1.2 * std::cos(f.heading[i]);
  p.y += 1.2 * std::sin(f.heading[i]);
  if (p.x < 0 || p.x > kSite || p.y < 0 || p.y > kSite) {
    f.heading[i] += M_PI;
    p.x = std::clamp(p.x, 0.0, kSite);
    p.y = std::clamp(p.y, 0.0, kSite);
  }
  PositionFix fix;
  fix.time = f.t0 + Duration::Seconds(f.step + 1);
  fix.frame = PositionFix::Frame::kLocal;
  fix.x = p.x;
  fix.y = p.y;
  fix.z = 1.2;
  fix.accuracy_m = 0.3;
  return fix;
}

void BM_IngestWalk(benchmark::State& state) {
  auto f = MakeFleet();
  std::mt19937_64 rng(7);
  Output out;
  // Precompute two minutes of fixes so the loop measures the engine, not the walk: a
  // minute out and the same path back, so replaying it round after round (times shifted)
  // never teleports anyone.
  constexpr int kHalf = 60;
  constexpr int kSteps = 2 * kHalf;
  std::vector<PositionFix> fixes;
  fixes.reserve(static_cast<std::size_t>(kSteps) * kTags);
  for (int s = 0; s < kHalf; ++s) {
    for (int i = 0; i < kTags; ++i) fixes.push_back(Step(*f, i, rng));
    ++f->step;
  }
  for (int s = kHalf; s < kSteps; ++s) {
    for (int i = 0; i < kTags; ++i) {
      PositionFix x = fixes[static_cast<std::size_t>(kSteps - 1 - s) * kTags + i];
      x.time = f->t0 + Duration::Seconds(s + 1);
      fixes.push_back(x);
    }
  }
  // Timed sample for the latency percentiles (first pass over the minute).
  std::vector<std::int64_t> lat;
  lat.reserve(200'000);
  std::size_t k = 0;
  std::int64_t round = 0;  // minutes replayed: shifts fix times so they stay in order
  auto fix_at = [&](std::size_t j) {
    PositionFix x = fixes[j];
    x.time = x.time + Duration::Seconds(round * kSteps);
    return x;
  };
  for (int n = 0; n < 200'000; ++n) {
    const PositionFix x = fix_at(k);
    const auto a = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(f->engine->Ingest(f->tags[k % kTags], x, x.time, out));
    const auto b = std::chrono::steady_clock::now();
    lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
    out.clear();
    if (++k == fixes.size()) {
      k = 0;
      ++round;
    }
  }
  std::sort(lat.begin(), lat.end());
  const auto checks0 = f->engine->stats().fence_checks;
  const auto events0 = f->engine->stats().events;
  std::int64_t items = 0;
  std::uint64_t accepted = 0;
  for (auto _ : state) {
    const PositionFix x = fix_at(k);
    accepted += f->engine->Ingest(f->tags[k % kTags], x, x.time, out) ==
                PositionVerdict::kAccepted;
    if (out.events.size() > 64) out.clear();
    ++items;
    if (++k == fixes.size()) {
      k = 0;
      ++round;
    }
  }
  state.SetItemsProcessed(items);
  state.counters["p50_ns"] = static_cast<double>(lat[lat.size() / 2]);
  state.counters["p99_ns"] = static_cast<double>(lat[lat.size() * 99 / 100]);
  state.counters["p999_ns"] = static_cast<double>(lat[lat.size() * 999 / 1000]);
  const double n = items > 0 ? static_cast<double>(items) : 1.0;
  state.counters["accepted_pct"] = 100.0 * static_cast<double>(accepted) / n;
  state.counters["fence_checks_per_fix"] =
      static_cast<double>(f->engine->stats().fence_checks - checks0) / n;
  state.counters["events_per_fix"] = static_cast<double>(f->engine->stats().events - events0) / n;
  state.counters["rss_mb"] = f->rss_mb;
  for (const auto& [verdict, count] : f->engine->stats().rejected) {
    state.counters["rej_" + verdict] = static_cast<double>(count);
  }
  state.counters["tags"] = static_cast<double>(f->engine->tag_count());
  state.counters["fences"] = static_cast<double>(f->engine->fence_count());
}
BENCHMARK(BM_IngestWalk)->Unit(benchmark::kNanosecond)->MinTime(3.0);

void BM_NaiveScan(benchmark::State& state) {
  // The same site and fences as MakeFleet (same seed, same draws).
  std::mt19937_64 rng(20261129);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Vec2> pos;
  for (int i = 0; i < kTags; ++i) {
    pos.push_back({u(rng) * kSite, u(rng) * kSite});
    (void)u(rng);
  }
  std::vector<Area> areas;
  for (int i = 0; i < kZoneFences; ++i) {
    const Vec2 c{30 + u(rng) * (kSite - 60), 30 + u(rng) * (kSite - 60)};
    const double r = 5 + u(rng) * 25;
    Area a;
    a.outer = Blob(rng, c, r, i % 3 == 0);
    if (i % 7 == 0) a.holes.push_back(CircleRing(c, r * 0.2, 8));
    areas.push_back(std::move(a));
  }
  for (int i = 0; i < kPermits; ++i) {
    const Vec2 wp{40 + u(rng) * (kSite - 80), 40 + u(rng) * (kSite - 80)};
    Area a;
    a.outer = Blob(rng, wp, 15 + u(rng) * 15, false);
    areas.push_back(std::move(a));
  }
  std::size_t k = 0;
  std::int64_t items = 0, inside = 0;
  for (auto _ : state) {
    const Vec2 p{pos[k].x + 0.1 * static_cast<double>(items % 7), pos[k].y};
    for (const Area& a : areas) inside += Contains(a, p, 1.2) ? 1 : 0;
    ++items;
    if (++k == pos.size()) k = 0;
  }
  benchmark::DoNotOptimize(inside);
  state.SetItemsProcessed(items);
  state.counters["fences"] = static_cast<double>(areas.size());
}
BENCHMARK(BM_NaiveScan)->Unit(benchmark::kNanosecond);

void BM_Tick(benchmark::State& state) {
  auto f = MakeFleet();
  std::mt19937_64 rng(7);
  Output out;
  for (int s = 0; s < 30; ++s) {
    for (int i = 0; i < kTags; ++i) {
      const PositionFix x = Step(*f, i, rng);
      f->engine->Ingest(f->tags[i], x, x.time, out);
    }
    ++f->step;
    out.clear();
  }
  Timestamp now = f->t0 + Duration::Seconds(f->step);
  for (auto _ : state) {
    f->engine->Tick(now, out);
    out.clear();
    now = now + Duration{1000};
  }
  state.counters["tags"] = static_cast<double>(f->engine->tag_count());
}
BENCHMARK(BM_Tick)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

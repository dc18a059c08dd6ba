// Google Benchmark figures for the live-monitoring engine (wg_monitor):
//   BM_IngestSteady     100,000 points of mixed kinds (O2, combustible CH4, H2S in ppm, CO,
//                       crane load, wind, temperature with a point limit), each reading one
//                       value per second of reading time, round robin; values move a little
//                       but cross nothing, so no alarm changes: the hot path alone.
//   BM_IngestCrossing1pct  the same with every 100th point a crane-load cell swinging between
//                       50 % and 101 % of rated load on each reading: 1 % of readings raise or
//                       clear alarms (three rules each), with their events and SOP actions.
//   BM_Tick             one Tick (stale scan + deadline heap) over the 100,000 points.
// items_per_second is readings per second on one thread. See bench/README.md.

#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "wg/monitor/engine.h"

namespace {

using wg::core::Duration;
using wg::core::Timestamp;
using namespace wg::monitor;

constexpr int kPoints = 100'000;

const MonitorRulebook& Book() {
  static const auto book = MonitorRulebook::LoadEmbedded();
  return **book;
}

struct Fleet {
  Engine engine{Book()};
  std::vector<std::array<double, 2>> values;  // per point: the two values it alternates
  Timestamp base = *wg::core::ParseTimestamp("2026-07-01T08:00:00+08:00");
};

std::unique_ptr<Fleet> MakeFleet(bool crossing) {
  auto f = std::make_unique<Fleet>();
  f->values.resize(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    PointConfig c;
    c.org = wg::core::OrgId{1 + i / 1000};
    c.id = "P" + std::to_string(i);
    c.site = "S" + std::to_string(i / 1000);
    c.zone = "Z" + std::to_string(i / 50);
    std::array<double, 2> v{};
    if (crossing && i % 100 == 0) {
      c.kind = "crane_load";
      c.unit = "%";
      v = {50, 101};
    } else {
      switch (i % 7) {
        case 0: c.kind = "o2"; c.unit = "%vol"; v = {20.9, 20.8}; break;
        case 1: c.kind = "combustible"; c.unit = "%LEL"; c.gas = "CH4"; v = {2.0, 2.2}; break;
        case 2: c.kind = "h2s"; c.unit = "ppm"; v = {0.5, 0.6}; break;
        case 3: c.kind = "co"; c.unit = "mg/m3"; v = {3.0, 3.5}; break;
        case 4: c.kind = "crane_load"; c.unit = "%"; v = {40, 45}; break;
        case 5: c.kind = "wind_speed"; c.unit = "m/s"; v = {3.1, 3.4}; break;
        default:
          c.kind = "temperature";
          c.unit = "degC";
          c.limits = {PointLimit{Level::kYellow, true, 180, 5, 2},
                      PointLimit{Level::kRed, true, 200, 0, 2}};
          v = {120, 121};
      }
    }
    auto idx = f->engine.UpsertPoint(c, f->base);
    if (!idx) {
      std::fprintf(stderr, "%s\n", idx.error().ToString().c_str());
      std::abort();
    }
    f->values[*idx] = v;
  }
  return f;
}

void RunIngest(benchmark::State& state, bool crossing) {
  auto fleet = MakeFleet(crossing);
  Engine& engine = fleet->engine;
  Emissions out;
  std::int64_t round = 1;
  PointIndex i = 0;
  std::int64_t events = 0;
  Timestamp t = fleet->base + Duration::Seconds(round);
  for (auto _ : state) {
    auto verdict = engine.Ingest(i, t, fleet->values[i][round & 1], t, out);
    benchmark::DoNotOptimize(verdict);
    if (++i == kPoints) {
      i = 0;
      ++round;
      t = fleet->base + Duration::Seconds(round);
      events += static_cast<std::int64_t>(out.events.size());
      out.clear();
    }
  }
  events += static_cast<std::int64_t>(out.events.size());
  state.SetItemsProcessed(state.iterations());
  state.counters["points"] = kPoints;
  state.counters["alarm_events"] = static_cast<double>(events);
}

void BM_IngestSteady(benchmark::State& state) { RunIngest(state, false); }
void BM_IngestCrossing1pct(benchmark::State& state) { RunIngest(state, true); }

void BM_Tick(benchmark::State& state) {
  auto fleet = MakeFleet(false);
  Emissions out;
  Timestamp t = fleet->base + Duration::Seconds(1);
  for (auto _ : state) {
    fleet->engine.Tick(t, out);  // nothing stale yet: the scan itself
    benchmark::DoNotOptimize(out);
  }
  state.counters["points"] = kPoints;
}

BENCHMARK(BM_IngestSteady)->MinTime(2.0);
BENCHMARK(BM_IngestCrossing1pct)->MinTime(2.0);
BENCHMARK(BM_Tick)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

// Google Benchmark figures for early warning (wg_predict): the inference cost per reading.
//   BM_Model/<kind>  Predictor::Update + WarningTracker::Update for one reading, cycling
//                    through the series of a simulated test set (confined spaces, 10 s
//                    sampling, 6 h scenarios: O2, the leaking gas, temperature); a series'
//                    state is created afresh at its first reading, as `serve` does for a
//                    new point. One iteration = one reading, so Time is ns/reading.
//                    gbt: data/models/early-warning.json when present, otherwise a small
//                    model trained here on simulated data (40 scenarios, 30 rounds).
//   BM_Naive         the reference: the red threshold comparison alone (what a static
//                    alarm costs per reading), i.e. the loop's floor.
// See bench/README.md ("Early warning").

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wg/predict/dataset.h"
#include "wg/predict/gbt.h"
#include "wg/predict/model.h"
#include "wg/predict/model_file.h"
#include "wg/predict/simulate.h"

#ifndef WG_SOURCE_DIR
#define WG_SOURCE_DIR "."
#endif

namespace {

using namespace wg::predict;

struct Corpus {
  Dataset d;
  std::vector<const Series*> series;
  std::size_t readings = 0;
  std::string error;
};

const Corpus& GetCorpus() {
  static const Corpus c = [] {
    Corpus out;
    SimOptions o;
    o.seed = 11;
    o.set = "test";
    o.unit = "confined";
    o.scenarios = 8;
    o.hours_min = 6;
    o.hours_max = 6;
    o.sample_s = 10;
    auto d = Simulate(o);
    if (!d.ok()) {
      out.error = "simulate: " + d.error().ToString();
      return out;
    }
    out.d = std::move(*d);
    for (const auto& sc : out.d.scenarios) {
      for (const auto& s : sc.series) {
        if (s.t.size() < 2) continue;
        out.series.push_back(&s);
        out.readings += s.t.size();
      }
    }
    if (out.series.empty()) out.error = "the simulated set has no series";
    return out;
  }();
  return c;
}

struct GbtModel {
  std::unique_ptr<Predictor> model;
  std::string source;
  std::string error;
};

const GbtModel& GetGbt() {
  static const GbtModel g = [] {
    GbtModel out;
    const std::filesystem::path shipped =
        std::filesystem::path(WG_SOURCE_DIR) / "data/models/early-warning.json";
    std::error_code ec;
    if (std::filesystem::is_regular_file(shipped, ec)) {
      auto m = LoadModel(shipped);
      if (m.ok()) {
        out.model = std::move(m->predictor);
        out.source = shipped.string();
        return out;
      }
      std::fprintf(stderr, "predict_bench: %s: %s; training a small model instead\n",
                   shipped.c_str(), m.error().ToString().c_str());
    }
    SimOptions o;
    o.seed = 1;
    o.set = "train";
    o.unit = "mixed";
    o.scenarios = 40;
    o.hours_min = 1;
    o.hours_max = 2;
    auto d = Simulate(o);
    if (!d.ok()) {
      out.error = "simulate: " + d.error().ToString();
      return out;
    }
    TrainOptions t;
    t.seed = 1;
    t.rounds = 30;
    auto r = TrainGbt(*d, t);
    if (!r.ok()) {
      out.error = "train: " + r.error().ToString();
      return out;
    }
    out.model = std::move(r->model);
    out.source = "trained in setup (40 scenarios, 30 rounds)";
    return out;
  }();
  return g;
}

void Run(benchmark::State& st, const Predictor& m) {
  const Corpus& c = GetCorpus();
  std::size_t si = 0, ri = 0;
  std::unique_ptr<State> state = m.NewState(c.series[0]->red);
  WarningTracker tracker(m.policy());
  std::size_t warnings = 0;
  for (auto _ : st) {
    const Series& s = *c.series[si];
    const Forecast f = m.Update(*state, s.t[ri], s.v[ri]);
    const WarningTracker::Change ch = tracker.Update(s.t[ri], s.v[ri], s.red, f);
    warnings += ch == WarningTracker::Change::kOn ? 1 : 0;
    benchmark::DoNotOptimize(ch);
    if (++ri == s.t.size()) {
      ri = 0;
      si = si + 1 == c.series.size() ? 0 : si + 1;
      state = m.NewState(c.series[si]->red);
      tracker = WarningTracker(m.policy());
    }
  }
  st.SetItemsProcessed(st.iterations());
  st.counters["series"] = static_cast<double>(c.series.size());
  st.counters["warnings"] = static_cast<double>(warnings);
}

void BM_Model(benchmark::State& st, const std::string& kind) {
  const Corpus& c = GetCorpus();
  if (!c.error.empty()) {
    st.SkipWithError(c.error.c_str());
    return;
  }
  if (kind == "gbt") {
    const GbtModel& g = GetGbt();
    if (!g.model) {
      st.SkipWithError(g.error.c_str());
      return;
    }
    st.SetLabel(g.source);
    Run(st, *g.model);
    return;
  }
  auto m = MakeByKind(kind, wg::core::Json::object());
  if (!m.ok()) {
    st.SkipWithError(m.error().ToString().c_str());
    return;
  }
  Run(st, **m);
}

void BM_Naive(benchmark::State& st) {
  const Corpus& c = GetCorpus();
  if (!c.error.empty()) {
    st.SkipWithError(c.error.c_str());
    return;
  }
  std::size_t si = 0, ri = 0;
  std::size_t crossed = 0;
  for (auto _ : st) {
    const Series& s = *c.series[si];
    const bool x = s.red.Crossed(s.v[ri]);
    crossed += x ? 1 : 0;
    benchmark::DoNotOptimize(x);
    if (++ri == s.t.size()) {
      ri = 0;
      si = si + 1 == c.series.size() ? 0 : si + 1;
    }
  }
  st.SetItemsProcessed(st.iterations());
  benchmark::DoNotOptimize(crossed);
}

BENCHMARK_CAPTURE(BM_Model, static, std::string("static"));
BENCHMARK_CAPTURE(BM_Model, linear, std::string("linear"));
BENCHMARK_CAPTURE(BM_Model, holt, std::string("holt"));
BENCHMARK_CAPTURE(BM_Model, kalman, std::string("kalman"));
BENCHMARK_CAPTURE(BM_Model, gbt, std::string("gbt"));
BENCHMARK(BM_Naive);

}  // namespace

BENCHMARK_MAIN();

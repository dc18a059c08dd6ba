#include "wg/predict/gbt.h"

#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "wg/core/json.h"
#include "wg/predict/model_file.h"

namespace wg::predict {
namespace {

using core::Json;
using core::StatusCode;

constexpr double kT0 = 1.8e9;  // epoch seconds

// Deterministic noise in [-1, 1) (splitmix64), independent of the standard library.
class Noise {
 public:
  explicit Noise(std::uint64_t seed) : x_(seed) {}
  double Next() {
    std::uint64_t z = (x_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) / 9007199254740992.0 * 2 - 1;
  }

 private:
  std::uint64_t x_;
};

std::vector<float> Features(FeatureState& fs, double t, double v) {
  std::vector<float> x(FeatureCount());
  fs.Update(t, v, x.data());
  return x;
}

std::size_t Index(const std::string& name) {
  const auto names = FeatureNames();
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return static_cast<std::size_t>(it - names.begin());
}

void ExpectFinite(const std::vector<float>& x, const std::string& where) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(std::isfinite(x[i])) << where << ": " << FeatureNames()[i] << " = " << x[i];
  }
}

// h2s, red 20 high. A ramp from ~2 crossing 20 about 20 minutes after it starts, or the
// same rise levelling off on a plateau below red. 10 s sampling, one hour.
Series Synthetic(bool ramp, int i, double noise = 0.15, double dt = 10) {
  Series s;
  s.point = "p" + std::to_string(i);
  s.kind = "h2s";
  s.red = Threshold{20, true, 10};
  Noise n(static_cast<std::uint64_t>(i) * 7919 + (ramp ? 1 : 2));
  const double start = (10 + (i % 5) * 2) * 60.0;
  const double rate = 18.0 / (20 * 60);  // per second
  const double plateau = 10 + (i % 4);
  for (double t = 0; t < 3600; t += dt) {
    double v = 2;
    if (t > start) v = 2 + rate * (t - start);
    if (!ramp) v = std::min(v, plateau);
    v = std::min(v, 30.0) + noise * n.Next();
    s.t.push_back(kT0 + t);
    s.v.push_back(v);
    if (ramp && s.events.empty() && v >= 20) s.events.push_back(kT0 + t);
  }
  return s;
}

Dataset SyntheticDataset(int n) {
  Dataset d;
  for (int i = 0; i < n; ++i) {
    Scenario sc;
    char name[32];
    std::snprintf(name, sizeof name, "s-%03d.csv", i);
    sc.name = name;
    sc.series.push_back(Synthetic(i % 2 == 0, i));
    d.scenarios.push_back(std::move(sc));
  }
  return d;
}

TrainOptions FastOptions() {
  TrainOptions o;
  o.rounds = 20;
  o.max_depth = 4;
  o.eta = 0.3;
  o.sample_every_s = 30;
  return o;
}

// --- features ---------------------------------------------------------------------------

TEST(GbtFeatures, NamesAreUniqueAndFew) {
  const auto names = FeatureNames();
  EXPECT_EQ(names.size(), FeatureCount());
  EXPECT_LE(names.size(), 24u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
}

TEST(GbtFeatures, ConstantSignalsAreFiniteAndFarFromThreshold) {
  struct Case {
    Threshold red;
    double value;
  };
  // h2s at exactly 0 (baseline 0), o2 at ambient with a low threshold, a zero threshold
  // with a zero signal (the scale floor), TEP pressure under its shutdown limit.
  for (const Case& c : {Case{{20, true}, 0.0}, Case{{18, false}, 20.9}, Case{{0, true}, 0.0},
                        Case{{3000, true}, 2705.0}}) {
    FeatureState fs(c.red);
    std::vector<float> x;
    for (int i = 0; i < 800; ++i) x = Features(fs, kT0 + i * 10.0, c.value);
    ExpectFinite(x, "constant " + std::to_string(c.red.value));
    EXPECT_EQ(x[Index("slope_5m")], 0.0f);
    // Sitting exactly on a zero threshold is "crossed": no time left.
    const float tte = c.red.Crossed(c.value) ? 0.0f : 120.0f;
    EXPECT_EQ(x[Index("tte_5m")], tte);
    EXPECT_EQ(x[Index("tte_holt")], tte);
    EXPECT_EQ(x[Index("fo_tte")], tte);
    EXPECT_EQ(x[Index("noise")], 0.0f);
    EXPECT_EQ(x[Index("age_min")], 120.0f);  // capped
    if (c.red.value != 0) {
      EXPECT_NEAR(x[Index("margin_raw")], 1.0, 1e-6);  // at the baseline
    }
  }
}

TEST(GbtFeatures, RampGivesTimeToThreshold) {
  // 1 unit per minute from 0 toward 20: at 10 min, 10 minutes to go.
  FeatureState fs(Threshold{20, true});
  std::vector<float> x;
  for (double t = 0; t <= 600; t += 10) x = Features(fs, kT0 + t, t / 60);
  ExpectFinite(x, "ramp");
  EXPECT_NEAR(x[Index("tte_2m")], 10.0, 0.1);
  EXPECT_NEAR(x[Index("tte_5m")], 10.0, 0.1);
  EXPECT_NEAR(x[Index("tte_holt")], 10.0, 1.5);
  EXPECT_GT(x[Index("slope_5m")], 0.0f);
  EXPECT_LT(x[Index("margin_raw")], 1.0f);
  EXPECT_LT(x[Index("fo_margin")], 0.0f);  // linear: no steady state below red
  EXPECT_LT(x[Index("fo_tte")], 30.0f);
}

TEST(GbtFeatures, LowThresholdMirrorsHigh) {
  // o2 falling 0.1 %vol/min from 20.9 toward 18 (low) equals its mirror image rising
  // toward -18 (high), feature for feature.
  FeatureState low(Threshold{18, false});
  FeatureState high(Threshold{-18, true});
  for (double t = 0; t <= 900; t += 15) {
    const double v = 20.9 - 0.1 * t / 60;
    const auto a = Features(low, kT0 + t, v);
    const auto b = Features(high, kT0 + t, -v);
    ASSERT_EQ(a, b) << t;
  }
  FeatureState fs(Threshold{18, false});
  std::vector<float> x;
  for (double t = 0; t <= 600; t += 15) x = Features(fs, kT0 + t, 20.9 - 0.1 * t / 60);
  EXPECT_NEAR(x[Index("tte_5m")], 19.0, 0.2);  // 1.9 %vol left at 0.1 per minute
}

TEST(GbtFeatures, DimensionlessAcrossUnits) {
  // The same shape in another unit (x 150, threshold likewise) gives the same features.
  FeatureState a(Threshold{20, true});
  FeatureState b(Threshold{3000, true});
  Noise n(3);
  for (int i = 0; i < 500; ++i) {
    const double t = kT0 + i * 10.0;
    const double v = 2 + 0.01 * i + 0.2 * n.Next();
    const auto xa = Features(a, t, v);
    const auto xb = Features(b, t, v * 150);
    for (std::size_t k = 0; k < xa.size(); ++k) {
      EXPECT_NEAR(xa[k], xb[k], 1e-3 * (1 + std::fabs(xa[k]))) << FeatureNames()[k] << " at " << i;
    }
  }
}

TEST(GbtFeatures, SimilarAcrossSamplingIntervals) {
  // A rise sampled every 10 s or every 120 s: the slope-based times agree.
  std::vector<float> fine, coarse;
  FeatureState a(Threshold{20, true});
  FeatureState b(Threshold{20, true});
  for (double t = 0; t <= 1800; t += 10) fine = Features(a, kT0 + t, 2 + 0.4 * t / 60);
  for (double t = 0; t <= 1800; t += 120) coarse = Features(b, kT0 + t, 2 + 0.4 * t / 60);
  // 1800 s: value 14, 6 units left at 0.4/min = 15 min.
  for (const char* f : {"tte_5m", "tte_15m", "tte_30m"}) {
    EXPECT_NEAR(fine[Index(f)], 15.0, 0.2) << f;
    EXPECT_NEAR(coarse[Index(f)], 15.0, 0.2) << f;
  }
  // 2 minutes hold a single 120 s reading: the slope falls back to the last two readings.
  EXPECT_NEAR(coarse[Index("tte_2m")], 15.0, 0.2);
}

TEST(GbtFeatures, GapsAndIrregularSamplingStayFinite) {
  FeatureState fs(Threshold{18, false});
  Noise n(11);
  double t = kT0;
  std::vector<float> x;
  for (int i = 0; i < 300; ++i) {
    t += 10 + 85 * (n.Next() + 1);  // 10..180 s
    if (i == 150) t += 3 * 3600;    // a three-hour gap
    x = Features(fs, t, 20.9 + 0.3 * n.Next());
    ExpectFinite(x, "reading " + std::to_string(i));
    if (i == 150) {
      EXPECT_EQ(x[Index("since_gap_min")], 0.0f);
    }
  }
  // Steady 10 s sampling, then one 5-minute hole: the gap clock restarts.
  FeatureState g(Threshold{20, true});
  for (int i = 0; i < 100; ++i) x = Features(g, kT0 + i * 10.0, 1);
  EXPECT_GT(x[Index("since_gap_min")], 16.0f);
  x = Features(g, kT0 + 990 + 300, 1);
  EXPECT_EQ(x[Index("since_gap_min")], 0.0f);
  x = Features(g, kT0 + 1300, 1);
  EXPECT_NEAR(x[Index("since_gap_min")], 10.0 / 60, 1e-4);
}

TEST(GbtFeatures, ExcursionCountsTimeNearThreshold) {
  FeatureState fs(Threshold{20, true});
  std::vector<float> x;
  for (int i = 0; i < 60; ++i) x = Features(fs, kT0 + i * 10.0, 0);
  EXPECT_EQ(x[Index("excursion_min")], 0.0f);
  // A step to 15 (margin 0.25 of the 20-unit scale) held for 5 minutes.
  for (int i = 60; i <= 90; ++i) x = Features(fs, kT0 + i * 10.0, 15);
  // The smoothed level takes about a minute to get there.
  EXPECT_GT(x[Index("excursion_min")], 3.5f);
  EXPECT_LT(x[Index("excursion_min")], 5.0f);
  x = Features(fs, kT0 + 920, 0);
  x = Features(fs, kT0 + 1100, 0);
  EXPECT_EQ(x[Index("excursion_min")], 0.0f);
}

TEST(GbtFeatures, PastThresholdGivesZeroTime) {
  FeatureState fs(Threshold{20, true});
  std::vector<float> x;
  for (int i = 0; i < 100; ++i) x = Features(fs, kT0 + i * 10.0, i < 50 ? 5 : 25);
  ExpectFinite(x, "past");
  EXPECT_LT(x[Index("margin_raw")], 0.0f);
  EXPECT_EQ(x[Index("tte_holt")], 0.0f);
  EXPECT_EQ(x[Index("fo_tte")], 0.0f);
  EXPECT_EQ(x[Index("tte_2m")], 0.0f);
}

// --- tree ensemble ------------------------------------------------------------------------

// A hand-made ensemble: one split on feature 1 at 0.5 (yes: 1, no: 2, missing: 2) and one
// leaf-only tree.
Json SmallTrees() {
  return Json{
      {"base_margin", 0.25},
      {"roots", {0, 3}},
      {"nodes", {{1, 0.5, 1, 2, 2}, {-1, -1.0, 0, 0, 0}, {-1, 2.0, 0, 0, 0}, {-1, 0.5, 0, 0, 0}}}};
}

TEST(GbtTrees, WalksSplitsAsXgboostDoes) {
  auto e = TreeEnsemble::FromJson(SmallTrees(), 2);
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->trees(), 2u);
  EXPECT_EQ(e->nodes(), 4u);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float below[2] = {0, 0.4999f}, equal[2] = {0, 0.5f}, missing[2] = {0, nan};
  EXPECT_DOUBLE_EQ(e->Margin(below), 0.25 - 1 + 0.5);
  EXPECT_DOUBLE_EQ(e->Margin(equal), 0.25 + 2 + 0.5);  // x < threshold goes left only
  EXPECT_DOUBLE_EQ(e->Margin(missing), 0.25 + 2 + 0.5);
  EXPECT_NEAR(e->Probability(below), 1 / (1 + std::exp(0.25)), 1e-12);
  EXPECT_EQ(e->ToJson(), SmallTrees());
}

TEST(GbtTrees, RefusesCorruptJson) {
  auto with_node = [](std::size_t i, Json node) {
    Json j = SmallTrees();
    j["nodes"][i] = std::move(node);
    return j;
  };
  struct Case {
    std::string what;
    Json j;
    std::size_t n_features = 2;
  };
  Json unknown = SmallTrees();
  unknown["extra"] = 1;
  Json bad_root = SmallTrees();
  bad_root["roots"] = {0, 4};
  Json no_margin = SmallTrees();
  no_margin.erase("base_margin");
  const std::vector<Case> cases = {
      {"child out of range", with_node(0, {1, 0.5, 1, 9, 9})},
      {"cycle (child before parent)", with_node(2, {0, 0.5, 3, 1, 1})},
      {"self loop", with_node(0, {1, 0.5, 0, 2, 2})},
      {"feature beyond the model's features", SmallTrees(), 1},
      {"negative feature", with_node(0, {-2, 0.5, 1, 2, 2})},
      {"missing names neither child", with_node(0, {1, 0.5, 1, 2, 3})},
      {"yes equals no", with_node(0, {1, 0.5, 1, 1, 1})},
      {"leaf with children", with_node(1, {-1, 1.0, 2, 3, 3})},
      {"threshold not a number", with_node(0, {1, "0.5", 1, 2, 2})},
      {"threshold beyond float", with_node(0, {1, 1e300, 1, 2, 2})},
      {"fractional index", with_node(0, {1, 0.5, 1.5, 2, 2})},
      {"feature wrapping to -1", with_node(3, {18446744073709551615ull, 0.5, 0, 0, 0})},
      {"short node", with_node(0, {1, 0.5, 1, 2})},
      {"root out of range", bad_root},
      {"unknown member", unknown},
      {"no base_margin", no_margin},
      {"not an object", Json::array()},
  };
  for (const Case& c : cases) {
    auto e = TreeEnsemble::FromJson(c.j, c.n_features);
    ASSERT_FALSE(e.ok()) << c.what;
    EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument) << c.what;
  }
}

TEST(GbtTrees, RefusesCorruptDumps) {
  const std::string leaf = R"({"nodeid": 1, "leaf": 0.1})";
  const std::string leaf2 = R"({"nodeid": 2, "leaf": -0.1})";
  auto split = [&](const std::string& name, const std::string& yes_no_missing,
                   const std::string& kids) {
    return R"({"nodeid": 0, "depth": 0, "split": ")" + name + R"(", "split_condition": 0.5, )" +
           yes_no_missing + R"(, "children": [)" + kids + "]}";
  };
  const std::string ok = split("f3", R"("yes": 1, "no": 2, "missing": 1)", leaf + "," + leaf2);
  auto good = TreeEnsemble::FromXgboostDump({ok, leaf}, 0);
  ASSERT_TRUE(good.ok()) << good.error().ToString();
  EXPECT_EQ(good->nodes(), 4u);
  EXPECT_EQ(good->trees(), 2u);
  for (const std::string& bad : {
           split("x3", R"("yes": 1, "no": 2, "missing": 1)", leaf + "," + leaf2),
           split("f", R"("yes": 1, "no": 2, "missing": 1)", leaf + "," + leaf2),
           split("f3", R"("yes": 1, "no": 7, "missing": 1)", leaf + "," + leaf2),
           split("f3", R"("yes": 1, "no": 2, "missing": 5)", leaf + "," + leaf2),
           split("f3", R"("yes": 1, "no": 2)", leaf + "," + leaf2),
           split("f3", R"("yes": 1, "no": 2, "missing": 1)", leaf),
           split("f3", R"("yes": 1, "no": 1, "missing": 1)", leaf + "," + leaf),
           std::string(R"({"nodeid": 0, "leaf": "x"})"),
           std::string("[1, 2]"),
           std::string("{"),
       }) {
    auto e = TreeEnsemble::FromXgboostDump({bad}, 0);
    EXPECT_FALSE(e.ok()) << bad;
  }
  EXPECT_FALSE(TreeEnsemble::FromXgboostDump({ok}, std::nan("")).ok());
}

// RAII for the handles the test makes itself.
struct Handles {
  DMatrixHandle dm = nullptr;
  BoosterHandle booster = nullptr;
  ~Handles() {
    if (booster) XGBoosterFree(booster);
    if (dm) XGDMatrixFree(dm);
  }
};

TEST(GbtTrees, CompiledEnsembleMatchesXgboost) {
  constexpr std::size_t kRows = 400, kCols = 6;
  Noise n(5);
  std::vector<float> x(kRows * kCols);
  std::vector<float> y(kRows);
  for (std::size_t r = 0; r < kRows; ++r) {
    for (std::size_t c = 0; c < kCols; ++c) {
      const double v = n.Next() * 10;
      // Some missing values, so the default directions are exercised too.
      x[r * kCols + c] =
          (r + c) % 17 == 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(v);
    }
    const float a = x[r * kCols], b = x[r * kCols + 2];
    y[r] = (std::isnan(a) ? 1.0f : a) + 0.5f * (std::isnan(b) ? 0.0f : b) +
                       static_cast<float>(3 * n.Next()) >
                   0
               ? 1.0f
               : 0.0f;
  }
  Handles h;
  ASSERT_EQ(XGDMatrixCreateFromMat(x.data(), kRows, kCols, std::numeric_limits<float>::quiet_NaN(),
                                   &h.dm),
            0);
  ASSERT_EQ(XGDMatrixSetFloatInfo(h.dm, "label", y.data(), kRows), 0);
  ASSERT_EQ(XGBoosterCreate(&h.dm, 1, &h.booster), 0);
  for (const auto& [k, v] :
       std::vector<std::pair<const char*, const char*>>{{"verbosity", "0"},
                                                        {"objective", "binary:logistic"},
                                                        {"tree_method", "hist"},
                                                        {"max_depth", "4"},
                                                        {"eta", "0.3"},
                                                        {"base_score", "0.3"},
                                                        {"nthread", "1"},
                                                        {"seed", "7"}}) {
    ASSERT_EQ(XGBoosterSetParam(h.booster, k, v), 0) << k;
  }
  for (int i = 0; i < 15; ++i) ASSERT_EQ(XGBoosterUpdateOneIter(h.booster, i, h.dm), 0);

  bst_ulong n_trees = 0;
  const char** dump = nullptr;
  ASSERT_EQ(XGBoosterDumpModelEx(h.booster, "", 0, "json", &n_trees, &dump), 0);
  std::vector<std::string> trees(dump, dump + n_trees);
  ASSERT_EQ(trees.size(), 15u);
  auto e = TreeEnsemble::FromXgboostDump(trees, std::log(0.3 / 0.7));
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  // Through the model file's layout and back: the same predictions.
  auto again = TreeEnsemble::FromJson(Json::parse(e->ToJson().dump()), kCols);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->ToJson(), e->ToJson());

  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* pred = nullptr;
  ASSERT_EQ(XGBoosterPredictFromDMatrix(h.booster, h.dm,
                                        R"({"type": 0, "training": false, "iteration_begin": 0,
                                            "iteration_end": 0, "strict_shape": false})",
                                        &shape, &dim, &pred),
            0);
  ASSERT_EQ(dim, 1u);
  ASSERT_EQ(shape[0], kRows);
  double worst = 0;
  for (std::size_t r = 0; r < kRows; ++r) {
    const double p = e->Probability(&x[r * kCols]);
    worst = std::max(worst, std::fabs(p - pred[r]));
    ASSERT_NEAR(p, pred[r], 1e-5) << "row " << r;
    ASSERT_NEAR(again->Probability(&x[r * kCols]), p, 1e-12);
  }
  EXPECT_GT(e->nodes(), 15u * 3);  // real splits, not stumps
}

// --- training -----------------------------------------------------------------------------

TEST(GbtTrain, RefusesDataWithoutEventsOrNegatives) {
  Dataset none;
  for (int i = 0; i < 4; ++i) {
    Scenario sc;
    sc.name = "flat-" + std::to_string(i) + ".csv";
    sc.series.push_back(Synthetic(false, i));
    none.scenarios.push_back(std::move(sc));
  }
  auto r = TrainGbt(none, FastOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);

  // Every reading lies within the horizon of the event: no negatives.
  Dataset all_positive;
  Scenario sc;
  sc.name = "short.csv";
  Series s;
  s.point = "p";
  s.kind = "h2s";
  s.red = Threshold{20, true};
  for (int i = 0; i < 30; ++i) {
    s.t.push_back(kT0 + i * 10.0);
    s.v.push_back(5 + i * 0.6);
  }
  s.events.push_back(kT0 + 290);
  sc.series.push_back(s);
  all_positive.scenarios.push_back(sc);
  r = TrainGbt(all_positive, FastOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("negative"), std::string::npos) << r.error().message();

  TrainOptions bad = FastOptions();
  bad.rounds = 0;
  r = TrainGbt(SyntheticDataset(4), bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field(), "rounds");
  bad = FastOptions();
  bad.validation_share = 1;
  EXPECT_FALSE(TrainGbt(SyntheticDataset(4), bad).ok());
}

class GbtTrained : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new Dataset(SyntheticDataset(40));
    std::vector<TrainProgress> seen;
    auto r = TrainGbt(*data_, FastOptions(), [&](const TrainProgress& p) { seen.push_back(p); });
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    result_ = new TrainResult(std::move(*r));
    progress_ = new std::vector<TrainProgress>(std::move(seen));
  }
  static void TearDownTestSuite() {
    delete data_;
    delete result_;
    delete progress_;
  }
  static Dataset* data_;
  static TrainResult* result_;
  static std::vector<TrainProgress>* progress_;
};
Dataset* GbtTrained::data_ = nullptr;
TrainResult* GbtTrained::result_ = nullptr;
std::vector<TrainProgress>* GbtTrained::progress_ = nullptr;

TEST_F(GbtTrained, IsDeterministic) {
  auto again = TrainGbt(*data_, FastOptions());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(core::DumpJson(again->model->Params()), core::DumpJson(result_->model->Params()));
  EXPECT_EQ(core::DumpJson(again->training), core::DumpJson(result_->training));
  // Another seed splits and samples differently.
  TrainOptions o = FastOptions();
  o.seed = 2;
  auto other = TrainGbt(*data_, o);
  ASSERT_TRUE(other.ok()) << other.error().ToString();
  EXPECT_NE(core::DumpJson(other->model->Params()), core::DumpJson(result_->model->Params()));
}

TEST_F(GbtTrained, RecordsItsTraining) {
  const Json& t = result_->training;
  EXPECT_EQ(t["seed"], 1);
  EXPECT_EQ(t["options"]["rounds"], 20);
  EXPECT_EQ(t["features"], Json(FeatureNames()));
  EXPECT_EQ(t["scenarios"]["train"].get<int>() + t["scenarios"]["validation"].get<int>(), 40);
  EXPECT_GT(t["scenarios"]["validation"].get<int>(), 0);
  EXPECT_GT(t["positives"].get<int>(), 0);
  EXPECT_LT(t["positives"].get<int>(), t["rows"].get<int>());
  EXPECT_EQ(t["xgboost"].get<std::string>().substr(0, 2), "1.");
  EXPECT_EQ(t["input_digest"].get<std::string>().size(), 4u + 64u);
  EXPECT_EQ(t["calibration"]["table"].size(), 126u);
  EXPECT_EQ(t["calibration"]["on_probability"], result_->model->policy().on_probability);

  const Json p = result_->model->Params();
  EXPECT_EQ(p["features"], Json(FeatureNames()));
  auto trees = TreeEnsemble::FromJson(p["trees"], FeatureCount());
  ASSERT_TRUE(trees.ok()) << trees.error().ToString();
  EXPECT_EQ(trees->trees(), 20u);
  EXPECT_EQ(result_->model->kind(), "gbt");
  EXPECT_EQ(result_->model->horizon_s(), FastOptions().horizon_s);

  // Progress: features per training scenario, every round, then calibration.
  std::size_t rounds = 0;
  for (const TrainProgress& pr : *progress_) rounds += pr.stage == "boosting" ? 1 : 0;
  EXPECT_EQ(rounds, 20u);
  ASSERT_FALSE(progress_->empty());
  EXPECT_EQ(progress_->front().stage, "features");
  EXPECT_EQ(progress_->back().stage, "calibration");

  // A different dataset has a different digest.
  Dataset changed = *data_;
  changed.scenarios[3].series[0].v[100] += 0.001;
  auto r = TrainGbt(changed, FastOptions());
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->training["input_digest"], t["input_digest"]);
}

TEST_F(GbtTrained, TellsRampsFromPlateaus) {
  const Predictor& m = *result_->model;
  // Fresh series, not in the training data (other noise).
  const Series ramp = Synthetic(true, 101);
  const Series flat = Synthetic(false, 103);
  ASSERT_EQ(ramp.events.size(), 1u);
  auto rs = m.NewState(ramp.red);
  double p_before = -1, tte_before = 0, trend = 0;
  for (std::size_t i = 0; i < ramp.t.size(); ++i) {
    const Forecast f = m.Update(*rs, ramp.t[i], ramp.v[i]);
    EXPECT_TRUE(f.probability >= 0 && f.probability <= 1);
    if (ramp.t[i] <= ramp.events[0] - 300) {
      p_before = f.probability;
      tte_before = f.tte_s;
      trend = f.why.trend_per_min;
    }
  }
  EXPECT_GT(p_before, 0.7) << "5 minutes before the crossing";
  EXPECT_NEAR(tte_before, 300, 90);
  EXPECT_NEAR(trend, 0.9, 0.3);  // 18 units in 20 minutes
  auto fs = m.NewState(flat.red);
  double worst_flat = 0;
  for (std::size_t i = 0; i < flat.t.size(); ++i) {
    const Forecast f = m.Update(*fs, flat.t[i], flat.v[i]);
    // On the plateau (from 40 minutes on, well after it levelled off).
    if (flat.t[i] >= kT0 + 2400) worst_flat = std::max(worst_flat, f.probability);
  }
  EXPECT_LT(worst_flat, 0.2);
}

TEST_F(GbtTrained, RebuildsFromItsParamsAndModelFile) {
  const Predictor& m = *result_->model;
  auto rebuilt = MakeByKind("gbt", m.Params());
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().ToString();
  ModelInfo info;
  info.name = "gbt-test";
  info.created = "2026-11-29T08:00:00Z";
  info.training = result_->training;
  auto text = SerializeModel(m, info);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto loaded = ParseModel(*text);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(core::DumpJson(loaded->predictor->Params()), core::DumpJson(m.Params()));
  EXPECT_EQ(loaded->predictor->policy().on_probability, m.policy().on_probability);

  const Series s = Synthetic(true, 105);
  auto a = m.NewState(s.red);
  auto b = (*rebuilt)->NewState(s.red);
  auto c = loaded->predictor->NewState(s.red);
  for (std::size_t i = 0; i < s.t.size(); ++i) {
    const double p = m.Update(*a, s.t[i], s.v[i]).probability;
    ASSERT_EQ((*rebuilt)->Update(*b, s.t[i], s.v[i]).probability, p) << i;
    ASSERT_EQ(loaded->predictor->Update(*c, s.t[i], s.v[i]).probability, p) << i;
  }
}

TEST(GbtPredictor, ExplainsInTheThresholdsUnit) {
  auto trees = TreeEnsemble::FromJson(
      Json{{"base_margin", 0.0}, {"roots", {0}}, {"nodes", {{-1, 0.0, 0, 0, 0}}}}, FeatureCount());
  ASSERT_TRUE(trees.ok());
  auto m = MakeGbt(std::move(*trees));
  const Threshold o2{18, false};
  auto s = m->NewState(o2);
  Forecast f;
  for (double t = 0; t <= 600; t += 10) f = m->Update(*s, kT0 + t, 20.9 - 0.1 * t / 60);
  EXPECT_DOUBLE_EQ(f.probability, 0.5);
  EXPECT_NEAR(f.why.trend_per_min, -0.1, 1e-6);  // falling, in %vol per minute
  EXPECT_NEAR(f.why.level, 19.9, 0.05);
  EXPECT_NEAR(f.tte_s, 19 * 60.0, 15);
  f = m->Update(*s, kT0 + 610, 17.5);  // past red
  EXPECT_EQ(f.tte_s, 0);
  auto flat = m->NewState(o2);
  for (double t = 0; t <= 600; t += 10) f = m->Update(*flat, kT0 + t, 20.9);
  EXPECT_EQ(f.tte_s, kNever);
}

// --- calibration --------------------------------------------------------------------------

// probability = value / 20 (clipped), or a constant.
class Proportional : public Predictor {
 public:
  explicit Proportional(double constant = -1) : constant_(constant) {}
  std::string_view kind() const override { return "proportional"; }
  std::unique_ptr<State> NewState(const Threshold&) const override {
    return std::make_unique<State>();
  }
  Forecast Update(State&, double, double value) const override {
    Forecast f;
    f.probability = constant_ >= 0 ? constant_ : std::clamp(value / 20, 0.0, 1.0);
    return f;
  }
  Json Params() const override { return Json::object(); }

 private:
  double constant_;
};

TEST(GbtCalibrate, PicksHighestRecallWithinTheFalseShare) {
  // Noise-free ramps (crossing 20 at 0.9 per minute) and plateaus at 10..13 (probability
  // 0.5..0.65): thresholds up to 0.65 raise false alarms on plateaus; 0.7 and 0.75 warn
  // every ramp at least 5 minutes ahead without false alarms (15 is reached 5.6 minutes
  // before the crossing), 0.8 and up warn too late. The lowest clean threshold has the
  // longest lead.
  Dataset d;
  for (int i = 0; i < 8; ++i) {
    Scenario sc;
    sc.name = "c-" + std::to_string(i) + ".csv";
    sc.series.push_back(Synthetic(i % 2 == 0, i, 0.0));
    d.scenarios.push_back(std::move(sc));
  }
  TrainOptions o;
  o.score.lead_s = 5 * 60;
  o.score.horizon_s = 30 * 60;
  o.max_false_share = 0.0;
  Proportional m;
  WarningPolicy p;
  p.hold_s = 123;
  m.set_policy(p);
  const Json table = Calibrate(m, d, o);
  ASSERT_EQ(table.size(), 21u * 3 * 2);  // on x confirm {1, 2, 3} x hold {300, 900} s
  EXPECT_DOUBLE_EQ(m.policy().on_probability, 0.7);
  EXPECT_DOUBLE_EQ(m.policy().off_probability, 0.7 * 0.6);
  EXPECT_EQ(m.policy().confirm, 1);  // confirming costs lead on noise-free ramps
  EXPECT_TRUE(m.policy().hold_s == 300 || m.policy().hold_s == 900);
  EXPECT_EQ(m.policy().rearm_s, p.rearm_s);  // not calibrated: kept
  for (const Json& row : table) {
    const double on = row["on_probability"].get<double>();
    if (on <= 0.5) {
      EXPECT_GT(row["false_share"].get<double>(), 0.0) << on;
    }
    if (on >= 0.7 && on <= 0.75) {
      EXPECT_EQ(row["recall"], 1.0) << on;
      EXPECT_EQ(row["false_share"], 0.0) << on;
    }
    if (on >= 0.8) {
      EXPECT_EQ(row["recall"], 0.0) << on;
    }
    for (const char* k : {"recall", "false_share", "median_lead_min", "false_per_1000h"}) {
      EXPECT_TRUE(row[k].is_number()) << k;
    }
  }

  // Allowing any false share: the same recall at lower thresholds costs false alarms,
  // so the choice stays.
  o.max_false_share = 1.0;
  Calibrate(m, d, o);
  EXPECT_DOUBLE_EQ(m.policy().on_probability, 0.7);

  // Nothing qualifies (always on: the same episodes at every candidate, half of them
  // false): the best recall x (1 - false share); all tie, so the first candidate stays.
  Proportional always(1.0);
  o.max_false_share = 0.1;
  const Json all_same = Calibrate(always, d, o);
  EXPECT_DOUBLE_EQ(always.policy().on_probability, 0.05);
  EXPECT_EQ(always.policy().confirm, 1);
  EXPECT_GT(all_same[0]["false_share"].get<double>(), 0.1);

  // A policy that never warns does not "qualify" by having no false alarms: with a
  // false-share limit nothing reaches at a useful recall, the balance decides.
  Proportional m2;
  o.max_false_share = 0.0;
  o.score.lead_s = 25 * 60;  // too long for every threshold that avoids the plateaus
  Calibrate(m2, d, o);
  EXPECT_LT(m2.policy().on_probability, 0.99);
}

}  // namespace
}  // namespace wg::predict

#pragma once
// The learned model: gradient-boosted trees on window features
// (docs/adr/0013-early-warning.md, docs/formats/predict-model.md#gbt).
//
// Training uses XGBoost through its C API (libxgboost, binary:logistic); the trained
// booster is dumped to JSON and compiled into a flat TreeEnsemble that predicts without
// calling XGBoost (a few hundred comparisons, no allocation), so inference stays within
// the 2 µs budget. A test checks the compiled ensemble against XGBoost's own predictions.
//
// Features are dimensionless so one model serves every kind and threshold: margins to the
// red threshold relative to its distance from the series' baseline, slopes over 2, 5, 15
// and 30 minutes and the times to threshold they imply, Holt's and a first-order
// (mass-balance) fit's times to threshold, noise, curvature, the excursion's duration and
// the time since a gap — see docs/formats/predict-model.md#gbt. FeatureNames() lists them
// in order; a model file records the list and a model whose list differs is refused.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/predict/dataset.h"
#include "wg/predict/model.h"

namespace wg::predict {

std::vector<std::string> FeatureNames();
std::size_t FeatureCount();

// Streaming window features of one series.
class FeatureState {
 public:
  explicit FeatureState(const Threshold& red);
  ~FeatureState();
  FeatureState(FeatureState&&) noexcept;
  FeatureState& operator=(FeatureState&&) noexcept;
  // Folds one reading in and writes FeatureCount() values into `out`.
  void Update(double t, double value, float* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A compiled tree ensemble (binary:logistic): probability = sigmoid(base_margin + sum of
// the leaves reached). Nodes are flat: split feature, threshold (XGBoost's float
// comparison x < threshold goes left), missing-value direction, children.
class TreeEnsemble {
 public:
  // From XGBoost's JSON dump (XGBoosterDumpModelEx with "json", with_stats 0): an array of
  // trees, each a nested object of nodeid/split/split_condition/yes/no/missing/children or
  // leaf. Feature names "f<i>" index the feature vector.
  static core::Result<TreeEnsemble> FromXgboostDump(const std::vector<std::string>& trees,
                                                    double base_margin);
  // From / to the model file's "trees" member.
  static core::Result<TreeEnsemble> FromJson(const core::Json& j, std::size_t n_features);
  core::Json ToJson() const;

  double Margin(const float* x) const;
  double Probability(const float* x) const;
  std::size_t trees() const { return roots_.size(); }
  std::size_t nodes() const { return nodes_.size(); }

 private:
  struct Node {
    float threshold = 0;
    std::int32_t feature = -1;  // -1: leaf (threshold holds the leaf value)
    std::int32_t yes = 0, no = 0, missing = 0;
  };
  std::vector<Node> nodes_;
  std::vector<std::int32_t> roots_;
  double base_margin_ = 0;
};

std::unique_ptr<Predictor> MakeGbt(TreeEnsemble trees);

struct TrainOptions {
  std::uint64_t seed = 1;
  int rounds = 100;
  int max_depth = 5;
  double eta = 0.1;
  double subsample = 0.8;
  double horizon_s = 25 * 60;     // label: crossing within this long after the reading
  double sample_every_s = 30;     // at most one training row per series per this long
  double validation_share = 0.25; // scenarios held out (by name hash) for calibration
  ScoreOptions score;             // lead/horizon the calibration scores with
  double max_false_share = 0.015; // calibration: highest recall with at most this share
  int threads = 1;                // XGBoost nthread (1: bit-for-bit deterministic)
};

struct TrainProgress {
  std::string stage;  // "features", "boosting", "calibration"
  std::size_t done = 0, total = 0;
};
using ProgressFn = std::function<void(const TrainProgress&)>;

struct TrainResult {
  std::unique_ptr<Predictor> model;
  core::Json training;  // facts: seed, options, rows, positives, scenarios, feature list,
                        // calibration table (on_probability → recall, false share)
};

// Trains the gbt model on `train` (deterministic for a seed and input) and calibrates its
// warning policy on the held-out part. kInvalidArgument for a dataset with no events or
// no negatives.
core::Result<TrainResult> TrainGbt(const Dataset& train, const TrainOptions& o,
                                   const ProgressFn& progress = {});

// Calibrates any model's WarningPolicy.on_probability (and off = on * 0.6) on `d`: the
// highest recall at o.score with false share <= o.max_false_share (ties: fewer false
// alarms). Returns the calibration table (JSON array) and sets the policy.
core::Json Calibrate(Predictor& m, const Dataset& d, const TrainOptions& o);

}  // namespace wg::predict

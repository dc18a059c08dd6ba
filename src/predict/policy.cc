// STUB (being written): warning policy and the per-series runner.
#include "wg/predict/model.h"

namespace wg::predict {
core::Json ToJson(const WarningPolicy&) { return core::Json::object(); }
core::Result<WarningPolicy> ParseWarningPolicy(const core::Json&) { return WarningPolicy{}; }
WarningTracker::Change WarningTracker::Update(double, double, const Threshold&, const Forecast&) { return Change::kNone; }
std::vector<Episode> RunSeries(const Predictor&, const Series&) { return {}; }
}  // namespace wg::predict

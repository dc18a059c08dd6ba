// STUB (being written): scoring.
#include "wg/predict/metrics.h"

namespace wg::predict {
Score ScoreWarnings(const std::vector<SeriesWarnings>&, const ScoreOptions&) { return {}; }
core::Json ToJson(const Score&) { return core::Json::object(); }
NabProfile NabStandard() { return {}; }
NabProfile NabRewardLowFp() { return {"reward_low_FP", 1.0, -0.22, -1.0}; }
NabProfile NabRewardLowFn() { return {"reward_low_FN", 1.0, -0.11, -2.0}; }
NabScore ScoreNab(const std::vector<double>&, const std::vector<std::pair<double, double>>&,
                  const std::vector<double>&, const NabProfile&) { return {}; }
}  // namespace wg::predict

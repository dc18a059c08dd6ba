// STUB (being written): features, tree ensemble, XGBoost training, calibration.
#include "wg/predict/gbt.h"

namespace wg::predict {
std::vector<std::string> FeatureNames() { return {}; }
std::size_t FeatureCount() { return 0; }
struct FeatureState::Impl {};
FeatureState::FeatureState(const Threshold&) : impl_(std::make_unique<Impl>()) {}
FeatureState::~FeatureState() = default;
FeatureState::FeatureState(FeatureState&&) noexcept = default;
FeatureState& FeatureState::operator=(FeatureState&&) noexcept = default;
void FeatureState::Update(double, double, float*) {}
core::Result<TreeEnsemble> TreeEnsemble::FromXgboostDump(const std::vector<std::string>&, double) { return core::Status::Internal("gbt: not yet"); }
core::Result<TreeEnsemble> TreeEnsemble::FromJson(const core::Json&, std::size_t) { return core::Status::Internal("gbt: not yet"); }
core::Json TreeEnsemble::ToJson() const { return core::Json::object(); }
double TreeEnsemble::Margin(const float*) const { return 0; }
double TreeEnsemble::Probability(const float*) const { return 0; }
std::unique_ptr<Predictor> MakeGbt(TreeEnsemble) { return nullptr; }
core::Result<TrainResult> TrainGbt(const Dataset&, const TrainOptions&, const ProgressFn&) { return core::Status::Internal("gbt: not yet"); }
core::Json Calibrate(Predictor&, const Dataset&, const TrainOptions&) { return core::Json::array(); }
}  // namespace wg::predict

// STUB (being written): static, linear (predict_linear), Holt; MakeByKind.
#include "wg/predict/model.h"

namespace wg::predict {
std::unique_ptr<Predictor> MakeStatic() { return nullptr; }
std::unique_ptr<Predictor> MakeLinear(double) { return nullptr; }
std::unique_ptr<Predictor> MakeHolt(double, double) { return nullptr; }
core::Result<std::unique_ptr<Predictor>> MakeByKind(std::string_view, const core::Json&) {
  return core::Status::Internal("models: not yet");
}
}  // namespace wg::predict

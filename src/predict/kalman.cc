// STUB (being written): the mass-balance Kalman model.
#include "wg/predict/model.h"

namespace wg::predict {
std::unique_ptr<Predictor> MakeKalman(const core::Json&) { return nullptr; }
}  // namespace wg::predict

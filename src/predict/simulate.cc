// STUB (being written): the scenario simulator.
#include "wg/predict/simulate.h"

namespace wg::predict {
core::Status ValidateSimOptions(const SimOptions&) { return core::Status::Ok(); }
core::Result<Dataset> Simulate(const SimOptions&, const std::function<void(int, int)>&) { return core::Status::Internal("simulate: not yet"); }
}  // namespace wg::predict

// Site plans (site_plan.h). STUB: to be implemented.
#include "wg/presence/site_plan.h"

namespace wg::presence {

core::Result<SitePlan> ParseSitePlan(const core::Json&) {
  return core::Status::Internal("site plans are not implemented yet");
}

core::Json ToJson(const SitePlan&) { return core::Json::object(); }

}  // namespace wg::presence

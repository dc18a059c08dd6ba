// STUB (being written): red thresholds from the monitoring rulebook.
#include "wg/predict/thresholds.h"

namespace wg::predict {
std::optional<RulebookThreshold> RedThresholdOfKind(const monitor::MonitorRulebook&, std::string_view) { return std::nullopt; }
ThresholdSource RulebookThresholds(const monitor::MonitorRulebook& book) {
  return [&book](std::string_view kind) -> std::optional<Threshold> {
    auto r = RedThresholdOfKind(book, kind);
    if (!r) return std::nullopt;
    return r->threshold;
  };
}
}  // namespace wg::predict

#pragma once
// Red thresholds from the monitoring rulebook (data/rules/monitor/thresholds.json): for a
// kind, the red threshold_high / threshold_low rule that is always on (not profile_only),
// converted to the kind's default unit, with the same direction's yellow rule as `warn`.
// o2 → 18 %vol low (preset.o2.low_red, warn 19.5); h2s → 20 mg/m3 (GB/T 50493 AH, warn 10);
// ch4/combustible → 50 %LEL (warn 25); co → 40 mg/m3; pressure/temperature: none (the
// dataset's thresholds.json or the point's own limits must say).

#include "wg/monitor/rulebook.h"
#include "wg/predict/dataset.h"

namespace wg::predict {

struct RulebookThreshold {
  Threshold threshold;
  std::string rule;    // "preset.o2.low_red"
  std::string clause;  // its clause reference
};
std::optional<RulebookThreshold> RedThresholdOfKind(const monitor::MonitorRulebook& book,
                                                    std::string_view kind);
ThresholdSource RulebookThresholds(const monitor::MonitorRulebook& book);  // book outlives it

}  // namespace wg::predict

// Red thresholds from the monitoring rulebook (header comment of thresholds.h).
#include "wg/predict/thresholds.h"

#include <cmath>

namespace wg::predict {
namespace {

using monitor::Level;
using monitor::RuleDef;
using monitor::RuleKind;

// A threshold rule that always applies to every point of the kind: not switched on by a
// profile, not restricted to one gas (other than the kind's own) or to a band of LELs.
bool AlwaysOnForKind(const RuleDef& r, const monitor::KindDef& k) {
  if (r.kind != RuleKind::kThresholdHigh && r.kind != RuleKind::kThresholdLow) return false;
  if (r.point_kind != k.code || r.profile_only) return false;
  if (!r.gas.empty() && r.gas != k.gas) return false;
  return r.gas_lel_min == 0 && r.gas_lel_max == 0;
}

}  // namespace

std::optional<RulebookThreshold> RedThresholdOfKind(const monitor::MonitorRulebook& book,
                                                    std::string_view kind) {
  const monitor::KindDef* k = book.Kind(kind);
  if (k == nullptr || k->units.empty()) return std::nullopt;
  const std::string& unit = k->units.front().unit;
  auto in_unit = [&](const RuleDef& r) -> std::optional<double> {
    auto f = book.UnitFactor(r.unit, unit, *k, "");
    if (!f) return std::nullopt;
    return r.value * *f;
  };
  // The red rule: the first one's direction; among several of that direction, the one
  // that fires first (lowest high value, highest low value).
  const RuleDef* red = nullptr;
  double red_value = 0;
  for (const auto& r : book.rules()) {
    if (r.level != Level::kRed || !AlwaysOnForKind(r, *k)) continue;
    if (red != nullptr && r.kind != red->kind) continue;
    auto v = in_unit(r);
    if (!v) continue;
    const bool high = r.kind == RuleKind::kThresholdHigh;
    if (red == nullptr || (high ? *v < red_value : *v > red_value)) {
      red = &r;
      red_value = *v;
    }
  }
  if (red == nullptr) return std::nullopt;
  const bool high = red->kind == RuleKind::kThresholdHigh;

  // Warn: the same direction's yellow rule on the safe side of red; the one that fires
  // first when there are several.
  double warn = std::nan("");
  for (const auto& r : book.rules()) {
    if (r.level != Level::kYellow || r.kind != red->kind || !AlwaysOnForKind(r, *k)) continue;
    auto v = in_unit(r);
    if (!v || (high ? !(*v < red_value) : !(*v > red_value))) continue;
    if (std::isnan(warn) || (high ? *v < warn : *v > warn)) warn = *v;
  }
  RulebookThreshold out;
  out.threshold = Threshold{red_value, high, warn};
  out.rule = red->id;
  out.clause = red->clause;
  return out;
}

ThresholdSource RulebookThresholds(const monitor::MonitorRulebook& book) {
  return [&book](std::string_view kind) -> std::optional<Threshold> {
    auto r = RedThresholdOfKind(book, kind);
    if (!r) return std::nullopt;
    return r->threshold;
  };
}

}  // namespace wg::predict

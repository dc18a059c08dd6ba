// Gas-analysis check kinds (GB 30871-2022 §5.3, §6.4, §6.5, §10, §11.10; GBZ 2.1-2019).
// Params and semantics: docs/formats/permit-rules.md.
//
// Criteria kinds (oxygen, combustible, toxic) judge the LATEST reading of each gas at each
// analysis point: a failed sample followed by a passing re-test after ventilation is the
// normal course of events, and the permit's history keeps both readings.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "rules_internal.h"

namespace wg::permit {

namespace {

using core::Json;
using core::Status;
using internal::CheckKind;
using internal::EvalContext;
using internal::Findings;
using internal::FormatDuration;
using internal::FormatNumber;
using internal::Vars;

// Molar volume of an ideal gas at 20 °C and 101.325 kPa, L/mol. GBZ 2.1 limits are
// stated in mg/m3 for the workplace ("标准采样状况" of GBZ 159 is 20 °C, 101.3 kPa), so
// 20 °C is the reference; 24.04 is the figure in common use (22.414 × 293.15 / 273.15
// gives 24.06; the 0.1 % difference is below instrument resolution).
constexpr double kMolarVolume20C = 24.04;
// Comparisons allow for binary rounding of decimal readings (19.5 stays 19.5).
constexpr double kEps = 1e-9;

bool IsCombustible(const GasSpec& g) { return g.kind == "combustible" || g.kind == "combustible_toxic"; }
bool IsToxic(const GasSpec& g) { return g.kind == "toxic" || g.kind == "combustible_toxic"; }

// --- params -------------------------------------------------------------------------

Status Only(const Json& params, std::initializer_list<std::string_view> allowed) {
  if (!params.is_object()) return Status::InvalidArgument("expected an object", "params");
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return Status::InvalidArgument("unknown member", "params." + it.key());
    }
  }
  return Status::Ok();
}

Status NeedNumber(const Json& params, std::string_view key, double min, double max,
                  bool required = true) {
  auto it = params.find(key);
  if (it == params.end()) {
    return required ? Status::InvalidArgument("is required", "params." + std::string(key))
                    : Status::Ok();
  }
  if (!it->is_number() || it->get<double>() < min || it->get<double>() > max) {
    return Status::InvalidArgument(
        "expected a number between " + FormatNumber(min) + " and " + FormatNumber(max),
        "params." + std::string(key));
  }
  return Status::Ok();
}

Status NeedBool(const Json& params, std::string_view key) {
  auto it = params.find(key);
  if (it != params.end() && !it->is_boolean()) {
    return Status::InvalidArgument("expected true or false", "params." + std::string(key));
  }
  return Status::Ok();
}

Status NeedStrings(const Json& params, std::string_view key,
                   std::initializer_list<std::string_view> allowed = {}) {
  auto it = params.find(key);
  if (it == params.end()) return Status::Ok();
  std::string field = "params." + std::string(key);
  if (!it->is_array()) return Status::InvalidArgument("expected an array of strings", field);
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    std::string efield = field + "[" + std::to_string(i) + "]";
    if (!e.is_string() || e.get<std::string>().empty()) {
      return Status::InvalidArgument("expected a non-empty string", efield);
    }
    if (allowed.size() != 0 &&
        std::find(allowed.begin(), allowed.end(), e.get<std::string>()) == allowed.end()) {
      return Status::InvalidArgument("unknown value '" + e.get<std::string>() + "'", efield);
    }
  }
  return Status::Ok();
}

double Num(const Json& params, std::string_view key, double fallback) {
  auto it = params.find(key);
  return it != params.end() && it->is_number() ? it->get<double>() : fallback;
}

bool Flag(const Json& params, std::string_view key) {
  auto it = params.find(key);
  return it != params.end() && it->is_boolean() && it->get<bool>();
}

core::Duration Dur(const Json& params, std::string_view key, core::Duration fallback) {
  auto d = internal::ParseDurationParam(params, key);
  return d ? *d : fallback;
}

bool Contains(const Json& params, std::string_view key, std::string_view value) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_array()) return false;
  for (const auto& e : *it) {
    if (e.is_string() && e.get<std::string_view>() == value) return true;
  }
  return false;
}

// --- readings -------------------------------------------------------------------------

std::string GasField(std::size_t i, std::string_view member) {
  return "gas[" + std::to_string(i) + "]." + std::string(member);
}

// Indices of the latest reading of each (point, gas), in document order.
std::vector<std::size_t> LatestPerPointAndGas(const Permit& p) {
  std::vector<std::size_t> idx(p.gas.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = p.gas[a];
    const auto& y = p.gas[b];
    if (x.point != y.point) return x.point < y.point;
    if (x.gas != y.gas) return x.gas < y.gas;
    if (x.time != y.time) return x.time < y.time;
    return a < b;
  });
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    bool last = k + 1 == idx.size() || p.gas[idx[k + 1]].point != p.gas[idx[k]].point ||
                p.gas[idx[k + 1]].gas != p.gas[idx[k]].gas;
    if (last) out.push_back(idx[k]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Vars ReadingVars(const GasReading& r) {
  return Vars{{"gas", r.gas},
              {"point", r.point},
              {"value", FormatNumber(r.value)},
              {"unit", r.unit},
              {"time", core::FormatShanghai(r.time)}};
}

bool InHazardArea(const EvalContext& ctx, const Json& params) {
  const Permit& p = ctx.permit;
  if (p.temporary_power && p.temporary_power->hazardous_area) return true;
  if (p.excavation && p.excavation->hazardous_area) return true;
  return Contains(params, "hazard_areas", p.location.area_class);
}

// --- gas_required ---------------------------------------------------------------------

Status ValidateRequired(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"kinds", "only_hazardous_area", "hazard_areas", "depth_over_m",
                                   "except_fixed_hot_work_area"}));
  WG_RETURN_IF_ERROR(NeedStrings(params, "kinds", {"oxygen", "combustible", "toxic"}));
  WG_RETURN_IF_ERROR(NeedStrings(params, "hazard_areas"));
  WG_RETURN_IF_ERROR(NeedBool(params, "only_hazardous_area"));
  WG_RETURN_IF_ERROR(NeedBool(params, "except_fixed_hot_work_area"));
  return NeedNumber(params, "depth_over_m", 0, 1000, false);
}

void EvalRequired(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const Json& params = rule.params;
  if (Flag(params, "except_fixed_hot_work_area") && p.hot_work &&
      p.hot_work->in_fixed_hot_work_area) {
    return;
  }
  if (Flag(params, "only_hazardous_area") && !InHazardArea(ctx, params)) return;
  if (params.contains("depth_over_m")) {
    double depth = p.excavation ? p.excavation->depth_m : 0;
    if (!(depth > Num(params, "depth_over_m", 0) + kEps)) return;
  }
  auto kinds = params.find("kinds");
  if (kinds == params.end() || kinds->empty()) {
    if (p.gas.empty()) out.Add(rule, "gas", {{"kind", "any"}});
    return;
  }
  for (const auto& k : *kinds) {
    auto kind = k.get<std::string_view>();
    bool found = false;
    for (const auto& r : p.gas) {
      const GasSpec* g = ctx.book.FindGas(r.gas);
      if (g == nullptr) continue;
      if ((kind == "oxygen" && g->kind == "oxygen") || (kind == "combustible" && IsCombustible(*g)) ||
          (kind == "toxic" && IsToxic(*g))) {
        found = true;
        break;
      }
    }
    if (!found) out.Add(rule, "gas", {{"kind", std::string(kind)}});
  }
}

// --- gas_before_start -----------------------------------------------------------------

Status ValidateBeforeStart(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"max_age"}));
  return internal::ParseDurationParam(params, "max_age").error();
}

// The latest sample at each analysis point must be taken at most max_age before the
// reference start. Samples after the reference start do not count. The points judged are
// those sampled on the reference start's (Shanghai) day, since analysis is repeated daily
// (§5.3) and yesterday's points may have been abandoned; with none that day, all points.
void EvalBeforeStart(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (p.gas.empty()) return;  // gas_required reports a missing analysis
  const core::Duration max_age = Dur(rule.params, "max_age", core::Duration::Minutes(30));
  const core::Timestamp ref = ctx.reference_start;
  const core::Date ref_day = core::ShanghaiDate(ref);
  bool any_today = false;
  bool any_before = false;
  for (const auto& r : p.gas) {
    if (r.time > ref) continue;
    any_before = true;
    if (core::ShanghaiDate(r.time) == ref_day) any_today = true;
  }
  Vars vars{{"limit", FormatDuration(max_age)}, {"start", core::FormatShanghai(ref)}};
  if (!any_before) {
    vars["point"] = "";
    vars["age"] = "-";
    out.Add(rule, "gas", vars);
    return;
  }
  // Latest sample per point at or before ref.
  std::vector<std::size_t> latest;  // indices, one per point
  for (std::size_t i = 0; i < p.gas.size(); ++i) {
    const auto& r = p.gas[i];
    if (r.time > ref) continue;
    if (any_today && core::ShanghaiDate(r.time) != ref_day) continue;
    auto it = std::find_if(latest.begin(), latest.end(),
                           [&](std::size_t j) { return p.gas[j].point == r.point; });
    if (it == latest.end()) {
      latest.push_back(i);
    } else if (p.gas[*it].time <= r.time) {
      *it = i;
    }
  }
  for (std::size_t i : latest) {
    core::Duration age = ref - p.gas[i].time;
    if (age > max_age) {
      Vars v = vars;
      v["point"] = p.gas[i].point;
      v["age"] = FormatDuration(age);
      v["time"] = core::FormatShanghai(p.gas[i].time);
      out.Add(rule, GasField(i, "time"), v);
    }
  }
}

// --- gas_retest_after_break -------------------------------------------------------------

Status ValidateRetest(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"break_over"}));
  return internal::ParseDurationParam(params, "break_over").error();
}

void EvalRetest(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& brk = ctx.options.break_length;
  if (!brk) return;
  const core::Duration limit = Dur(rule.params, "break_over", core::Duration::Minutes(60));
  if (!(*brk > limit)) return;
  const core::Timestamp break_start = ctx.options.at - *brk;
  for (const auto& r : ctx.permit.gas) {
    if (r.time > break_start && r.time <= ctx.options.at) return;
  }
  out.Add(rule, "gas", {{"break", FormatDuration(*brk)}, {"limit", FormatDuration(limit)}});
}

// --- gas_daily ------------------------------------------------------------------------

Status ValidateDaily(const Json& params) { return Only(params, {}); }

// Every Shanghai calendar day from the start of work up to the check day (and not past the
// planned end) needs a reading taken that day, before work: on the first day at or before
// the start of work, on later days at or before the check instant.
void EvalDaily(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const core::Timestamp at = ctx.options.at;
  const core::Timestamp work_start = p.started_at ? *p.started_at : ctx.reference_start;
  if (at < work_start) return;
  const core::Date first = core::ShanghaiDate(work_start);
  core::Date last = core::ShanghaiDate(at);
  if (p.planned_end > p.planned_start) {
    last = std::min(last, core::ShanghaiDate(p.planned_end - core::Duration{1}));
  }
  int reported = 0;
  for (core::Date d = first; d <= last && reported < 10; d = d.AddDays(1)) {
    const core::Timestamp bound = d == first ? work_start : at;
    bool found = false;
    for (const auto& r : p.gas) {
      if (r.time <= bound && core::ShanghaiDate(r.time) == d) {
        found = true;
        break;
      }
    }
    if (!found) {
      out.Add(rule, "gas", {{"date", core::FormatDate(d)}});
      ++reported;
    }
  }
}

// --- gas_continuous -------------------------------------------------------------------

Status ValidateContinuous(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"monitor", "max_gap"}));
  WG_RETURN_IF_ERROR(NeedBool(params, "monitor"));
  bool monitor = Flag(params, "monitor");
  bool gap = params.contains("max_gap");
  if (monitor == gap) {
    return Status::InvalidArgument("set exactly one of \"monitor\": true or \"max_gap\"", "params");
  }
  if (gap) return internal::ParseDurationParam(params, "max_gap").error();
  return Status::Ok();
}

void EvalContinuous(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (Flag(rule.params, "monitor")) {
    if (p.hot_work && p.hot_work->continuous_monitor.empty()) {
      out.Add(rule, "hot_work.continuous_monitor");
    } else if (p.confined_space && p.confined_space->continuous_monitor.empty()) {
      out.Add(rule, "confined_space.continuous_monitor");
    }
    return;
  }
  // "Recorded every 2 h" (§6.5): judged at the start stage once work is under way.
  if (ctx.stage != Stage::kStart || !p.started_at) return;
  const core::Duration gap = Dur(rule.params, "max_gap", core::Duration::Hours(2));
  const core::Timestamp at = ctx.options.at;
  if (at - *p.started_at <= gap) return;
  std::optional<core::Timestamp> latest;
  for (const auto& r : p.gas) {
    if (r.time <= at && (!latest || r.time > *latest)) latest = r.time;
  }
  if (latest && at - *latest <= gap) return;
  out.Add(rule, "gas",
          {{"limit", FormatDuration(gap)},
           {"age", latest ? FormatDuration(at - *latest) : std::string("-")}});
}

// --- gas_oxygen -----------------------------------------------------------------------

Status ValidateOxygen(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"min", "max", "max_enriched", "only_oxygen_equipment"}));
  WG_RETURN_IF_ERROR(NeedNumber(params, "min", 0, 100, false));
  WG_RETURN_IF_ERROR(NeedNumber(params, "max", 0, 100));
  WG_RETURN_IF_ERROR(NeedNumber(params, "max_enriched", 0, 100, false));
  WG_RETURN_IF_ERROR(NeedBool(params, "only_oxygen_equipment"));
  if (Num(params, "min", 0) > Num(params, "max", 100)) {
    return Status::InvalidArgument("must not exceed params.max", "params.min");
  }
  return Status::Ok();
}

void EvalOxygen(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const Json& params = rule.params;
  if (Flag(params, "only_oxygen_equipment") && !(p.hot_work && p.hot_work->oxygen_equipment)) {
    return;
  }
  const bool has_min = params.contains("min");
  const double min = Num(params, "min", 0);
  double max = Num(params, "max", 100);
  if (params.contains("max_enriched") && p.confined_space && p.confined_space->oxygen_enriched) {
    max = Num(params, "max_enriched", max);
  }
  for (std::size_t i : LatestPerPointAndGas(p)) {
    const auto& r = p.gas[i];
    const GasSpec* g = ctx.book.FindGas(r.gas);
    if (g == nullptr || g->kind != "oxygen" || r.unit != "%vol") continue;  // gas_known
    if ((has_min && r.value < min - kEps) || r.value > max + kEps) {
      Vars v = ReadingVars(r);
      v["min"] = has_min ? FormatNumber(min) : "-";
      v["max"] = FormatNumber(max);
      out.Add(rule, GasField(i, "value"), v);
    }
  }
}

// --- gas_combustible ------------------------------------------------------------------

Status ValidateCombustible(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"lel_threshold_pct", "max_vol_pct_high_lel",
                                   "max_vol_pct_low_lel"}));
  WG_RETURN_IF_ERROR(NeedNumber(params, "lel_threshold_pct", 0.01, 100));
  WG_RETURN_IF_ERROR(NeedNumber(params, "max_vol_pct_high_lel", 0, 100));
  return NeedNumber(params, "max_vol_pct_low_lel", 0, 100);
}

void EvalCombustible(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const double threshold = Num(rule.params, "lel_threshold_pct", 4.0);
  const double high = Num(rule.params, "max_vol_pct_high_lel", 0.5);
  const double low = Num(rule.params, "max_vol_pct_low_lel", 0.2);
  for (std::size_t i : LatestPerPointAndGas(p)) {
    const auto& r = p.gas[i];
    const GasSpec* g = ctx.book.FindGas(r.gas);
    if (g == nullptr || !IsCombustible(*g) || !g->lel_vol_pct) continue;
    auto vol = ToVolPercent(*g, r.value, r.unit);
    if (!vol) continue;  // gas_known reports the unit
    const double limit = *g->lel_vol_pct >= threshold - kEps ? high : low;
    if (*vol > limit + kEps) {
      Vars v = ReadingVars(r);
      v["vol"] = FormatNumber(*vol);
      v["limit"] = FormatNumber(limit);
      v["lel"] = FormatNumber(*g->lel_vol_pct);
      out.Add(rule, GasField(i, "value"), v);
    }
  }
}

// --- gas_toxic ------------------------------------------------------------------------

Status ValidateToxic(const Json& params) { return Only(params, {}); }

void EvalToxic(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  for (std::size_t i : LatestPerPointAndGas(p)) {
    const auto& r = p.gas[i];
    const GasSpec* g = ctx.book.FindGas(r.gas);
    if (g == nullptr || !IsToxic(*g) || !g->oel_mg_m3) continue;
    auto mg = ToMgPerM3(*g, r.value, r.unit);
    if (!mg) continue;
    if (*mg > *g->oel_mg_m3 + kEps) {
      Vars v = ReadingVars(r);
      v["mg"] = FormatNumber(*mg);
      v["limit"] = FormatNumber(*g->oel_mg_m3);
      v["oel_type"] = g->oel_type;
      out.Add(rule, GasField(i, "value"), v);
    }
  }
}

// --- gas_known ------------------------------------------------------------------------

Status ValidateKnown(const Json& params) { return Only(params, {}); }

void EvalKnown(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  for (std::size_t i = 0; i < p.gas.size(); ++i) {
    const auto& r = p.gas[i];
    const GasSpec* g = ctx.book.FindGas(r.gas);
    if (g == nullptr) {
      Vars v = ReadingVars(r);
      v["problem"] = "unknown gas";
      out.Add(rule, GasField(i, "gas"), v);
      continue;
    }
    bool fits = g->kind == "oxygen"
                    ? r.unit == "%vol"
                    : ((IsCombustible(*g) && ToVolPercent(*g, r.value, r.unit).has_value()) ||
                       (IsToxic(*g) && ToMgPerM3(*g, r.value, r.unit).has_value()));
    if (!fits) {
      Vars v = ReadingVars(r);
      v["problem"] = "unit";
      out.Add(rule, GasField(i, "unit"), v);
    }
  }
}

constexpr CheckKind kGasKinds[] = {
    {"gas_required", ValidateRequired, EvalRequired, false, false},
    {"gas_before_start", ValidateBeforeStart, EvalBeforeStart, false, false},
    {"gas_retest_after_break", ValidateRetest, EvalRetest, false, false},
    {"gas_daily", ValidateDaily, EvalDaily, false, false},
    {"gas_continuous", ValidateContinuous, EvalContinuous, false, false},
    {"gas_oxygen", ValidateOxygen, EvalOxygen, false, true},
    {"gas_combustible", ValidateCombustible, EvalCombustible, false, true},
    {"gas_toxic", ValidateToxic, EvalToxic, false, true},
    {"gas_known", ValidateKnown, EvalKnown, false, true},
};

}  // namespace

std::optional<double> ToVolPercent(const GasSpec& gas, double value, std::string_view unit) {
  if (!std::isfinite(value)) return std::nullopt;
  if (unit == "%vol") return value;
  if (unit == "%LEL") {
    if (!gas.lel_vol_pct) return std::nullopt;
    return value * *gas.lel_vol_pct / 100.0;
  }
  if (unit == "ppm") return value / 10000.0;
  if (unit == "mg/m3") {
    if (!gas.molar_mass) return std::nullopt;
    return value * kMolarVolume20C / *gas.molar_mass / 10000.0;
  }
  return std::nullopt;
}

std::optional<double> ToMgPerM3(const GasSpec& gas, double value, std::string_view unit) {
  if (!std::isfinite(value)) return std::nullopt;
  if (unit == "mg/m3") return value;
  if (!gas.molar_mass) return std::nullopt;
  double ppm = 0;
  if (unit == "ppm") {
    ppm = value;
  } else if (unit == "%vol" || unit == "%LEL") {
    auto vol = ToVolPercent(gas, value, unit);
    if (!vol) return std::nullopt;
    ppm = *vol * 10000.0;
  } else {
    return std::nullopt;
  }
  return ppm * *gas.molar_mass / kMolarVolume20C;
}

namespace internal {
std::span<const CheckKind> GasKinds() { return kGasKinds; }
}  // namespace internal

}  // namespace wg::permit

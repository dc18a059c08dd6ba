// Grade check kinds and ComputeGrade (GB 30871-2022 §5.1, B.1; GB/T 3608-2008; §9.1).
// Params and semantics: docs/formats/permit-rules.md.
//
// ComputeGrade takes its vocabularies (area classes, method-B factors, raising situations,
// mass thresholds) from the params of the book's hot_work_grade / hot_work_escalation /
// height_grade / lifting_grade rules, so a safety manager changes them in data; without
// such a rule the GB 30871-2022 defaults below apply.
#include <algorithm>
#include <cmath>

#include "rules_internal.h"

namespace wg::permit {

namespace {

using core::Json;
using core::Status;
using internal::CheckKind;
using internal::EvalContext;
using internal::Findings;
using internal::FormatNumber;
using internal::Vars;

constexpr double kEps = 1e-9;

// --- params ---------------------------------------------------------------------------

Status Only(const Json& params, std::initializer_list<std::string_view> allowed) {
  if (!params.is_object()) return Status::InvalidArgument("expected an object", "params");
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return Status::InvalidArgument("unknown member", "params." + it.key());
    }
  }
  return Status::Ok();
}

Status NeedStrings(const Json& params, std::string_view key, bool required) {
  std::string field = "params." + std::string(key);
  auto it = params.find(key);
  if (it == params.end()) {
    return required ? Status::InvalidArgument("is required", field) : Status::Ok();
  }
  if (!it->is_array()) return Status::InvalidArgument("expected an array of strings", field);
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string() || (*it)[i].get<std::string>().empty()) {
      return Status::InvalidArgument("expected a non-empty string",
                                     field + "[" + std::to_string(i) + "]");
    }
  }
  return Status::Ok();
}

Status NeedNumber(const Json& params, std::string_view key, double min, double max) {
  auto it = params.find(key);
  std::string field = "params." + std::string(key);
  if (it == params.end()) return Status::InvalidArgument("is required", field);
  if (!it->is_number() || it->get<double>() < min || it->get<double>() > max) {
    return Status::InvalidArgument(
        "expected a number between " + FormatNumber(min) + " and " + FormatNumber(max), field);
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

Status NeedOneOf(const Json& params, std::string_view key,
                 std::initializer_list<std::string_view> values, bool required) {
  auto it = params.find(key);
  std::string field = "params." + std::string(key);
  if (it == params.end()) {
    return required ? Status::InvalidArgument("is required", field) : Status::Ok();
  }
  if (it->is_string() &&
      std::find(values.begin(), values.end(), it->get<std::string_view>()) != values.end()) {
    return Status::Ok();
  }
  std::string list;
  for (auto v : values) list += (list.empty() ? "" : ", ") + std::string(v);
  return Status::InvalidArgument("expected one of " + list, field);
}

bool Contains(const Json& params, std::string_view key, std::string_view value) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_array()) return false;
  for (const auto& e : *it) {
    if (e.is_string() && e.get<std::string_view>() == value) return true;
  }
  return false;
}

double Num(const Json& params, std::string_view key, double fallback) {
  auto it = params.find(key);
  return it != params.end() && it->is_number() ? it->get<double>() : fallback;
}

bool FlagOr(const Json& params, std::string_view key, bool fallback) {
  auto it = params.find(key);
  return it != params.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string_view Str(const Json& params, std::string_view key, std::string_view fallback) {
  auto it = params.find(key);
  return it != params.end() && it->is_string() ? it->get<std::string_view>() : fallback;
}

// The params of the book's first rule of `check` that applies to `type` and carries
// `member`; nullptr when there is none (defaults apply).
const Json* BookParams(const PermitRulebook& book, std::string_view check, PermitType type,
                       std::string_view member) {
  for (const auto& r : book.rules()) {
    if (r.check != check) continue;
    if (!r.types.empty() && std::find(r.types.begin(), r.types.end(), type) == r.types.end()) {
      continue;
    }
    if (member.empty() || r.params.contains(member)) return &r.params;
  }
  return nullptr;
}

const Json& DefaultHotWorkParams() {
  static const Json kDefault = {
      {"hazard_areas", {"fire_explosion_hazard", "hazardous_area", "major_hazard_tank_dike",
                        "pipe_rack"}},
      {"tank_dike_areas", {"major_hazard_tank_dike"}},
      {"pipe_rack_areas", {"pipe_rack"}},
      {"fixed_areas", {"fixed_hot_work_area"}}};
  return kDefault;
}

const Json& DefaultHeightParams() {
  static const Json kDefault = {{"min_height_m", 2}, {"raising_situations", Json::object()}};
  return kDefault;
}

const Json& DefaultLiftingParams() {
  static const Json kDefault = {
      {"grade1_over_t", 100}, {"grade2_from_t", 40}, {"no_ticket_below_t", 10}};
  return kDefault;
}

// --- hot work ---------------------------------------------------------------------------

void AddReason(ComputedGrade& g, std::string reason) {
  if (std::find(g.reasons.begin(), g.reasons.end(), reason) == g.reasons.end()) {
    g.reasons.push_back(std::move(reason));
  }
}

// Escalation reasons for the planned window [start, end): any moment on a holiday, a rest
// day or in the night window.
void Escalation(const Calendar& cal, core::Timestamp start, core::Timestamp end,
                const Json& params, std::vector<std::string>& reasons) {
  if (end <= start) end = start + core::Duration{1};
  const bool want_night = FlagOr(params, "night", true);
  const bool want_holiday = FlagOr(params, "holiday", true);
  const bool want_rest = FlagOr(params, "rest_day", true);
  bool night = false, holiday = false, rest = false;
  const core::Date first = core::ShanghaiDate(start);
  core::Date last = core::ShanghaiDate(end - core::Duration{1});
  if (core::DaysBetween(first, last) > 400) last = first.AddDays(400);  // absurd windows
  for (core::Date d = first; d <= last; d = d.AddDays(1)) {
    if (cal.IsHoliday(d)) {
      holiday = true;
    } else if (cal.IsRestDay(d)) {
      rest = true;
    }
  }
  const core::Duration ns = core::Duration::Minutes(cal.night_start_minute);
  const core::Duration ne = core::Duration::Minutes(cal.night_end_minute);
  const bool wraps = cal.night_start_minute > cal.night_end_minute;
  for (core::Date d = first.AddDays(-1); d <= last && !night; d = d.AddDays(1)) {
    const core::Timestamp day = core::ShanghaiStartOfDay(d);
    const core::Timestamp a = day + ns;
    const core::Timestamp b = wraps ? day + core::Duration::Days(1) + ne : day + ne;
    if (cal.night_start_minute != cal.night_end_minute && a < end && start < b) night = true;
  }
  if (want_holiday && holiday) reasons.emplace_back("holiday");
  if (want_rest && rest) reasons.emplace_back("rest_day");
  if (want_night && night) reasons.emplace_back("night");
}

std::optional<ComputedGrade> HotWorkGrade(const PermitRulebook& book, const Permit& p) {
  const Json* found = BookParams(book, "hot_work_grade", PermitType::kHotWork, "hazard_areas");
  const Json& params = found != nullptr ? *found : DefaultHotWorkParams();
  const std::string& area = p.location.area_class;
  ComputedGrade g;
  const HotWorkSection empty;
  const HotWorkSection& hw = p.hot_work ? *p.hot_work : empty;
  if (hw.in_fixed_hot_work_area || Contains(params, "fixed_areas", area)) {
    g.reasons.emplace_back("fixed_hot_work_area");  // §5.5: outside the graded system
    return g;
  }
  const bool hazard = Contains(params, "hazard_areas", area);
  const bool dike = Contains(params, "tank_dike_areas", area);
  const bool rack = Contains(params, "pipe_rack_areas", area);
  if (hazard && hw.on_running_equipment) AddReason(g, "running_equipment");
  if (hazard && hw.hot_tapping) AddReason(g, "hot_tapping");
  if (dike) AddReason(g, "tank_dike");
  if (!g.reasons.empty()) {
    g.base = "special";
  } else if (hazard) {
    g.base = "grade1";
    AddReason(g, rack ? "pipe_rack" : "hazard_area");
    // §5.1.2 c): a shut-down, purged, tested and isolated unit may be managed as grade 2
    // (approval of the production or safety head); never a pipe rack (always grade 1).
    if (hw.shutdown_and_isolated && !rack) {
      g.base = "grade2";
      AddReason(g, "shutdown_and_isolated");
    }
  } else {
    g.base = "grade2";
    if (rack) {  // a pipe rack outside the listed hazard areas is still grade 1
      g.base = "grade1";
      AddReason(g, "pipe_rack");
    }
  }
  g.required = g.base;
  if (const Json* esc = BookParams(book, "hot_work_escalation", PermitType::kHotWork, "")) {
    std::vector<std::string> why;
    Escalation(book.calendar(), p.planned_start, p.planned_end, *esc, why);
    if (!why.empty()) {
      g.required = NextGradeUp(PermitType::kHotWork, g.base);
      for (auto& w : why) AddReason(g, std::move(w));
    }
  }
  return g;
}

// --- height -----------------------------------------------------------------------------

// GB/T 3608-2008 bands, upper bound inclusive: 2 m <= h <= 5 m (1), 5 m < h <= 15 m (2),
// 15 m < h <= 30 m (3), h > 30 m (4); exactly 5 m is band 1, exactly 15 m band 2.
int HeightBand(double h) {
  if (h <= 5 + kEps) return 1;
  if (h <= 15 + kEps) return 2;
  if (h <= 30 + kEps) return 3;
  return 4;
}

constexpr std::string_view kHeightGrades[] = {"I", "II", "III", "IV"};

std::optional<ComputedGrade> HeightGrade(const PermitRulebook& book, const Permit& p) {
  const Json* found = BookParams(book, "height_grade", PermitType::kHeight, "");
  const Json& params = found != nullptr ? *found : DefaultHeightParams();
  ComputedGrade g;
  const double h = p.height ? p.height->height_m : 0;
  if (h < Num(params, "min_height_m", 2) - kEps) {
    g.reasons.emplace_back("below_2m");  // §3: not work at height
    return g;
  }
  int band = HeightBand(h);
  g.reasons.push_back("band_" + std::to_string(band));
  int grade = band;  // method A: Ⅰ..Ⅳ
  if (p.height && !p.height->method_b_factors.empty()) {
    grade = std::min(band + 1, 4);  // method B: Ⅱ Ⅲ Ⅳ Ⅳ
    g.reasons.emplace_back("method_b");
  }
  g.base = std::string(kHeightGrades[grade - 1]);
  int required = grade;
  auto sit = params.find("raising_situations");
  if (p.height && sit != params.end() && sit->is_object()) {
    for (const auto& code : p.height->raising_situations) {
      auto it = sit->find(code);
      if (it == sit->end() || !it->is_string()) continue;
      int rank = GradeRank(PermitType::kHeight, it->get<std::string_view>());
      if (rank + 1 > required) required = rank + 1;
      if (rank + 1 > grade) AddReason(g, code);
    }
  }
  g.required = std::string(kHeightGrades[required - 1]);
  return g;
}

// --- lifting ----------------------------------------------------------------------------

std::string LiftingGradeFor(double mass_t, const Json& params) {
  if (mass_t > Num(params, "grade1_over_t", 100) + kEps) return "grade1";
  if (mass_t >= Num(params, "grade2_from_t", 40) - kEps) return "grade2";
  return "grade3";
}

std::optional<ComputedGrade> LiftingGrade(const PermitRulebook& book, const Permit& p) {
  const Json* found = BookParams(book, "lifting_grade", PermitType::kLifting, "");
  const Json& params = found != nullptr ? *found : DefaultLiftingParams();
  ComputedGrade g;
  const double m = p.lifting ? p.lifting->mass_t : 0;
  g.base = LiftingGradeFor(m, params);
  g.required = g.base;
  g.reasons.push_back(m > Num(params, "grade1_over_t", 100) + kEps ? "mass_over_100t"
                      : m >= Num(params, "grade2_from_t", 40) - kEps ? "mass_40_100t"
                                                                     : "mass_under_40t");
  if (m < Num(params, "no_ticket_below_t", 10) - kEps) g.reasons.emplace_back("no_ticket_needed");
  return g;
}

// --- kinds ------------------------------------------------------------------------------

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Vars GradeVars(const Permit& p, const ComputedGrade& g) {
  auto name = [&](const std::string& code) {
    auto zh = GradeNameZh(p.type, code);
    return zh.empty() ? std::string(code.empty() ? "-" : code) : std::string(zh);
  };
  return Vars{{"declared", p.grade.empty() ? "-" : p.grade},
              {"declared_zh", name(p.grade)},
              {"base", g.base},
              {"required", g.required},
              {"required_zh", name(g.required)},
              {"reasons", Joined(g.reasons)}};
}

std::string GradeField(const Permit& p) {
  if (p.type == PermitType::kHeight && p.height) return "height.grade";
  if (p.type == PermitType::kLifting && p.lifting) return "lifting.grade";
  return "grade";
}

Status ValidateHotWorkGrade(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"hazard_areas", "tank_dike_areas", "pipe_rack_areas",
                                   "fixed_areas", "report"}));
  WG_RETURN_IF_ERROR(NeedOneOf(params, "report", {"below_base", "shutdown_approval"}, false));
  const bool vocab = params.contains("hazard_areas");
  for (std::string_view key : {"hazard_areas", "tank_dike_areas", "pipe_rack_areas", "fixed_areas"}) {
    WG_RETURN_IF_ERROR(NeedStrings(params, key, vocab));
  }
  if (Str(params, "report", "below_base") == "below_base" && !vocab) {
    return Status::InvalidArgument("is required", "params.hazard_areas");
  }
  return Status::Ok();
}

void EvalHotWorkGrade(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.grade) return;
  const ComputedGrade& g = *ctx.grade;
  const Permit& p = ctx.permit;
  if (Str(rule.params, "report", "below_base") == "shutdown_approval") {
    if (std::find(g.reasons.begin(), g.reasons.end(), "shutdown_and_isolated") != g.reasons.end()) {
      out.Add(rule, "hot_work.shutdown_and_isolated", GradeVars(p, g));
    }
    return;
  }
  if (g.base.empty()) return;  // fixed hot-work area
  if (GradeRank(p.type, p.grade) < GradeRank(p.type, g.base)) {
    out.Add(rule, "grade", GradeVars(p, g));
  }
}

Status ValidateEscalation(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"night", "holiday", "rest_day"}));
  for (std::string_view key : {"night", "holiday", "rest_day"}) {
    WG_RETURN_IF_ERROR(NeedBool(params, key));
  }
  return Status::Ok();
}

void EvalEscalation(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.grade || ctx.grade->base.empty()) return;
  const ComputedGrade& g = *ctx.grade;
  const Permit& p = ctx.permit;
  const int declared = GradeRank(p.type, p.grade);
  // Below the base grade is hot_work_grade's finding; here only the escalation step.
  if (declared >= GradeRank(p.type, g.base) && declared < GradeRank(p.type, g.required)) {
    out.Add(rule, "grade", GradeVars(p, g));
  }
}

Status ValidateHeightGrade(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"min_height_m", "method_b_factors", "raising_situations"}));
  WG_RETURN_IF_ERROR(NeedNumber(params, "min_height_m", 0, 100));
  WG_RETURN_IF_ERROR(NeedStrings(params, "method_b_factors", false));
  auto it = params.find("raising_situations");
  if (it == params.end()) return Status::InvalidArgument("is required", "params.raising_situations");
  if (!it->is_object()) return Status::InvalidArgument("expected an object", "params.raising_situations");
  for (auto s = it->begin(); s != it->end(); ++s) {
    if (!s->is_string() || GradeRank(PermitType::kHeight, s->get<std::string_view>()) < 0) {
      return Status::InvalidArgument("expected a height grade I, II, III or IV",
                                     "params.raising_situations." + s.key());
    }
  }
  return Status::Ok();
}

void EvalHeightGrade(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.grade || ctx.grade->required.empty()) return;  // < 2 m: not work at height
  const Permit& p = ctx.permit;
  const std::string& declared = p.height && !p.height->grade.empty() ? p.height->grade : p.grade;
  if (GradeRank(p.type, declared) < GradeRank(p.type, ctx.grade->required)) {
    Vars v = GradeVars(p, *ctx.grade);
    v["declared"] = declared.empty() ? "-" : declared;
    v["height"] = FormatNumber(p.height ? p.height->height_m : 0);
    out.Add(rule, GradeField(p), v);
  }
}

Status ValidateLiftingGrade(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"grade1_over_t", "grade2_from_t", "no_ticket_below_t"}));
  WG_RETURN_IF_ERROR(NeedNumber(params, "grade1_over_t", 0, 100000));
  WG_RETURN_IF_ERROR(NeedNumber(params, "grade2_from_t", 0, 100000));
  WG_RETURN_IF_ERROR(NeedNumber(params, "no_ticket_below_t", 0, 100000));
  if (Num(params, "grade2_from_t", 0) > Num(params, "grade1_over_t", 0)) {
    return Status::InvalidArgument("must not exceed params.grade1_over_t", "params.grade2_from_t");
  }
  return Status::Ok();
}

void EvalLiftingGrade(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.grade) return;
  const Permit& p = ctx.permit;
  const double m = p.lifting ? p.lifting->mass_t : 0;
  const std::string& declared = p.lifting && !p.lifting->grade.empty() ? p.lifting->grade : p.grade;
  // Below the ticket threshold a ticket without a grade is acceptable (B.1 note 3).
  if (declared.empty() && m < Num(rule.params, "no_ticket_below_t", 10) - kEps) return;
  if (GradeRank(p.type, declared) < GradeRank(p.type, ctx.grade->required)) {
    Vars v = GradeVars(p, *ctx.grade);
    v["declared"] = declared.empty() ? "-" : declared;
    v["mass"] = FormatNumber(m);
    out.Add(rule, GradeField(p), v);
  }
}

Status ValidateTicketNeeded(const Json& params) {
  WG_RETURN_IF_ERROR(Only(params, {"below_t", "report"}));
  WG_RETURN_IF_ERROR(NeedNumber(params, "below_t", 0, 100000));
  return NeedOneOf(params, "report", {"missing_risk_analysis", "ticket_not_needed"}, true);
}

// B.1 note 3: a lift under 10 t needs no ticket but a risk analysis. One rule reports a
// missing risk-analysis reference, another (a warning) a ticket raised without need.
void EvalTicketNeeded(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (!p.lifting) return;
  const double m = p.lifting->mass_t;
  if (!(m < Num(rule.params, "below_t", 10) - kEps)) return;
  Vars v{{"mass", FormatNumber(m)}, {"limit", FormatNumber(Num(rule.params, "below_t", 10))}};
  if (Str(rule.params, "report", "") == "missing_risk_analysis") {
    if (p.lifting->risk_analysis_ref.empty()) out.Add(rule, "lifting.risk_analysis_ref", v);
  } else {
    out.Add(rule, "lifting.mass_t", v);
  }
}

constexpr CheckKind kGradeKinds[] = {
    {"hot_work_grade", ValidateHotWorkGrade, EvalHotWorkGrade, false, false},
    {"hot_work_escalation", ValidateEscalation, EvalEscalation, false, false},
    {"height_grade", ValidateHeightGrade, EvalHeightGrade, false, false},
    {"lifting_grade", ValidateLiftingGrade, EvalLiftingGrade, false, false},
    {"lifting_ticket_needed", ValidateTicketNeeded, EvalTicketNeeded, false, false},
};

}  // namespace

std::optional<ComputedGrade> ComputeGrade(const PermitRulebook& book, const Permit& permit) {
  switch (permit.type) {
    case PermitType::kHotWork: return HotWorkGrade(book, permit);
    case PermitType::kHeight: return HeightGrade(book, permit);
    case PermitType::kLifting: return LiftingGrade(book, permit);
    default: return std::nullopt;
  }
}

namespace internal {
std::span<const CheckKind> GradeKinds() { return kGradeKinds; }
}  // namespace internal

}  // namespace wg::permit

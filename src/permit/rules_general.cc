// General, weather, hot-work, confined-space and per-type check kinds (GeneralKinds).
// Every kind reads its limits from the rule's params (permit_rules_general.json); the
// params, clauses and boundary decisions are documented in
// docs/formats/permit-rules-checks.md. A kind reports what it found and what the rule
// requires through the message placeholders; it never decides severity (the rule does).

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules_internal.h"
#include "rules_params.h"
#include "wg/core/strings.h"
#include "wg/core/time.h"

namespace wg::permit::internal {
namespace {

using core::Duration;
using core::Json;
using core::Status;

// --- param helpers (validated at load, read without throwing at eval) ------------------

// A list of strings, each one of `vocabulary` when it is not empty.
Status CheckStrings(const Json& p, std::string_view key, bool required,
                    std::span<const std::string_view> vocabulary = {}) {
  auto it = p.find(key);
  if (it == p.end()) {
    return required ? Status::InvalidArgument("required", Field(key)) : Status::Ok();
  }
  if (!it->is_array()) return Status::InvalidArgument("expected a list of strings", Field(key));
  if (required && it->empty()) return Status::InvalidArgument("must not be empty", Field(key));
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    const std::string f = Field(key) + "[" + std::to_string(i) + "]";
    if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument("expected a non-empty string", f);
    }
    if (!vocabulary.empty() && std::find(vocabulary.begin(), vocabulary.end(),
                                         e.get_ref<const std::string&>()) == vocabulary.end()) {
      return Status::InvalidArgument("unknown value \"" + e.get<std::string>() + "\"", f);
    }
  }
  return Status::Ok();
}

Status CheckDuration(const Json& p, std::string_view key, bool required) {
  if (!p.contains(key)) {
    return required ? Status::InvalidArgument("required", Field(key)) : Status::Ok();
  }
  auto d = ParseDurationParam(p, key);
  return d.has_value() ? Status::Ok() : d.error();
}

Status CheckType(const Json& p, std::string_view key) {
  auto it = p.find(key);
  if (it == p.end()) return Status::InvalidArgument("required", Field(key));
  if (!it->is_string()) return Status::InvalidArgument("expected a permit type", Field(key));
  auto t = ParsePermitType(it->get<std::string>(), Field(key));
  return t.has_value() ? Status::Ok() : t.error();
}

std::string Str(const Json& p, std::string_view key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<Duration> Dur(const Json& p, std::string_view key) {
  if (!p.contains(key)) return std::nullopt;
  auto d = ParseDurationParam(p, key);
  if (!d.has_value()) return std::nullopt;
  return *d;
}

// Adds a violation and, when `clause` is not empty, names that clause instead of the
// rule's (a rule that covers several sub-clauses, e.g. a type's validity clause).
void AddWithClause(Findings& out, const Rule& rule, std::string field, const Vars& vars,
                   std::string_view clause) {
  const std::size_t before = out.violations.size();
  out.Add(rule, std::move(field), vars);
  if (!clause.empty() && out.violations.size() > before) {
    out.violations.back().clause = std::string(clause);
  }
}

bool HasRole(const Permit& p, std::string_view role) {
  return std::any_of(p.people.begin(), p.people.end(),
                     [&](const Person& x) { return x.role == role; });
}

// --- vocabularies --------------------------------------------------------------------

struct Term {
  std::string_view code;
  std::string_view en;
  std::string_view zh;
};

constexpr std::array<Term, 8> kWeather = {{
    {"fog", "fog", "雾"},
    {"dense_fog", "dense fog", "大雾/浓雾"},
    {"rain", "rain", "雨"},
    {"rainstorm", "rainstorm", "暴雨"},
    {"snow", "snow", "雪"},
    {"heavy_snow", "heavy snow", "大雪"},
    {"thunderstorm", "thunderstorm", "雷暴"},
    {"storm", "storm", "暴风雨/台风"},
}};

constexpr std::array<Term, 6> kNearby = {{
    {"venting", "flammable-gas venting", "排放可燃气体"},
    {"draining", "flammable-liquid draining", "排放可燃液体"},
    {"painting", "painting", "喷漆"},
    {"solvent_cleaning", "flammable-solvent cleaning", "可燃溶剂清洗"},
    {"dust_sweeping", "combustible-dust sweeping", "可燃性粉尘清扫"},
    {"hazmat_train", "a hazardous-chemical train passing or standing",
     "装有危险化学品的火车通过或停留"},
}};

constexpr std::array<Term, 4> kIsolation = {{
    {"blind_plate", "blind plate", "加盲板"},
    {"pipe_removed", "pipe section removed", "拆除一段管道"},
    {"valve", "closed valve", "关闭阀门"},
    {"water_seal", "water seal", "水封"},
}};

constexpr std::array<Term, 4> kVentilation = {{
    {"natural", "natural ventilation", "自然通风"},
    {"forced", "forced ventilation", "强制通风"},
    {"none", "no ventilation", "无通风"},
    {"pure_oxygen", "pure oxygen or oxygen-enriched air", "充纯氧或富氧空气"},
}};

// The codes of a vocabulary (load-time validation only).
template <std::size_t N>
std::vector<std::string_view> Codes(const std::array<Term, N>& terms) {
  std::vector<std::string_view> codes;
  for (const auto& t : terms) codes.push_back(t.code);
  return codes;
}

template <std::size_t N>
const Term* FindTerm(const std::array<Term, N>& terms, std::string_view code) {
  for (const auto& t : terms) {
    if (t.code == code) return &t;
  }
  return nullptr;
}

template <std::size_t N>
std::string En(const std::array<Term, N>& terms, std::string_view code) {
  const Term* t = FindTerm(terms, code);
  return t != nullptr ? std::string(t->en) : std::string(code);
}

template <std::size_t N>
std::string Zh(const std::array<Term, N>& terms, std::string_view code) {
  const Term* t = FindTerm(terms, code);
  return t != nullptr ? std::string(t->zh) : std::string(code);
}

// =====================================================================================
// window_valid — GB 30871-2022 §4.6, §4.16. params: start_tolerance (duration, "15m").
//   always: planned_end after planned_start;
//   plan stage: planned_start not earlier than at - start_tolerance;
//   up to approve: planned_end after at (a lapsed window cannot be approved);
//   start stage: at within [planned_start - start_tolerance, planned_end).
// =====================================================================================

Status ValidateWindow(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"start_tolerance"}));
  return CheckDuration(p, "start_tolerance", false);
}

void EvalWindow(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const core::Timestamp at = ctx.options.at;
  const Duration tol = Dur(rule.params, "start_tolerance").value_or(Duration::Minutes(15));
  Vars v{{"start", core::FormatShanghai(p.planned_start)},
         {"end", core::FormatShanghai(p.planned_end)},
         {"at", core::FormatShanghai(at)},
         {"tolerance", FormatDuration(tol)}};
  if (p.planned_end <= p.planned_start) {
    out.Add(rule, "planned_end",
            Reason("the planned end is not after the planned start",
                   "计划结束时间不晚于计划开始时间", v));
    return;
  }
  if (ctx.stage == Stage::kPlan && p.planned_start < at - tol) {
    out.Add(rule, "planned_start",
            Reason("the planned start lies more than " + FormatDuration(tol) + " in the past",
                   "计划开始时间早于当前时间超过" + FormatDuration(tol), v));
    return;
  }
  if (ctx.stage != Stage::kStart && p.planned_end <= at) {
    out.Add(rule, "planned_end",
            Reason("the planned window has already ended", "计划作业时间已结束", v));
    return;
  }
  if (ctx.stage == Stage::kStart) {
    if (at < p.planned_start - tol) {
      out.Add(rule, "planned_start",
              Reason("work cannot start before the planned window", "作业不得早于计划开始时间", v));
    } else if (at >= p.planned_end) {
      out.Add(rule, "planned_end",
              Reason("the permit's window has ended; a new permit is required (§4.16)",
                     "作业票已超过有效期，应重新办理（§4.16）", v));
    }
  }
}

// =====================================================================================
// validity_max — the planned window must not exceed the declared grade's max validity
// (TypeSpec grades; §5.1.5, §6.10, §8.2.11). A window of exactly the limit passes.
// =====================================================================================

Status ValidateNoParams(const Json& p) { return CheckKeys(p, {}); }

void EvalValidityMax(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const GradeSpec* g = ctx.spec.FindGrade(p.grade);
  if (g == nullptr || !g->max_validity) return;  // unknown grade: the grade rules report it
  const Duration actual = p.planned_end - p.planned_start;
  if (actual <= *g->max_validity) return;
  const std::string grade_zh =
      g->name_zh.empty() ? std::string(GradeNameZh(p.type, p.grade)) : g->name_zh;
  AddWithClause(out, rule, "planned_end",
                {{"limit", FormatDuration(*g->max_validity)},
                 {"actual", FormatDuration(actual)},
                 {"grade", p.grade.empty() ? std::string("-") : p.grade},
                 {"grade_zh", grade_zh},
                 {"type_zh", ctx.spec.name_zh}},
                "");
}

// =====================================================================================
// temporary_power_duration — §10.8. params: max (duration) and/or linked_types (list):
//   max: the planned window must not exceed it (15 d warn rule, 30 d block rule);
//   linked_types: when linked (linked_permits) to a permit of these types, the window
//   must lie within that permit's window (needs the directory; skipped without it).
// =====================================================================================

Status ValidateTempPower(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"max", "linked_types"}));
  WG_RETURN_IF_ERROR(CheckDuration(p, "max", false));
  WG_RETURN_IF_ERROR(CheckStrings(p, "linked_types", false));
  if (!p.contains("max") && !p.contains("linked_types")) {
    return Status::InvalidArgument("one of max or linked_types is required", "params");
  }
  for (const auto& t : Strings(p, "linked_types")) {
    auto r = ParsePermitType(t, "params.linked_types");
    if (!r) return r.error();
  }
  return Status::Ok();
}

void EvalTempPower(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const Duration actual = p.planned_end - p.planned_start;
  if (auto max = Dur(rule.params, "max"); max && actual > *max) {
    out.Add(rule, "planned_end",
            {{"limit", FormatDuration(*max)}, {"actual", FormatDuration(actual)}});
  }
  const auto types = Strings(rule.params, "linked_types");
  if (types.empty() || p.linked_permits.empty()) return;
  if (ctx.options.directory == nullptr) {
    out.Skipped(rule);
    return;
  }
  for (std::size_t i = 0; i < p.linked_permits.size(); ++i) {
    auto other = ctx.options.directory->FindPermit(p.linked_permits[i]);
    if (!other || !Contains(types, PermitTypeCode(other->type))) continue;
    if (p.planned_start < other->planned_start || p.planned_end > other->planned_end) {
      out.Add(rule, Indexed("linked_permits", i),
              {{"number", other->number},
               {"linked_type_zh", std::string(PermitTypeNameZh(other->type))},
               {"linked_start", core::FormatShanghai(other->planned_start)},
               {"linked_end", core::FormatShanghai(other->planned_end)},
               {"start", core::FormatShanghai(p.planned_start)},
               {"end", core::FormatShanghai(p.planned_end)}},
              other->number);
    }
  }
}

// =====================================================================================
// required_fields — params: fields (list of document paths, vocabulary below). A string
// is present when not blank; a list when not empty; a section field needs its section.
// =====================================================================================

bool Filled(const std::string& s) { return !core::Trim(s).empty(); }

template <typename S, typename F>
bool SectionHas(const std::optional<S>& section, F get) {
  return section.has_value() && get(*section);
}

struct DocField {
  std::string_view path;
  std::string_view zh;
  std::function<bool(const Permit&)> present;
};

const std::vector<DocField>& DocFields() {
  static const std::vector<DocField> fields = {
      {"title", "作业内容", [](const Permit& p) { return Filled(p.title); }},
      {"work_unit", "作业单位", [](const Permit& p) { return Filled(p.work_unit); }},
      {"owning_unit", "所在单位", [](const Permit& p) { return Filled(p.owning_unit); }},
      {"hazard_analysis", "风险辨识结果（作业危害分析）",
       [](const Permit& p) { return Filled(p.hazard_analysis); }},
      {"hazards", "危害因素", [](const Permit& p) { return !p.hazards.empty(); }},
      {"measures", "安全措施", [](const Permit& p) { return !p.measures.empty(); }},
      {"location.zone", "作业区域", [](const Permit& p) { return Filled(p.location.zone); }},
      {"location.description", "作业地点",
       [](const Permit& p) { return Filled(p.location.description); }},
      {"location.area_class", "区域分类",
       [](const Permit& p) { return Filled(p.location.area_class); }},
      {"location.fence", "作业区域范围", [](const Permit& p) { return !p.location.fence.empty(); }},
      {"hot_work.method", "动火方式",
       [](const Permit& p) {
         return SectionHas(p.hot_work, [](const HotWorkSection& s) { return Filled(s.method); });
       }},
      {"confined_space.space_name", "受限空间名称",
       [](const Permit& p) {
         return SectionHas(p.confined_space,
                           [](const ConfinedSpaceSection& s) { return Filled(s.space_name); });
       }},
      {"confined_space.original_medium", "受限空间内原有介质名称",
       [](const Permit& p) {
         return SectionHas(p.confined_space,
                           [](const ConfinedSpaceSection& s) { return Filled(s.original_medium); });
       }},
      {"blind_plate.pipeline", "设备、管道名称",
       [](const Permit& p) {
         return SectionHas(p.blind_plate,
                           [](const BlindPlateSection& s) { return Filled(s.pipeline); });
       }},
      {"blind_plate.medium", "介质",
       [](const Permit& p) {
         return SectionHas(p.blind_plate,
                           [](const BlindPlateSection& s) { return Filled(s.medium); });
       }},
      {"blind_plate.diagram_ref", "盲板位置图",
       [](const Permit& p) {
         return SectionHas(p.blind_plate,
                           [](const BlindPlateSection& s) { return Filled(s.diagram_ref); });
       }},
      {"lifting.plan_ref", "吊装作业方案",
       [](const Permit& p) {
         return SectionHas(p.lifting, [](const LiftingSection& s) { return Filled(s.plan_ref); });
       }},
      {"lifting.risk_analysis_ref", "风险分析",
       [](const Permit& p) {
         return SectionHas(p.lifting,
                           [](const LiftingSection& s) { return Filled(s.risk_analysis_ref); });
       }},
      {"temporary_power.voltage", "工作电压",
       [](const Permit& p) {
         return SectionHas(p.temporary_power,
                           [](const TemporaryPowerSection& s) { return Filled(s.voltage); });
       }},
      {"temporary_power.access_point", "电源接入点",
       [](const Permit& p) {
         return SectionHas(p.temporary_power,
                           [](const TemporaryPowerSection& s) { return Filled(s.access_point); });
       }},
      {"temporary_power.supply_unit", "配送电单位",
       [](const Permit& p) {
         return SectionHas(p.temporary_power,
                           [](const TemporaryPowerSection& s) { return Filled(s.supply_unit); });
       }},
      {"excavation.sketch_ref", "作业范围示意图",
       [](const Permit& p) {
         return SectionHas(p.excavation,
                           [](const ExcavationSection& s) { return Filled(s.sketch_ref); });
       }},
      {"road_breaking.road", "断路地段",
       [](const Permit& p) {
         return SectionHas(p.road_breaking,
                           [](const RoadBreakingSection& s) { return Filled(s.road); });
       }},
      {"road_breaking.traffic_plan_ref", "交通组织方案",
       [](const Permit& p) {
         return SectionHas(p.road_breaking,
                           [](const RoadBreakingSection& s) { return Filled(s.traffic_plan_ref); });
       }},
  };
  return fields;
}

const DocField* FindDocField(std::string_view path) {
  for (const auto& f : DocFields()) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

Status ValidateRequiredFields(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"fields"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "fields", true));
  const auto fields = Strings(p, "fields");
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (FindDocField(fields[i]) == nullptr) {
      return Status::InvalidArgument("unknown document field \"" + fields[i] + "\"",
                                     Indexed("params.fields", i));
    }
  }
  return Status::Ok();
}

void EvalRequiredFields(const EvalContext& ctx, const Rule& rule, Findings& out) {
  for (const auto& path : Strings(rule.params, "fields")) {
    const DocField* f = FindDocField(path);
    if (f == nullptr || f->present(ctx.permit)) continue;
    out.Add(rule, path, {{"field", path}, {"field_zh", std::string(f->zh)}});
  }
}

// =====================================================================================
// measures_confirmed — every involved measure has a confirmer (App. A "确认人").
// =====================================================================================

void EvalMeasuresConfirmed(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& ms = ctx.permit.measures;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (!ms[i].involved || Filled(ms[i].confirmer)) continue;
    out.Add(rule, Indexed("measures", i) + ".confirmer",
            {{"index", std::to_string(i + 1)}, {"code", ms[i].code}, {"text", ms[i].text}});
  }
}

// =====================================================================================
// briefing — §4.4: a safety briefer (安全交底人) and ≥ min_recipients recipients.
// =====================================================================================

Status ValidateBriefing(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"min_recipients"}));
  return CheckNumber(p, "min_recipients", false, 1, 1000);
}

void EvalBriefing(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto briefers = PeopleWithRole(ctx.permit, "safety_briefer");
  const auto recipients = PeopleWithRole(ctx.permit, "briefing_recipient");
  const auto min = static_cast<std::size_t>(Num(rule.params, "min_recipients", 1));
  std::vector<std::string> missing_en, missing_zh;
  if (briefers.empty()) {
    missing_en.emplace_back("the safety briefer (safety_briefer)");
    missing_zh.emplace_back("安全交底人");
  }
  if (recipients.size() < min) {
    missing_en.push_back("at least " + std::to_string(min) +
                         " briefing recipient(s) (briefing_recipient)");
    missing_zh.push_back("至少 " + std::to_string(min) + " 名接受交底人");
  }
  if (missing_en.empty()) return;
  out.Add(rule, "people",
          {{"missing", Join(missing_en, " and ")}, {"missing_zh", Join(missing_zh, "、")}});
}

// =====================================================================================
// linked_type_required — §4.6: another special-work type in the same job needs its own
// permit, listed in linked_permits. params: required_type, condition, value / values.
//   elevation_at_least   location.elevation_m ≥ value (work at height, §3.8: ≥ 2 m)
//   area_class_in        location.area_class in values (hot work inside a confined space)
//   excavation_depth_over excavation.depth_m > value in a hazardous area (§11.10)
// Satisfied by a linked permit of required_type (with a directory: it must exist and be of
// that type; without one any listed number counts, its type cannot be verified).
// =====================================================================================

constexpr std::array<std::string_view, 3> kLinkConditions = {"elevation_at_least", "area_class_in",
                                                             "excavation_depth_over"};

Status ValidateLinked(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"required_type", "condition", "value", "values"}));
  WG_RETURN_IF_ERROR(CheckType(p, "required_type"));
  auto it = p.find("condition");
  if (it == p.end() || !it->is_string()) {
    return Status::InvalidArgument(
        "required: one of elevation_at_least, area_class_in, "
        "excavation_depth_over",
        "params.condition");
  }
  const std::string c = it->get<std::string>();
  if (c == "area_class_in") return CheckStrings(p, "values", true);
  if (c == "elevation_at_least" || c == "excavation_depth_over") {
    return CheckNumber(p, "value", true, 0, 10000);
  }
  return Status::InvalidArgument("unknown condition \"" + c + "\"", "params.condition");
}

void EvalLinked(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  auto required = ParsePermitType(Str(rule.params, "required_type"));
  if (!required || p.type == *required) return;
  const std::string cond = Str(rule.params, "condition");
  const double value = Num(rule.params, "value", 0);
  std::string reason, reason_zh;
  if (cond == "elevation_at_least") {
    if (p.location.elevation_m < value) return;
    reason = "the work point is " + FormatNumber(p.location.elevation_m) + " m above grade (≥ " +
             FormatNumber(value) + " m)";
    reason_zh = "作业点高度 " + FormatNumber(p.location.elevation_m) + " m（≥ " +
                FormatNumber(value) + " m）";
  } else if (cond == "area_class_in") {
    if (!Contains(Strings(rule.params, "values"), p.location.area_class)) return;
    reason = "the work is in area class \"" + p.location.area_class + "\"";
    reason_zh = "作业位置区域分类为“" + p.location.area_class + "”";
  } else if (cond == "excavation_depth_over") {
    if (!p.excavation || !p.excavation->hazardous_area || !(p.excavation->depth_m > value)) return;
    reason = "excavation depth " + FormatNumber(p.excavation->depth_m) + " m exceeds " +
             FormatNumber(value) + " m in a hazardous area";
    reason_zh = "危险场所动土深度 " + FormatNumber(p.excavation->depth_m) + " m 超过 " +
                FormatNumber(value) + " m";
  } else {
    return;
  }
  Vars v = Reason(reason, reason_zh,
                  {{"required_type", std::string(PermitTypeCode(*required))},
                   {"required_type_zh", std::string(PermitTypeNameZh(*required))}});
  const Directory* dir = ctx.options.directory;
  if (dir == nullptr) {
    if (p.linked_permits.empty()) {
      v["problem"] = "no linked permit number is listed";
      v["problem_zh"] = "未填写关联作业票编号";
      out.Add(rule, "linked_permits", v);
    }
    return;
  }
  std::vector<std::string> wrong;
  for (const auto& number : p.linked_permits) {
    auto other = dir->FindPermit(number);
    if (other && other->type == *required) return;  // satisfied
    wrong.push_back(other ? number + " (" + std::string(PermitTypeCode(other->type)) + ")"
                          : number + " (not found)");
  }
  if (wrong.empty()) {
    v["problem"] = "no linked permit number is listed";
    v["problem_zh"] = "未填写关联作业票编号";
  } else {
    v["problem"] = "none of the linked permits is of that type: " + Join(wrong, ", ");
    v["problem_zh"] = "关联作业票中没有该类型的作业票：" + Join(wrong, "，");
  }
  out.Add(rule, "linked_permits", v);
}

// =====================================================================================
// new_permit_required — §4.16/§4.17: a permit that `supersedes` another replaces one that
// has ended: it must exist, be in one of allowed_states and (same_type) be of this type.
// =====================================================================================

constexpr std::array<std::string_view, 9> kStateCodes = {
    "draft",     "pending_gas_test", "pending_signatures", "approved", "active",
    "suspended", "completed",        "cancelled",          "expired"};

Status ValidateNewPermit(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"allowed_states", "same_type"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "allowed_states", true, kStateCodes));
  return CheckBool(p, "same_type");
}

void EvalNewPermit(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (p.supersedes.empty()) return;
  if (ctx.options.directory == nullptr) {
    out.Skipped(rule);
    return;
  }
  auto old = ctx.options.directory->FindPermit(p.supersedes);
  const auto allowed = Strings(rule.params, "allowed_states");
  Vars v{{"number", p.supersedes}, {"allowed", Join(allowed, ", ")}};
  if (!old) {
    out.Add(rule, "supersedes", Reason("it does not exist", "该作业票不存在", v), p.supersedes);
  } else if (!Contains(allowed, StateCode(old->state))) {
    v["state"] = std::string(StateCode(old->state));
    out.Add(
        rule, "supersedes",
        Reason("it is still " + std::string(StateCode(old->state)) +
                   " (must be one of: " + Join(allowed, ", ") + ")",
               "该作业票仍为“" + std::string(StateNameZh(old->state)) + "”状态，应先关闭或取消", v),
        p.supersedes);
  } else if (Bool(rule.params, "same_type", true) && old->type != p.type) {
    out.Add(rule, "supersedes",
            Reason("it is a " + std::string(PermitTypeCode(old->type)) + " permit",
                   "该作业票为" + std::string(PermitTypeNameZh(old->type)) + "，类型不同", v),
            p.supersedes);
  }
}

// =====================================================================================
// wind_limit — params: stop_at (Beaufort force; force ≥ stop_at stops), outdoor_only
// (default true), unless_grade_raised (hot work §5.2.15: allowed when the declared grade
// ranks above the computed base grade).
// =====================================================================================

Status ValidateWind(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"stop_at", "outdoor_only", "unless_grade_raised"}));
  WG_RETURN_IF_ERROR(CheckNumber(p, "stop_at", true, 1, 17));
  WG_RETURN_IF_ERROR(CheckBool(p, "outdoor_only"));
  return CheckBool(p, "unless_grade_raised");
}

bool GradeRaised(const EvalContext& ctx) {
  if (!ctx.grade.has_value()) return false;
  const int declared = GradeRank(ctx.permit.type, ctx.permit.grade);
  const int base = GradeRank(ctx.permit.type, ctx.grade->base);
  return declared >= 0 && base >= 0 && declared > base;
}

void EvalWind(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (Bool(rule.params, "outdoor_only", true) && !p.location.outdoor) return;
  const int stop_at = static_cast<int>(Num(rule.params, "stop_at", 17));
  if (p.environment.wind_force < stop_at) return;
  if (Bool(rule.params, "unless_grade_raised", false) && GradeRaised(ctx)) return;
  out.Add(
      rule, "environment.wind_force",
      {{"force", std::to_string(p.environment.wind_force)}, {"limit", std::to_string(stop_at)}});
}

// =====================================================================================
// weather_stop — params: weather (codes that stop the work), outdoor_only (default true).
// =====================================================================================

Status ValidateWeather(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"weather", "outdoor_only"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "weather", true, Codes(kWeather)));
  return CheckBool(p, "outdoor_only");
}

void EvalWeather(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (Bool(rule.params, "outdoor_only", true) && !p.location.outdoor) return;
  const auto stops = Strings(rule.params, "weather");
  const auto& seen = p.environment.weather;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!Contains(stops, seen[i])) continue;
    out.Add(rule, Indexed("environment.weather", i),
            {{"weather", En(kWeather, seen[i])}, {"weather_zh", Zh(kWeather, seen[i])}});
  }
}

// =====================================================================================
// distance_min — hot work and nearby activities (§5.2.9, §5.2.10). params: activities
// (kinds), within_m. "30 m 范围内" includes 30 m: a distance ≤ within_m violates.
// =====================================================================================

Status ValidateDistance(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"activities", "within_m"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "activities", true, Codes(kNearby)));
  return CheckNumber(p, "within_m", true, 0, 10000);
}

void EvalDistance(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.hot_work) return;
  const auto kinds = Strings(rule.params, "activities");
  const double within = Num(rule.params, "within_m", 0);
  const auto& nearby = ctx.permit.hot_work->nearby;
  for (std::size_t i = 0; i < nearby.size(); ++i) {
    if (!Contains(kinds, nearby[i].kind) || nearby[i].distance_m > within) continue;
    out.Add(rule, Indexed("hot_work.nearby", i) + ".distance_m",
            {{"activity", En(kNearby, nearby[i].kind)},
             {"activity_zh", Zh(kNearby, nearby[i].kind)},
             {"distance", FormatNumber(nearby[i].distance_m)},
             {"limit", FormatNumber(within)},
             {"description", nearby[i].description}});
  }
}

// =====================================================================================
// cylinder_distance — params (any of): oxygen_acetylene_min_m and cylinder_to_point_min_m
// (§5.2.13, ≥: exactly the minimum passes), welder_machine_max_m (§5.2.12, ≤: exactly the
// maximum passes). A distance that is not recorded is not checked.
// =====================================================================================

Status ValidateCylinder(const Json& p) {
  WG_RETURN_IF_ERROR(
      CheckKeys(p, {"oxygen_acetylene_min_m", "cylinder_to_point_min_m", "welder_machine_max_m"}));
  WG_RETURN_IF_ERROR(CheckNumber(p, "oxygen_acetylene_min_m", false, 0, 1000));
  WG_RETURN_IF_ERROR(CheckNumber(p, "cylinder_to_point_min_m", false, 0, 1000));
  WG_RETURN_IF_ERROR(CheckNumber(p, "welder_machine_max_m", false, 0, 1000));
  if (p.empty()) return Status::InvalidArgument("at least one distance is required", "params");
  return Status::Ok();
}

void EvalCylinder(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.hot_work) return;
  const HotWorkSection& h = *ctx.permit.hot_work;
  auto check = [&](std::string_view key, const std::optional<double>& actual, bool is_min,
                   std::string_view field, std::string_view what, std::string_view what_zh) {
    if (!rule.params.contains(key) || !actual) return;
    const double limit = Num(rule.params, key, 0);
    if (is_min ? *actual >= limit : *actual <= limit) return;
    out.Add(rule, std::string(field),
            {{"what", std::string(what)},
             {"what_zh", std::string(what_zh)},
             {"distance", FormatNumber(*actual)},
             {"limit", (is_min ? "≥ " : "≤ ") + FormatNumber(limit)}});
  };
  check("oxygen_acetylene_min_m", h.oxygen_acetylene_distance_m, true,
        "hot_work.oxygen_acetylene_distance_m", "oxygen to acetylene cylinder",
        "氧气瓶与乙炔瓶间距");
  check("cylinder_to_point_min_m", h.cylinder_to_point_distance_m, true,
        "hot_work.cylinder_to_point_distance_m", "cylinders to the hot-work point",
        "气瓶与动火点间距");
  check("welder_machine_max_m", h.welder_machine_distance_m, false,
        "hot_work.welder_machine_distance_m", "welding machine to the hot-work point",
        "电焊机与动火点间距");
}

// =====================================================================================
// isolation_blind_plate — §5.2.2, §6.1 a): isolation by blind plate or a removed pipe
// section; a water seal or closed valve never substitutes. params: accepted (codes),
// required (an empty isolation list violates too; hot work: also when declared
// shutdown_and_isolated).
// =====================================================================================

Status ValidateIsolation(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"accepted", "required"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "accepted", true, Codes(kIsolation)));
  return CheckBool(p, "required");
}

void EvalIsolation(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  const std::vector<std::string>* iso = nullptr;
  std::string field;
  bool required = Bool(rule.params, "required", false);
  if (p.type == PermitType::kHotWork && p.hot_work) {
    iso = &p.hot_work->isolation;
    field = "hot_work.isolation";
    required = required || p.hot_work->shutdown_and_isolated;
  } else if (p.type == PermitType::kConfinedSpace && p.confined_space) {
    iso = &p.confined_space->isolation;
    field = "confined_space.isolation";
  } else {
    return;
  }
  const auto accepted = Strings(rule.params, "accepted");
  if (iso->empty() && !required) return;
  for (const auto& m : *iso) {
    if (Contains(accepted, m)) return;
  }
  std::vector<std::string> en, zh;
  for (const auto& m : *iso) {
    en.push_back(En(kIsolation, m));
    zh.push_back(Zh(kIsolation, m));
  }
  out.Add(rule, field,
          {{"isolation", iso->empty() ? std::string("none") : Join(en, ", ")},
           {"isolation_zh", iso->empty() ? std::string("无") : Join(zh, "、")}});
}

// =====================================================================================
// special_extras — 特级 hot work (§5.2.11, §5.3.1 d), §5.4.2 a)). params: require (any of
// written_plan_ref, video_cameras, continuous_monitor), min_cameras (default 1).
// =====================================================================================

constexpr std::array<std::string_view, 3> kExtras = {"written_plan_ref", "video_cameras",
                                                     "continuous_monitor"};

Status ValidateExtras(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"require", "min_cameras"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "require", true, kExtras));
  return CheckNumber(p, "min_cameras", false, 1, 100);
}

void EvalExtras(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto require = Strings(rule.params, "require");
  const HotWorkSection empty;
  const HotWorkSection& h = ctx.permit.hot_work ? *ctx.permit.hot_work : empty;
  if (Contains(require, "written_plan_ref") && !Filled(h.written_plan_ref)) {
    out.Add(rule, "hot_work.written_plan_ref",
            {{"item", "the written hot-work plan"}, {"item_zh", "特级动火作业方案"}});
  }
  const auto min = static_cast<std::size_t>(Num(rule.params, "min_cameras", 1));
  if (Contains(require, "video_cameras") && h.video_cameras.size() < min) {
    out.Add(
        rule, "hot_work.video_cameras",
        {{"item", "at least " + std::to_string(min) +
                      " explosion-proof camera(s) recording the whole job (" +
                      std::to_string(h.video_cameras.size()) + " listed)"},
         {"item_zh", "至少 " + std::to_string(min) + " 台防爆摄录设备采集全过程作业影像（现有 " +
                         std::to_string(h.video_cameras.size()) + " 台）"}});
  }
  if (Contains(require, "continuous_monitor") && !Filled(h.continuous_monitor)) {
    out.Add(rule, "hot_work.continuous_monitor",
            {{"item", "a continuous gas monitor"}, {"item_zh", "连续气体监测仪"}});
  }
}

// =====================================================================================
// oxygen_equipment — §5.2.7: hot work on oxygen equipment; a reminder that O2 inside must
// stay ≤ max_o2_vol_pct (the gas rules check the readings). params: max_o2_vol_pct.
// =====================================================================================

Status ValidateOxygen(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"max_o2_vol_pct"}));
  return CheckNumber(p, "max_o2_vol_pct", true, 0, 100);
}

void EvalOxygen(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.hot_work || !ctx.permit.hot_work->oxygen_equipment) return;
  out.Add(rule, "hot_work.oxygen_equipment",
          {{"limit", FormatNumber(Num(rule.params, "max_o2_vol_pct", 23.5))}});
}

// =====================================================================================
// ventilation — confined space (§6.2, §6.3 e)). params: forbidden (codes), required (an
// unstated ventilation violates).
// =====================================================================================

Status ValidateVentilation(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"forbidden", "required"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "forbidden", true, Codes(kVentilation)));
  return CheckBool(p, "required");
}

void EvalVentilation(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.confined_space) return;
  const std::string& v = ctx.permit.confined_space->ventilation;
  const bool missing = v.empty() && Bool(rule.params, "required", false);
  if (!missing && !Contains(Strings(rule.params, "forbidden"), v)) return;
  out.Add(rule, "confined_space.ventilation",
          {{"ventilation", missing ? std::string("not stated") : En(kVentilation, v)},
           {"ventilation_zh", missing ? std::string("未填写") : Zh(kVentilation, v)}});
}

// =====================================================================================
// lighting_voltage — §4.13 b). params: max_v (36), wet_or_cramped_max_v (12). A voltage of
// exactly the limit passes; an unrecorded voltage is not checked.
// =====================================================================================

Status ValidateLighting(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"max_v", "wet_or_cramped_max_v"}));
  WG_RETURN_IF_ERROR(CheckNumber(p, "max_v", true, 0, 1000));
  return CheckNumber(p, "wet_or_cramped_max_v", true, 0, 1000);
}

void EvalLighting(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.confined_space || !ctx.permit.confined_space->lighting_voltage_v) return;
  const auto& c = *ctx.permit.confined_space;
  const double limit = c.wet_or_cramped ? Num(rule.params, "wet_or_cramped_max_v", 12)
                                        : Num(rule.params, "max_v", 36);
  if (*c.lighting_voltage_v <= limit) return;
  out.Add(rule, "confined_space.lighting_voltage_v",
          {{"voltage", FormatNumber(*c.lighting_voltage_v)},
           {"limit", FormatNumber(limit)},
           {"condition", c.wet_or_cramped ? "in a wet or cramped vessel" : "in a confined space"},
           {"condition_zh", c.wet_or_cramped ? "潮湿容器、狭小容器内" : "受限空间内"}});
}

// =====================================================================================
// blind_plate_single — §7.11 one plate, one action; §7.1/§7.4 numbered on the diagram.
// =====================================================================================

void EvalBlindPlate(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.blind_plate) return;
  const BlindPlateSection& b = *ctx.permit.blind_plate;
  if (b.plates.size() != 1) {
    out.Add(rule, "blind_plate.plates",
            Reason(std::to_string(b.plates.size()) +
                       " plates are listed; one permit covers exactly one plate and one action",
                   "列有 " + std::to_string(b.plates.size()) +
                       " 块盲板；一张作业票只能进行一块盲板的一项作业"));
  }
  for (std::size_t i = 0; i < b.plates.size(); ++i) {
    const std::string base = Indexed("blind_plate.plates", i);
    if (!Filled(b.plates[i].number)) {
      out.Add(rule, base + ".number",
              Reason("the plate has no number from the location diagram", "盲板未填写位置图编号"));
    }
    if (b.plates[i].action != "insert" && b.plates[i].action != "remove") {
      out.Add(
          rule, base + ".action",
          Reason("the action must be insert (堵) or remove (抽)", "作业类别应为堵盲板或抽盲板"));
    }
  }
  if (!Filled(b.diagram_ref)) {
    out.Add(rule, "blind_plate.diagram_ref",
            Reason("the blind-plate location diagram is missing", "缺少盲板位置图"));
  }
}

// =====================================================================================
// lifting_plan — §9.2.1. params: grades (which need a plan), complex_load (a complex 三级
// load needs one too). The declared or the computed required grade counts.
// =====================================================================================

Status ValidateLiftingPlan(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"grades", "complex_load"}));
  WG_RETURN_IF_ERROR(CheckStrings(p, "grades", true));
  return CheckBool(p, "complex_load");
}

void EvalLiftingPlan(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const Permit& p = ctx.permit;
  if (!p.lifting || Filled(p.lifting->plan_ref)) return;
  const auto grades = Strings(rule.params, "grades");
  std::string why, why_zh;
  const std::string declared = p.grade.empty() ? p.lifting->grade : p.grade;
  if (Contains(grades, declared)) {
    why = "grade " + declared;
    why_zh = std::string(GradeNameZh(p.type, declared)) + "吊装";
  } else if (ctx.grade && Contains(grades, ctx.grade->required)) {
    why = "grade " + ctx.grade->required + " (by mass)";
    why_zh = std::string(GradeNameZh(p.type, ctx.grade->required)) + "吊装（按吊物质量）";
  } else if (Bool(rule.params, "complex_load", true) && p.lifting->complex_load) {
    why = "a complex, slender, precision or high-value load";
    why_zh = "形状复杂、刚度小、长径比大或精密贵重的吊物";
  } else {
    return;
  }
  out.Add(rule, "lifting.plan_ref", {{"why", why}, {"why_zh", why_zh}});
}

// =====================================================================================
// lifting_multi_crane — §9.2.10 c). params: max_ratio (0.8). With ≥ 2 cranes each carries
// ≤ max_ratio of its rating (exactly 0.8 passes); an unrecorded ratio violates.
// =====================================================================================

Status ValidateMultiCrane(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"max_ratio"}));
  return CheckNumber(p, "max_ratio", true, 0, 1);
}

void EvalMultiCrane(const EvalContext& ctx, const Rule& rule, Findings& out) {
  if (!ctx.permit.lifting || ctx.permit.lifting->cranes < 2) return;
  const auto& l = *ctx.permit.lifting;
  const double max = Num(rule.params, "max_ratio", 0.8);
  if (l.max_load_ratio && *l.max_load_ratio <= max + 1e-9) return;
  out.Add(
      rule, "lifting.max_load_ratio",
      {{"cranes", std::to_string(l.cranes)},
       {"ratio", l.max_load_ratio ? FormatNumber(std::round(*l.max_load_ratio * 1000) / 10) + " %"
                                  : std::string("not recorded")},
       {"ratio_zh", l.max_load_ratio ? FormatNumber(std::round(*l.max_load_ratio * 1000) / 10) + "%"
                                     : std::string("未填写")},
       {"limit", FormatNumber(max * 100) + " %"}});
}

// =====================================================================================
// excavation_deep — §11.10/§11.9: deeper than depth_over_m in a hazardous area, the
// confined-space rules apply; this kind requires a guardian on the permit.
// =====================================================================================

Status ValidateExcavationDeep(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"depth_over_m"}));
  return CheckNumber(p, "depth_over_m", true, 0, 1000);
}

void EvalExcavationDeep(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& e = ctx.permit.excavation;
  const double limit = Num(rule.params, "depth_over_m", 1.2);
  if (!e || !e->hazardous_area || !(e->depth_m > limit)) return;
  if (HasRole(ctx.permit, "guardian")) return;
  out.Add(rule, "people", {{"depth", FormatNumber(e->depth_m)}, {"limit", FormatNumber(limit)}});
}

// =====================================================================================
// excavation_cosign / road_cosign — B.1 co-signature (会签): params: departments, each must
// appear in the section's cosigned_departments.
// =====================================================================================

Status ValidateCosign(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"departments"}));
  return CheckStrings(p, "departments", true);
}

std::string DepartmentZh(std::string_view d) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kDept = {{
      {"water", "给排水"},
      {"power", "电力"},
      {"steam", "蒸汽"},
      {"process", "工艺"},
      {"equipment", "设备"},
      {"fire", "消防"},
      {"safety", "安全"},
  }};
  for (const auto& [code, zh] : kDept) {
    if (code == d) return std::string(zh);
  }
  return std::string(d);
}

void Cosign(const Rule& rule, const std::vector<std::string>& have, std::string field,
            Findings& out) {
  std::vector<std::string> missing, missing_zh;
  for (const auto& d : Strings(rule.params, "departments")) {
    if (Contains(have, d)) continue;
    missing.push_back(d);
    missing_zh.push_back(DepartmentZh(d));
  }
  if (missing.empty()) return;
  out.Add(rule, std::move(field),
          {{"missing", Join(missing, ", ")}, {"missing_zh", Join(missing_zh, "、")}});
}

void EvalExcavationCosign(const EvalContext& ctx, const Rule& rule, Findings& out) {
  static const std::vector<std::string> kNone;
  Cosign(rule, ctx.permit.excavation ? ctx.permit.excavation->cosigned_departments : kNone,
         "excavation.cosigned_departments", out);
}

void EvalRoadCosign(const EvalContext& ctx, const Rule& rule, Findings& out) {
  static const std::vector<std::string> kNone;
  Cosign(rule, ctx.permit.road_breaking ? ctx.permit.road_breaking->cosigned_departments : kNone,
         "road_breaking.cosigned_departments", out);
}

// =====================================================================================
// road_fire_lane — §12.1, §4.5 a): fire and emergency vehicles keep a way through
// (fire_lane_kept) under a traffic plan (traffic_plan_ref, when require_traffic_plan).
// =====================================================================================

Status ValidateFireLane(const Json& p) {
  WG_RETURN_IF_ERROR(CheckKeys(p, {"require_traffic_plan"}));
  return CheckBool(p, "require_traffic_plan");
}

void EvalFireLane(const EvalContext& ctx, const Rule& rule, Findings& out) {
  const auto& r = ctx.permit.road_breaking;
  if (!r || !r->fire_lane_kept) {
    out.Add(rule, "road_breaking.fire_lane_kept",
            Reason("the road closure does not keep a passage for fire and emergency vehicles",
                   "断路未保证消防车和其他重要车辆通行"));
  }
  if (Bool(rule.params, "require_traffic_plan", true) && (!r || !Filled(r->traffic_plan_ref))) {
    out.Add(rule, "road_breaking.traffic_plan_ref",
            Reason("no traffic organisation plan is attached", "未附交通组织方案"));
  }
}

constexpr CheckKind kKinds[] = {
    {"window_valid", ValidateWindow, EvalWindow},
    {"validity_max", ValidateNoParams, EvalValidityMax},
    {"temporary_power_duration", ValidateTempPower, EvalTempPower},
    {"required_fields", ValidateRequiredFields, EvalRequiredFields},
    {"measures_confirmed", ValidateNoParams, EvalMeasuresConfirmed},
    {"briefing", ValidateBriefing, EvalBriefing},
    {"linked_type_required", ValidateLinked, EvalLinked},
    {"new_permit_required", ValidateNewPermit, EvalNewPermit},
    {"wind_limit", ValidateWind, EvalWind},
    {"weather_stop", ValidateWeather, EvalWeather},
    {"distance_min", ValidateDistance, EvalDistance},
    {"cylinder_distance", ValidateCylinder, EvalCylinder},
    {"isolation_blind_plate", ValidateIsolation, EvalIsolation},
    {"special_extras", ValidateExtras, EvalExtras},
    {"oxygen_equipment", ValidateOxygen, EvalOxygen},
    {"ventilation", ValidateVentilation, EvalVentilation},
    {"lighting_voltage", ValidateLighting, EvalLighting},
    {"blind_plate_single", ValidateNoParams, EvalBlindPlate},
    {"lifting_plan", ValidateLiftingPlan, EvalLiftingPlan},
    {"lifting_multi_crane", ValidateMultiCrane, EvalMultiCrane},
    {"excavation_deep", ValidateExcavationDeep, EvalExcavationDeep},
    {"excavation_cosign", ValidateCosign, EvalExcavationCosign},
    {"road_fire_lane", ValidateFireLane, EvalFireLane},
    {"road_cosign", ValidateCosign, EvalRoadCosign},
};

}  // namespace

std::span<const CheckKind> GeneralKinds() { return kKinds; }

}  // namespace wg::permit::internal

// The checker's dispatcher (check.h): picks the stage, runs every applicable rule through
// its check kind (rules_*.cc), runs the conflict matrix and forms the verdict.
#include "wg/permit/check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rules_internal.h"
#include "wg/permit/conflict.h"

namespace wg::permit {

namespace {

using core::Json;

// A rule applies when its type and grade filters match the permit (grades: the declared
// grade).
bool Applies(const Rule& rule, const Permit& permit) {
  if (!rule.types.empty() &&
      std::find(rule.types.begin(), rule.types.end(), permit.type) == rule.types.end()) {
    return false;
  }
  if (!rule.grades.empty() &&
      std::find(rule.grades.begin(), rule.grades.end(), permit.grade) == rule.grades.end()) {
    return false;
  }
  return true;
}

// Stage "auto": how far the document has come.
Stage AutoStage(const Permit& p) {
  if (!p.signatures.empty()) return Stage::kApprove;
  if (!p.gas.empty()) return Stage::kGas;
  return Stage::kPlan;
}

}  // namespace

std::string_view VerdictCode(Verdict v) {
  switch (v) {
    case Verdict::kCompliant: return "compliant";
    case Verdict::kWarnings: return "warnings";
    case Verdict::kBlocked: return "blocked";
  }
  return "blocked";
}

Decision Check(const PermitRulebook& book, const Permit& permit, const CheckOptions& options) {
  Decision d;
  d.rulebook = book.version();
  d.at = options.at;
  const bool dry_run = !options.stage.has_value();
  d.stage = dry_run ? AutoStage(permit) : *options.stage;
  d.grade = ComputeGrade(book, permit);

  core::Timestamp reference_start = options.at;
  if (d.stage != Stage::kStart) reference_start = std::max(permit.planned_start, options.at);

  const TypeSpec& spec = book.type(permit.type);
  internal::EvalContext ctx{book,    permit,  spec,   options,
                            d.stage, dry_run, d.grade, reference_start};
  internal::Findings out;
  for (const Rule& rule : book.rules()) {
    if (!Applies(rule, permit)) continue;
    const internal::CheckKind* kind = internal::FindCheckKind(rule.check);
    if (kind == nullptr || kind->eval == nullptr) {
      out.Skipped(rule);  // validated at load; only reachable with a half-built engine
      continue;
    }
    const bool due = rule.stage <= d.stage;
    if (!due && !(dry_run && kind->eager)) {
      out.Pending(rule);
      continue;
    }
    if (kind->needs_directory && options.directory == nullptr) {
      out.Skipped(rule);
      continue;
    }
    const std::size_t before = out.violations.size();
    kind->eval(ctx, rule, out);
    ++d.rules_evaluated;
    // An eager rule run ahead of its stage that found nothing may still fail later.
    if (!due && out.violations.size() == before) out.Pending(rule);
  }
  d.violations = std::move(out.violations);
  d.pending = std::move(out.pending);
  d.skipped = std::move(out.skipped);

  if (options.open != nullptr) {
    std::size_t examined = 0;
    auto conflicts = options.open->Conflicts(book, OpenPermit::From(permit), &examined);
    d.conflicts_examined = examined;
    for (auto& v : conflicts) d.violations.push_back(std::move(v));
  }

  d.verdict = Verdict::kCompliant;
  for (const auto& v : d.violations) {
    if (v.severity == Severity::kBlock) {
      d.verdict = Verdict::kBlocked;
      break;
    }
    d.verdict = Verdict::kWarnings;
  }
  return d;
}

core::Json ToJson(const Decision& d) {
  Json violations = Json::array();
  for (const auto& v : d.violations) {
    Json j = {{"rule", v.rule},
              {"clause", v.clause},
              {"severity", std::string(SeverityCode(v.severity))},
              {"message", v.message},
              {"message_zh", v.message_zh},
              {"field", v.field}};
    if (!v.related.empty()) j["related"] = v.related;
    violations.push_back(std::move(j));
  }
  Json grade = nullptr;
  if (d.grade) {
    grade = {{"base", d.grade->base}, {"required", d.grade->required}, {"reasons", d.grade->reasons}};
  }
  return Json{{"verdict", std::string(VerdictCode(d.verdict))},
              {"rulebook", d.rulebook},
              {"stage", std::string(StageCode(d.stage))},
              {"at", core::FormatTimestamp(d.at)},
              {"violations", std::move(violations)},
              {"pending", d.pending},
              {"skipped", d.skipped},
              {"grade", std::move(grade)},
              {"rules_evaluated", d.rules_evaluated},
              {"conflicts_examined", d.conflicts_examined}};
}

namespace internal {

void Findings::Add(const Rule& rule, std::string field, const Vars& vars, std::string related) {
  Violation v;
  v.rule = rule.id;
  v.clause = rule.clause;
  v.severity = rule.severity;
  v.message = FillTemplate(rule.message_en, vars);
  v.message_zh = FillTemplate(rule.message_zh, vars);
  v.field = std::move(field);
  v.related = std::move(related);
  violations.push_back(std::move(v));
}

std::string FillTemplate(std::string_view tmpl, const Vars& vars) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  std::size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      auto close = tmpl.find('}', i + 1);
      if (close != std::string_view::npos) {
        auto it = vars.find(tmpl.substr(i + 1, close - i - 1));
        if (it != vars.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += tmpl[i];
    ++i;
  }
  return out;
}

std::string FormatDuration(core::Duration d) {
  std::int64_t total_min = d.micros / 60'000'000;
  bool negative = total_min < 0;
  if (negative) total_min = -total_min;
  std::string out = negative ? "-" : "";
  if (total_min == 0) {
    std::int64_t s = (d.micros < 0 ? -d.micros : d.micros) / 1'000'000;
    return out + std::to_string(s) + " s";
  }
  if (total_min % 1440 == 0 && total_min > 72 * 60) return out + std::to_string(total_min / 1440) + " d";
  std::int64_t h = total_min / 60;
  std::int64_t m = total_min % 60;
  if (h > 0) out += std::to_string(h) + " h";
  if (m > 0) {
    if (h > 0) out += ' ';
    out += std::to_string(m) + " min";
  }
  return out;
}

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

core::Result<core::Duration> ParseDurationText(std::string_view text, std::string_view field) {
  auto fail = [&] {
    return core::Status::InvalidArgument(
        "expected a duration such as \"30m\", \"8h\", \"1h30m\" or \"15d\"", std::string(field));
  };
  if (text.empty() || text.size() > 32) return fail();
  std::int64_t total_s = 0;
  std::size_t i = 0;
  int last_unit = 5;  // units must come in descending order: d h m s
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      ++i;
      if (++digits > 9) return fail();
    }
    if (digits == 0 || i >= text.size()) return fail();
    int unit = 0;
    std::int64_t scale = 0;
    switch (text[i]) {
      case 'd': unit = 4; scale = 86400; break;
      case 'h': unit = 3; scale = 3600; break;
      case 'm': unit = 2; scale = 60; break;
      case 's': unit = 1; scale = 1; break;
      default: return fail();
    }
    if (unit >= last_unit) return fail();
    last_unit = unit;
    total_s += n * scale;
    ++i;
  }
  if (total_s <= 0) return fail();
  return core::Duration::Seconds(total_s);
}

core::Result<core::Duration> ParseDurationParam(const core::Json& params, std::string_view key) {
  std::string field = "params." + std::string(key);
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return core::Status::InvalidArgument("is required", field);
  if (!it->is_string()) {
    return core::Status::InvalidArgument("expected a duration string such as \"30m\"", field);
  }
  return ParseDurationText(it->get<std::string>(), field);
}

const CheckKind* FindCheckKind(std::string_view name) {
  for (auto group : {GasKinds(), GradeKinds(), GeneralKinds(), PeopleKinds()}) {
    for (const auto& k : group) {
      if (k.name == name) return &k;
    }
  }
  return nullptr;
}

}  // namespace internal
}  // namespace wg::permit

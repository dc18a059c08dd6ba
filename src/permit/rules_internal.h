#pragma once
// The checker's internals: the check-kind registry rules refer to by name, the evaluation
// context and the findings collector. Each group of kinds lives in its own file:
//   rules_gas.cc      gas_*                                   (GasKinds)
//   rules_grade.cc    hot_work_grade … lifting_ticket_needed  (GradeKinds)
//   rules_general.cc  general, weather, hot work, confined, per-type kinds (GeneralKinds)
//   rules_people.cc   people and approval kinds              (PeopleKinds)
// check.cc dispatches; rulebook.cc validates every rule's params at load through
// CheckKind::validate.

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"
#include "wg/permit/check.h"
#include "wg/permit/rulebook.h"

namespace wg::permit::internal {

struct EvalContext {
  const PermitRulebook& book;
  const Permit& permit;
  const TypeSpec& spec;
  const CheckOptions& options;
  Stage stage;        // effective stage checked up to
  bool dry_run;       // options.stage was nullopt (auto)
  const std::optional<ComputedGrade>& grade;  // ComputeGrade's result
  // The reference start for gas timing: max(planned_start, at) in a dry run and at
  // plan/gas/approve stages; `at` at the start stage.
  core::Timestamp reference_start;
};

// Placeholder values for the rule's message templates ("{limit}" -> "8 h").
using Vars = std::map<std::string, std::string, std::less<>>;

class Findings {
 public:
  // A violation of `rule` at `field`; messages are the rule's templates filled with vars.
  void Add(const Rule& rule, std::string field, const Vars& vars = {}, std::string related = {});
  void Pending(const Rule& rule) { pending.push_back(rule.id); }
  void Skipped(const Rule& rule) { skipped.push_back(rule.id); }

  std::vector<Violation> violations;
  std::vector<std::string> pending;
  std::vector<std::string> skipped;
};

// Replaces each "{name}" in `tmpl` with vars[name]; unknown names are left as they are.
std::string FillTemplate(std::string_view tmpl, const Vars& vars);
// "8 h", "72 h", "15 d", "30 min", "1 h 1 min".
std::string FormatDuration(core::Duration d);
// Numbers as people write them: "19.5", "0.2", "40".
std::string FormatNumber(double v);

struct CheckKind {
  std::string_view name;
  // Checks a rule's params at load; kInvalidArgument naming the member ("params.max").
  core::Status (*validate)(const core::Json& params);
  void (*eval)(const EvalContext& ctx, const Rule& rule, Findings& out);
  // True when the kind needs options.directory (skipped without it).
  bool needs_directory = false;
  // True when the kind can already fail on what the document says before its stage is
  // reached (gas criteria on readings present, signature validity): evaluated in a dry
  // run regardless of stage.
  bool eager = false;
};

std::span<const CheckKind> GasKinds();
std::span<const CheckKind> GradeKinds();
std::span<const CheckKind> GeneralKinds();
std::span<const CheckKind> PeopleKinds();
// Searches all four groups; nullptr when unknown.
const CheckKind* FindCheckKind(std::string_view name);

// Param helpers for validate functions (errors name "params.<key>").
core::Result<core::Duration> ParseDurationParam(const core::Json& params, std::string_view key);
// "30m", "8h", "72h", "15d", "1h30m" -> Duration.
core::Result<core::Duration> ParseDurationText(std::string_view text, std::string_view field);

}  // namespace wg::permit::internal

#pragma once
// PermitRulebook: GB 30871-2022 as data (docs/formats/permit-rules.md). A versioned file
// set, loaded and validated at start; every rule has an id, the clause it comes from, the
// engine check it uses (a fixed vocabulary implemented in C++, see check.h), its
// parameters, severity (block / warn), the stage it applies from, and messages in Chinese
// and English. Values the regulations digest marks uncertain carry an `uncertain` note.
//
// Files (defaults embedded in the binary and installed into DATA/rules/permits/, where a
// safety manager may edit them; a malformed or inconsistent file fails the load naming
// the file, JSON path and reason):
//   permit_types.json          the eight types: grades, validity, people, certificates,
//                              signature chain (Appendix A), approval authority (App. B)
//   permit_rules_general.json  rules on content, people, signatures, authority, weather,
//                              distances and per-type requirements
//   permit_rules_gas.json      gas analysis rules (timing, criteria)
//   gases.json                 gas table: LEL, molar mass, occupational exposure limits
//   calendar.json              holidays, adjusted working days, the night window
//   conflicts.json             the SIMOPS / cross-work matrix
//
// Immutable after loading; safe to share between threads.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/permit/model.h"

namespace wg::permit {

// When a rule starts to apply in a permit's life (and in a dry run, see check.h).
enum class Stage {
  kPlan = 0,     // "plan": the document as drafted / submitted
  kGas = 1,      // "gas": gas analyses recorded
  kApprove = 2,  // "approve": signatures and the approver's authority
  kStart = 3,    // "start": at activation / resumption / while active (time, weather)
};
std::string_view StageCode(Stage s);
core::Result<Stage> ParseStage(std::string_view s, std::string_view field = "stage");

enum class Severity { kBlock, kWarn };
std::string_view SeverityCode(Severity s);

struct Rule {
  std::string id;          // "hot_work.validity", unique
  std::string clause;      // "GB 30871-2022 §5.1.5"
  std::string check;       // engine check kind, e.g. "validity_max" (check.h lists them)
  Severity severity = Severity::kBlock;
  Stage stage = Stage::kPlan;
  std::vector<PermitType> types;      // empty: every type
  std::vector<std::string> grades;    // empty: every grade
  core::Json params = core::Json::object();
  std::string message_zh;  // may contain {placeholders} filled by the check
  std::string message_en;
  std::string uncertain;   // non-empty: why this value is marked uncertain
  std::string file;        // the file it came from
};

struct GradeSpec {
  std::string code;     // "special", "grade1", ...
  std::string name_zh;  // "特级"
  std::optional<core::Duration> max_validity;  // nullopt: the standard sets none
  std::string approver_level;  // authority level that approves this grade (App. B.1)
};

struct PeopleRequirement {
  std::string role;     // person role (model.h)
  int min = 0;
  int max = 0;          // 0: unbounded
  // Registry operation each person of this role must be certified for (via the
  // registry's verification); empty: no certificate required.
  std::string operation;
  std::string clause;
};

struct SignatureStep {
  std::string role;      // "applicant", "guardian", "owning_unit", "approver", ...
  std::string name_zh;   // "作业申请人"
  // Account roles (domain::Role names) allowed to sign this step.
  std::vector<std::string> user_roles;
  bool approval = false;  // this step is the approval (authority checks apply)
  std::string clause;
};

struct TypeSpec {
  PermitType type = PermitType::kHotWork;
  std::string code;
  std::string name_zh;
  std::string prefix;                     // permit number prefix, e.g. "DH"
  std::vector<GradeSpec> grades;          // one entry with code "" when ungraded
  std::string validity_clause;
  std::vector<PeopleRequirement> people;
  std::vector<SignatureStep> signature_chain;  // in order (Appendix A)
  std::string signature_clause;
  std::string approval_clause;

  const GradeSpec* FindGrade(std::string_view code) const;
};

// One gas of the gas table (gases.json).
struct GasSpec {
  std::string code;        // "CH4"
  std::string name_zh;     // "甲烷"
  std::string kind;        // "oxygen", "combustible", "toxic", "combustible_toxic"
  std::optional<double> lel_vol_pct;   // lower explosive limit, % vol
  std::optional<double> molar_mass;    // g/mol, for ppm <-> mg/m3
  std::optional<double> oel_mg_m3;     // GBZ 2.1 limit used for pass/fail
  std::string oel_type;                // "MAC", "PC-TWA", "PC-STEL"
  std::string clause;
  std::string uncertain;
};

// Public holidays and adjusted working days (调休) per year, and the night window.
struct Calendar {
  std::vector<core::Date> holidays;        // 法定节假日 (days off)
  std::vector<core::Date> working_days;    // weekend days that are working days (调休上班)
  int night_start_minute = 0;   // minutes after 00:00 Shanghai time, e.g. 20*60
  int night_end_minute = 0;     // e.g. 6*60; the window wraps midnight when start > end
  std::string night_clause;
  std::string uncertain;
  // Days the calendar covers (outside them only weekends count as rest days).
  core::Date covered_from;
  core::Date covered_until;     // inclusive

  bool IsRestDay(core::Date d) const;      // holiday or (weekend and not a working day)
  bool IsHoliday(core::Date d) const;
  bool IsNight(core::Timestamp t) const;
};

// A cross-work (SIMOPS) rule: permits matching `a` and `b` conflict when both are open,
// their windows overlap, and the spatial condition holds.
struct ConflictSide {
  std::vector<PermitType> types;        // empty: any type
  std::vector<std::string> activities;  // empty: any; else one of these activity tags
  std::vector<std::string> area_classes;  // empty: any
};

struct ConflictRule {
  std::string id;
  std::string clause;
  ConflictSide a;
  ConflictSide b;
  std::optional<double> within_m;  // horizontal distance between work points (or fences)
  // Extra spatial condition: "" none, "same_pipeline", "same_space", "same_zone",
  // "fall_line" (b below a within the horizontal radius and a's elevation above b's).
  std::string relation;
  // Condition that lifts the conflict, e.g. "protective_layer" for vertical cross work.
  std::string unless;
  Severity severity = Severity::kBlock;
  std::string message_zh;
  std::string message_en;
  std::string uncertain;
};

// Limits used by the authorization and workload checks (permit_types.json "limits").
struct AuthorizationLimits {
  int guardian_max_simultaneous = 1;   // open permits one guardian may guard at once
  int approver_max_active = 20;        // open permits approved by one approver
  int approver_min_approvals_special = 0;  // approvals needed before approving 特级
  double approver_max_incident_rate = 0.05;  // incidents / approvals
  int approver_max_recent_suspensions = 10;
  std::string clause;
};

class PermitRulebook {
 public:
  // Parses the documents by file name (the six names above); every error names the file
  // and JSON path. Cross-checks: rule ids unique, every check kind known to the engine
  // with valid params, every type present exactly once, gases referenced exist.
  static core::Result<PermitRulebook> FromJson(const std::map<std::string, core::Json>& files);
  static core::Result<PermitRulebook> LoadDirectory(const std::string& dir);
  static core::Result<PermitRulebook> LoadEmbedded();
  // Writes the embedded defaults into `dir` (creating it) without overwriting files.
  static core::Status InstallDefaults(const std::string& dir);
  static std::vector<std::string> FileNames();

  const std::string& version() const { return version_; }
  const std::string& source() const { return source_; }
  const TypeSpec& type(PermitType t) const { return types_[static_cast<int>(t)]; }
  const std::vector<Rule>& rules() const { return rules_; }
  const Rule* FindRule(std::string_view id) const;
  const GasSpec* FindGas(std::string_view code) const;
  const std::vector<GasSpec>& gases() const { return gases_; }
  const Calendar& calendar() const { return calendar_; }
  const std::vector<ConflictRule>& conflicts() const { return conflicts_; }
  const AuthorizationLimits& limits() const { return limits_; }
  // The authority levels in order from lowest to highest ("grassroots_unit" < ... ).
  const std::vector<std::string>& authority_levels() const { return authority_levels_; }
  int AuthorityRank(std::string_view level) const;  // -1 when unknown
  core::Json ToJson() const;  // GET /api/v1/permits/rulebook

 private:
  std::string version_;
  std::string source_;
  std::array<TypeSpec, kPermitTypeCount> types_;
  std::vector<Rule> rules_;
  std::vector<GasSpec> gases_;
  Calendar calendar_;
  std::vector<ConflictRule> conflicts_;
  AuthorizationLimits limits_;
  std::vector<std::string> authority_levels_;
};

}  // namespace wg::permit

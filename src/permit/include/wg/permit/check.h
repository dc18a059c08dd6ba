#pragma once
// The compliance checker: a pure function of the rulebook, the permit, what the
// Directory knows about people and other permits, the open permits (conflicts) and the
// instant. No I/O, no clock reads. Every violation names its rule, clause, severity and
// the document field it concerns; the decision records the rulebook version.
//
// Stages. Each rule applies from a stage (rulebook.h). A lifecycle step checks the rules
// up to its stage: submit -> plan, recording gas -> gas, approval -> approve,
// activation/resumption -> start. A dry run (`workguard permit check`,
// POST /api/v1/permits/check) with stage "auto" checks up to the stage the document has
// reached: approve when it carries signatures, gas when it carries gas readings, plan
// otherwise — plus, always, the rules of later stages that can already fail on what the
// document says (gas criteria on any reading, signature validity on any signature). Rules
// of later stages that cannot be evaluated yet are listed as `pending`, not violated.
//
// Check kinds (the vocabulary rules refer to; each documents its params in
// docs/formats/permit-rules.md):
//   general   window_valid, validity_max, temporary_power_duration, required_fields,
//             measures_confirmed, briefing, linked_type_required, new_permit_required
//   grades    hot_work_grade, hot_work_escalation, height_grade, lifting_grade,
//             lifting_ticket_needed
//   gas       gas_required, gas_before_start, gas_retest_after_break, gas_daily,
//             gas_continuous, gas_oxygen, gas_combustible, gas_toxic, gas_known
//   people    required_people, worker_certificate, guardian_present, guardian_trained,
//             guardian_not_performer, guardian_workload
//   approval  signature_chain, signature_valid, approver_authority, approver_workload,
//             approver_track_record, approver_on_site
//   weather   wind_limit, weather_stop
//   hot work  distance_min, cylinder_distance, isolation_blind_plate, special_extras,
//             oxygen_equipment
//   confined  ventilation, lighting_voltage
//   per type  blind_plate_single, lifting_plan, lifting_multi_crane, excavation_deep,
//             excavation_cosign, road_fire_lane, road_cosign
//   conflicts (evaluated from conflicts.json, see conflict.h)

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"

namespace wg::permit {

class OpenPermitIndex;  // conflict.h

// A worker's certificate verification for a registry operation (from the registry).
struct WorkerCheck {
  bool found = false;
  bool may_work = false;
  std::string name;
  std::string verdict;             // registry verdict name, e.g. "expired"
  std::string certificate_number;  // the certificate that decided, when any
  std::string rule;                // registry rule and clause behind the verdict
  std::string clause;
  std::string detail;
};

// An approver's authorization (data, per user; PUT /api/v1/approvers/{username}).
struct AuthorityScope {
  std::string level;                 // authority level held, e.g. "safety_department"
  std::vector<PermitType> types;     // empty: every type
  std::vector<std::string> grades;   // empty: every grade
  std::vector<std::string> sites;    // empty: every site of the organization
  // A delegation below the App. B.1 level (e.g. 一级 hot work approved by a workshop
  // head): who delegated and the enterprise document that allows it.
  std::string delegated_by;
  std::string reference;
  std::optional<core::Date> valid_until;
};

struct UserFacts {
  std::string username;
  std::string display_name;
  std::string role;        // domain::Role name
  bool active = true;
  bool has_signing_key = false;
  std::vector<AuthorityScope> scopes;
  // Computed from the facts (track record) and the open permits (workload).
  int open_approved = 0;   // open permits this user approved
  int open_guarding = 0;   // open permits this user guards (excluding the one checked)
  int approvals = 0;       // permits approved, all time
  int suspensions = 0;     // suspensions of permits they approved, last 90 days
  int incidents = 0;       // incidents on permits they approved, all time
  // A position the signer's device reported with the signing request.
  std::optional<Point> position;
  std::optional<core::Timestamp> position_time;
  // The last position of the user's tag on the permit's site (people on site), when the
  // installation tracks them (PermitService::SetPositionSource).
  std::optional<Point> tracked_position;
  std::optional<core::Timestamp> tracked_time;
};

// A brief view of another permit (linked permits, conflicts).
struct PermitBrief {
  std::int64_t id = 0;
  std::string number;
  std::string site;
  PermitType type = PermitType::kHotWork;
  std::string grade;
  State state = State::kDraft;
  core::Timestamp planned_start;
  core::Timestamp planned_end;
};

// What the checker may ask about the world. The service implements it over the registry
// and the store; tests implement it in memory. Implementations must be thread-safe when
// checks run concurrently.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual WorkerCheck VerifyWorker(std::string_view worker_code, std::string_view operation,
                                   core::Timestamp at) const = 0;
  virtual std::optional<UserFacts> FindUser(std::string_view username) const = 0;
  // Verifies `sig` (raw r||s, base64 in the Signature) over `digest` with the user's key
  // `sig.key_id`. False when the key is unknown or the signature does not verify.
  virtual bool VerifySignature(const Signature& sig, std::string_view digest) const = 0;
  virtual std::optional<PermitBrief> FindPermit(std::string_view number) const = 0;
};

struct CheckOptions {
  core::Timestamp at;               // the instant of the check
  std::optional<Stage> stage;       // nullopt: auto (dry run)
  const Directory* directory = nullptr;     // nullptr: people/authority rules are skipped
  const OpenPermitIndex* open = nullptr;    // nullptr: no conflict check
  // The break that ended at `at` (resumption), for the re-test rule.
  std::optional<core::Duration> break_length;
};

struct Violation {
  std::string rule;
  std::string clause;
  Severity severity = Severity::kBlock;
  std::string message;      // English
  std::string message_zh;
  std::string field;        // JSON path in the permit document, "" when about the whole
  std::string related;      // the other permit's number for conflicts
};

enum class Verdict { kCompliant, kWarnings, kBlocked };
std::string_view VerdictCode(Verdict v);  // "compliant", "warnings", "blocked"

// Grades the engine computed (shown beside the declared grade).
struct ComputedGrade {
  std::string base;       // from the work itself
  std::string required;   // after escalation (night, holiday, rest day, pipe rack …)
  std::vector<std::string> reasons;  // e.g. "night", "holiday", "pipe_rack", "method_b"
};

struct Decision {
  Verdict verdict = Verdict::kCompliant;
  std::string rulebook;          // rulebook version
  Stage stage = Stage::kPlan;    // the stage checked up to
  core::Timestamp at;
  std::vector<Violation> violations;
  std::vector<std::string> pending;  // rule ids not yet due at this stage
  std::vector<std::string> skipped;  // rule ids not evaluable (no directory)
  std::optional<ComputedGrade> grade;
  std::size_t rules_evaluated = 0;
  std::size_t conflicts_examined = 0;

  bool blocked() const { return verdict == Verdict::kBlocked; }
};

// {"verdict", "rulebook", "stage", "at", "violations": [{"rule","clause","severity",
//  "message","message_zh","field","related"?}], "pending", "skipped", "grade"}
core::Json ToJson(const Decision& d);

// Runs every applicable rule and, when options.open is set, the conflict matrix.
Decision Check(const PermitRulebook& book, const Permit& permit, const CheckOptions& options);

// The grade the work requires (no directory needed); nullopt for ungraded types.
std::optional<ComputedGrade> ComputeGrade(const PermitRulebook& book, const Permit& permit);

// Gas helpers (also used by the live-monitoring issue).
// A reading converted to % vol (combustibles), nullopt when the unit cannot convert.
std::optional<double> ToVolPercent(const GasSpec& gas, double value, std::string_view unit);
// A reading converted to mg/m3 at 20 °C, 101.325 kPa (toxics), nullopt when impossible.
std::optional<double> ToMgPerM3(const GasSpec& gas, double value, std::string_view unit);

}  // namespace wg::permit

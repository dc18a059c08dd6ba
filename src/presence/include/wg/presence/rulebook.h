#pragma once
// The presence rulebook (data/rules/presence/rules.json, docs/formats/presence-rules.md):
// every people-on-site rule is data with its clause, alarm level, parameters, the SOP
// actions it takes and its messages. Strict loading: unknown members, unknown checks,
// bad durations/levels/actions are errors naming "rules[i].<member>".
//
// Checks (the vocabulary rules refer to):
//   unauthorized_entry  a bound person without a role on the permit (scope "permit") or
//                       without an open permit of the fence's zone (scope "restricted")
//                       stays inside the fence for `grace`
//   guardian_presence   during an active permit each guardian is within `max_distance_m`
//                       of the work point or inside the work fence, with a position no
//                       older than `stale_after`; absent longer than `grace` raises the
//                       alarm (actions: suspend_permit — GB 30871 §4.10 f)
//   confined_headcount  entries and exits of a permit fence counted (permit types
//                       `permit_types`); anyone inside a suspended permit's fence for
//                       `grace` raises the alarm; completion is refused while anyone (or a
//                       declared tool) is inside
//   holder_presence     every performer whose certificate was verified on the active
//                       permit is inside the fence (or within `max_distance_m` of the work
//                       point) after `grace` from activation; a holder seen elsewhere (a
//                       fresh position outside) for `grace` is possible 真证假用
//   lone_worker         a person inside a hazardous zone fence (or an active permit fence
//                       of `permit_types`) has not moved more than `movement_m` for
//                       `still_for` (man-down)
//   stale_tag           the tag of a person on an active permit has not reported for
//                       `after`
//   implausible_jump    fixes implying a speed above `max_speed_mps` are rejected; `count`
//                       rejections of one tag within `window` raise the alarm

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/monitor/model.h"

namespace wg::presence {

enum class Check : std::uint8_t {
  kUnauthorizedEntry,
  kGuardianPresence,
  kConfinedHeadcount,
  kHolderPresence,
  kLoneWorker,
  kStaleTag,
  kImplausibleJump,
};
std::string_view CheckName(Check c);
core::Result<Check> ParseCheck(std::string_view s, std::string_view field = "check");

struct RuleDef {
  std::string id;       // "presence.guardian_absent"
  std::string clause;   // "GB 30871-2022 §4.10 f)"
  Check check = Check::kGuardianPresence;
  monitor::Level level = monitor::Level::kYellow;
  // SOP actions on raising: "notify" (always implied), "suspend_permit" (the permit the
  // alarm is about), "broadcast" (the zone's emergency broadcast).
  std::vector<std::string> actions;
  // Parameters (each check reads the ones it documents; absent = the default shown).
  std::string scope = "permit";                 // unauthorized_entry: "permit" | "restricted"
  core::Duration grace = core::Duration::Seconds(30);
  core::Duration stale_after = core::Duration::Seconds(60);
  core::Duration still_for = core::Duration::Minutes(3);
  core::Duration after = core::Duration::Seconds(120);     // stale_tag
  core::Duration window = core::Duration::Minutes(5);      // implausible_jump
  double max_distance_m = 30;
  double movement_m = 0.5;
  double max_speed_mps = 10;
  int count = 3;
  std::vector<std::string> permit_types;  // permit type codes the rule applies to; empty: all
  bool block_completion = false;          // confined_headcount
  std::string message_zh, message_en;     // templates: {person} {permit} {fence} {distance}
                                          // {minutes} {certificate} {speed} {count} {tag}
  std::string note;
  bool AppliesTo(std::string_view permit_type) const;
};

class PresenceRulebook {
 public:
  static core::Result<std::unique_ptr<PresenceRulebook>> LoadFile(const std::string& path);
  static core::Result<std::unique_ptr<PresenceRulebook>> LoadEmbedded();
  static std::vector<std::pair<std::string, std::string>> EmbeddedFiles();  // "rules.json"
  static core::Result<std::unique_ptr<PresenceRulebook>> FromJson(const core::Json& doc);

  const std::string& version() const { return version_; }
  const std::vector<RuleDef>& rules() const { return rules_; }
  const RuleDef* Rule(std::string_view id) const;
  // Rules of one check, in file order.
  std::vector<const RuleDef*> RulesOf(Check c) const;
  // Largest accuracy (metres) a fix may report and still be used; 0 = no limit.
  double max_accuracy_m() const { return max_accuracy_m_; }

 private:
  PresenceRulebook() = default;
  std::string version_;
  std::vector<RuleDef> rules_;
  double max_accuracy_m_ = 50;
};

// Fills {name} placeholders from `vars` (unknown names are left as they are).
std::string FillTemplate(std::string_view tmpl,
                         const std::vector<std::pair<std::string, std::string>>& vars);

}  // namespace wg::presence

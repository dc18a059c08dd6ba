#pragma once
// MonitorRulebook: the live-monitoring rules as data (data/rules/monitor/*.json,
// docs/formats/monitor-rules.md). Loaded and validated at start; every error names the
// file and the JSON path. Every rule carries the clause it comes from (GB/T 50493-2019
// §5.5.2 alarm set-points, GB 30871-2022 §5.3.2/§6.4/§6.5 pass criteria, GBZ 2.1-2019
// limits, the seed's SOP) or says it is an installation default.
//
//   kinds.json       sensor kinds: units, physical range per unit, default stale time,
//                    flat-line window
//   thresholds.json  rules: threshold_high / threshold_low (value, for_s, clear
//                    hysteresis), rate (rise per minute over a window), stale, flatline,
//                    range (sensor faults); each with level, clause and zh/en messages
//   profiles.json    dynamic threshold profiles: match months / conditions / sites, and
//                    scale or override thresholds of rules or kinds (e.g. summer
//                    confined-space CO 15 % lower)
//   sop.json         for each level: roles that may acknowledge, the deadline, what
//                    happens on timeout (escalate, notify), and the automatic actions
//
// Immutable after loading; safe to share between threads.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/status.h"
#include "wg/monitor/model.h"

namespace wg::monitor {

struct KindDef {
  std::string code;                    // "o2"
  std::string name_zh, name_en;
  struct UnitRange {
    std::string unit;                  // "%vol"
    double min = 0, max = 0;           // physical range: outside is a sensor fault
  };
  std::vector<UnitRange> units;        // allowed units, first is the default
  bool needs_gas = false;              // combustible kinds name the gas
  std::int64_t stale_after_s = 60;     // no data for this long: stale-sensor alarm
  std::int64_t flatline_s = 0;         // identical values this long: flat-line fault; 0 = off
  std::string gas;                     // the gas a single-gas kind measures ("H2S"); "" if none
  const UnitRange* Unit(std::string_view unit) const;  // nullptr when not allowed
};

// A gas of kinds.json: LEL (% vol, 0 when not combustible) and molar mass (g/mol) for unit
// conversion (mg/m3 <-> ppm, %LEL <-> %vol).
struct GasDef {
  std::string code;                    // "CH4"
  std::string name_zh, name_en;
  double lel_vol_pct = 0;
  double molar_mass = 0;
  std::string uncertain;
};

enum class RuleKind : std::uint8_t {
  kThresholdHigh, kThresholdLow, kRate, kStale, kFlatline, kRange
};
std::string_view RuleKindName(RuleKind k);

struct RuleDef {
  std::string id;        // unique
  std::string clause;    // "GB/T 50493-2019 §5.5.2" / "installation default"
  std::string source;    // free text: where the value comes from
  RuleKind kind = RuleKind::kThresholdHigh;
  std::string point_kind;   // the sensor kind it applies to ("" for stale/flatline/range:
                            // every kind)
  std::string unit;         // unit of `value` ("" for kinds without thresholds)
  std::string gas;          // only points measuring this gas ("" = any)
  Level level = Level::kBlue;
  double value = 0;         // threshold; for kRate: rise per minute
  std::int64_t for_s = 0;   // condition must hold this long before raising (0 = at once)
  double clear_hysteresis = 0;  // clears only once value is this far back inside
  std::int64_t clear_for_s = 0; // and stays there this long
  std::int64_t window_s = 60;   // kRate: window over which the rise is measured
  std::string message_zh, message_en;  // may use {point} {value} {unit} {threshold}
  std::string uncertain;    // non-empty when the regulations digest marks it uncertain
  bool profile_only = false;  // off until an active profile enables it (Adjust::enable)
  double gas_lel_min = 0;     // only gases with LEL >= this (% vol; 0 = no bound)
  double gas_lel_max = 0;     // only gases with LEL < this (% vol; 0 = no bound)
};

// Conditions a profile can match (set from the permits: see live::MonitorService).
//   "hot_work_active"       an active 动火 permit in the point's zone
//   "confined_space_entry"  an active 受限空间 permit in the zone or bound to the point
//   "any_permit_active"     any active permit in the zone
//   "oxygen_enriched"       the permit declares oxygen enrichment
inline constexpr std::string_view kKnownConditions[] = {
    "hot_work_active", "confined_space_entry", "any_permit_active", "oxygen_enriched"};

struct ProfileDef {
  std::string id, name_zh, name_en, clause;
  std::vector<int> months;                 // 1..12; empty = any month
  std::vector<std::string> conditions;     // all must hold; empty = always
  std::vector<std::string> sites;          // empty = any site
  struct Adjust {
    std::vector<std::string> rules;        // rule ids, or
    std::vector<std::string> kinds;        // every threshold rule of these point kinds
    std::optional<double> factor;          // threshold *= factor (0 < factor <= 2)
    std::optional<double> value;           // or threshold = value
    std::optional<Level> level;            // and/or a different level
    bool enable = false;                   // switches on the named profile_only rules
  };
  std::vector<Adjust> adjust;
};

enum class ActionKind : std::uint8_t {
  kNotify,           // notify roles (outbox + webhooks)
  kSuspendPermits,   // suspend every active permit in the zone and bound to the point
  kPowerLock,        // publish the power-lock command (作业电源闭锁)
  kBroadcast,        // publish the emergency-broadcast command (应急广播)
};
std::string_view ActionKindName(ActionKind k);  // "notify", "suspend_permits", "power_lock", "broadcast"

struct SopLevel {
  Level level = Level::kBlue;
  std::string clause;
  std::vector<std::string> ack_roles;       // domain role names allowed to acknowledge
  std::int64_t ack_within_s = 900;          // deadline after raising
  std::optional<Level> escalate_to;         // on a missed deadline (nullopt: stay)
  std::vector<std::string> notify_on_timeout;  // roles notified on a missed deadline
  std::vector<ActionKind> actions;          // on raising (and on escalating into this level)
  std::vector<std::string> notify;          // roles notified by kNotify
};

class MonitorRulebook {
 public:
  // Reads DIR/{kinds,thresholds,profiles,sop}.json.
  static core::Result<std::unique_ptr<MonitorRulebook>> LoadDir(const std::string& dir);
  // From the copies embedded in the binary (the defaults written into DATA/rules/monitor).
  static core::Result<std::unique_ptr<MonitorRulebook>> LoadEmbedded();
  // The embedded default files: name ("kinds.json") -> content.
  static std::vector<std::pair<std::string, std::string>> EmbeddedFiles();
  // From documents already parsed (tests).
  static core::Result<std::unique_ptr<MonitorRulebook>> FromJson(const core::Json& kinds,
                                                                 const core::Json& thresholds,
                                                                 const core::Json& profiles,
                                                                 const core::Json& sop);

  const std::string& version() const { return version_; }  // "<kinds v>/<thresholds v>/..."
  const KindDef* Kind(std::string_view code) const;
  const std::vector<KindDef>& kinds() const { return kinds_; }
  const std::vector<RuleDef>& rules() const { return rules_; }
  const RuleDef* Rule(std::string_view id) const;
  const std::vector<ProfileDef>& profiles() const { return profiles_; }
  const SopLevel& Sop(Level l) const;
  const std::vector<GasDef>& gases() const { return gases_; }
  const GasDef* Gas(std::string_view code) const;
  double molar_volume_l() const { return molar_volume_l_; }
  // The factor f with value_in_`to` = value_in_`from` * f for a point of `kind` measuring
  // `gas` ("" = the kind's own gas). Every supported conversion is linear through zero:
  // %vol/ppm/%LEL/mg/m3 (via the gas's LEL and molar mass), kPa/MPa. nullopt when the
  // units cannot be converted for that kind and gas.
  std::optional<double> UnitFactor(std::string_view from, std::string_view to,
                                   const KindDef& kind, std::string_view gas) const;

 private:
  MonitorRulebook() = default;
  std::string version_;
  std::vector<KindDef> kinds_;
  std::vector<RuleDef> rules_;
  std::vector<ProfileDef> profiles_;
  std::vector<SopLevel> sop_;  // indexed by level - 1
  std::vector<GasDef> gases_;
  double molar_volume_l_ = 24.04;
};

}  // namespace wg::monitor

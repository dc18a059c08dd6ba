#pragma once
// Monitoring points, readings and alarms: the value types of live monitoring
// (docs/formats/monitor-points.md, docs/formats/monitor-rules.md).
//
// A monitoring point (监测点) is one sensor channel: a kind from the rulebook (o2,
// combustible, h2s, co, ch4, voc, temperature, pressure, crane_load, wind_speed, ...), a unit
// the kind allows, a place (site / zone / equipment) and optionally the permits it was
// placed for (a detector put into a tank for a confined-space entry). Points belong to one
// organization; their id is unique inside it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/ids.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::monitor {

class MonitorRulebook;

// Alarm levels of the red/yellow/blue SOP (蓝色 / 黄色 / 红色). Ordered: red is highest.
enum class Level : std::uint8_t { kBlue = 1, kYellow = 2, kRed = 3 };
std::string_view LevelName(Level l);  // "blue" / "yellow" / "red"
core::Result<Level> ParseLevel(std::string_view s, std::string_view field = "level");
std::string_view LevelNameZh(Level l);  // "蓝色" / "黄色" / "红色"

// ISA-18.2 style alarm states.
enum class AlarmState : std::uint8_t {
  kActiveUnacked,   // active, not yet acknowledged
  kActiveAcked,     // active, acknowledged
  kClearedUnacked,  // returned to normal but never acknowledged
  kClearedAcked,    // returned to normal and acknowledged: closed
};
std::string_view AlarmStateName(AlarmState s);  // "active_unacked", "active_acked", ...
core::Result<AlarmState> ParseAlarmState(std::string_view s, std::string_view field = "state");

// A limit configured on the point itself, for process variables the rulebook cannot know
// (a reactor's temperature, a vessel's pressure): rule id "point.<point id>.<n>", clause
// "point configuration".
struct PointLimit {
  Level level = Level::kYellow;
  bool high = true;            // true: alarm at value >= limit; false: value <= limit
  double value = 0;            // in the point's unit
  std::int64_t for_s = 0;
  double clear_hysteresis = 0;
};

// A point as configured (JSON: docs/formats/monitor-points.md).
struct PointConfig {
  core::OrgId org;
  std::string id;         // [A-Za-z0-9._-]{1,64}, unique per organization
  std::string name;       // display name, <= 128 bytes
  std::string site;       // site code
  std::string zone;       // zone code inside the site ("" = whole site), <= 64 bytes
  std::string equipment;  // tag of the equipment watched, <= 64 bytes
  std::string kind;       // a kind of the rulebook
  std::string unit;       // one of the kind's units
  std::string gas;        // the gas measured, for combustible kinds (a permit gas code: "CH4")
  std::vector<std::string> permits;  // permit numbers the point is placed for (<= 16)
  std::optional<std::int64_t> stale_after_s;  // overrides the kind's default (1..86400)
  std::vector<PointLimit> limits;             // point-specific limits (<= 8)
  bool enabled = true;
  std::int64_t version = 0;  // store version (0 = new)
};

// Strict parse: unknown members, wrong types, kinds/units the rulebook lacks, bad ids are
// kInvalidArgument naming the JSON member ("unit", "permits[2]"). `org` is the caller's.
core::Result<PointConfig> ParsePoint(const MonitorRulebook& book, core::OrgId org,
                                     const core::Json& doc);
core::Json ToJson(const PointConfig& p);

// Dense index of a point inside an Engine (stable for the engine's lifetime).
using PointIndex = std::uint32_t;

// One measured value.
struct Reading {
  PointIndex point = 0;
  core::Timestamp time;  // when measured (the sensor's clock)
  double value = 0;
};

// An alarm: one per (point, rule) at a time (de-duplicated: a rule that keeps firing
// updates the open alarm instead of raising a new one).
struct Alarm {
  std::int64_t id = 0;  // assigned by the engine, increasing, never reused
  core::OrgId org;
  std::string site;
  std::string zone;
  std::string point;       // point id
  std::string kind;        // point kind
  std::string unit;
  std::string rule;        // rule id ("gbt50493.h2s.ah")
  std::string clause;      // the rule's clause reference
  std::string rule_kind;   // "threshold_high", "threshold_low", "rate", "stale", "flatline",
                           // "range", "escalation"
  Level level = Level::kBlue;     // current level (escalation raises it)
  Level raised_level = Level::kBlue;
  AlarmState state = AlarmState::kActiveUnacked;
  std::vector<std::string> profiles;  // active threshold profiles when raised
  double threshold = 0;    // effective threshold (after profiles) when raised
  double value = 0;        // the reading that raised it
  double peak = 0;         // worst value while active
  core::Timestamp raised_at;     // engine time of raising
  core::Timestamp reading_time;  // time of the reading that raised it
  core::Timestamp ack_deadline;  // when the SOP wants an acknowledgement by
  std::optional<core::Timestamp> acked_at;
  std::string acked_by;          // "user:<name>"
  std::string ack_note;
  std::optional<core::Timestamp> cleared_at;
  int escalations = 0;
  std::vector<std::string> permits;  // permits bound to the point
  std::string message_zh;
  std::string message_en;
  // Alarms raised by another engine (people on site, Engine::RaiseExternal): the actions
  // it takes instead of its level's SOP actions ("notify", "suspend_permit" — only the
  // alarm's permits, "broadcast", "power_lock"); empty for the monitor's own alarms.
  std::vector<std::string> actions;
  std::string evidence;  // JSON text of what the external engine saw ("" = none)
};
core::Json ToJson(const Alarm& a);
core::Result<Alarm> AlarmFromJson(const core::Json& j);  // for restoring from the store

}  // namespace wg::monitor

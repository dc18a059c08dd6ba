#pragma once
// Engine: readings in, alarm transitions and SOP actions out. Pure: no sockets, files,
// threads or wall-clock reads; every call takes `now` (the injected clock's time), so
// tests and replays are deterministic. Not thread-safe: one owner thread (live::
// MonitorService holds it behind its engine mutex).
//
// Per reading (Ingest), in this order:
//   1. validation — non-finite value, time more than max_future ahead of `now` or older
//      than max_age: rejected (IngestVerdict says why; nothing changes);
//   2. de-duplication by (point, time): a time equal to the point's last accepted time is
//      a duplicate (QoS 1 redelivery), an older one is out of order; both are dropped
//      from evaluation and counted by the caller;
//   3. sensor-fault rules: outside the kind's physical range for the unit ("range"),
//      identical values for the kind's flat-line window ("flatline");
//   4. threshold rules of the point's kind (and gas) with the thresholds of the active
//      profiles: a condition must hold `for_s` (measured in reading time) before the
//      alarm is raised; it clears only once the value is `clear_hysteresis` back inside
//      for `clear_for_s`; rate rules compare the rise over their window;
//   5. de-duplication of alarms per (point, rule): while an alarm of the pair is open
//      (not cleared-and-acknowledged), the rule updates it (peak value; a cleared-unacked
//      alarm whose condition returns becomes active-unacked again) instead of raising a
//      new one. A higher-level rule of the same point and direction raises its own alarm.
// Tick(now) runs the time-driven rules: stale sensors (no reading for stale_after_s of
// engine time), acknowledgement deadlines (SOP: escalate one level / notify), the month
// rolling into another profile.
// Every transition is an AlarmEvent; every SOP consequence an Action, emitted when the
// alarm is raised or escalated into a level that has it.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/monitor/model.h"
#include "wg/monitor/rulebook.h"

namespace wg::monitor {

enum class IngestVerdict : std::uint8_t {
  kAccepted,
  kDuplicate,     // same (point, time) as the last accepted reading
  kOutOfOrder,    // older than the last accepted reading of the point
  kNotFinite,     // NaN or infinity
  kTooFarFuture,  // time > now + max_future
  kTooOld,        // time < now - max_age
  kDisabled,      // the point is disabled or removed
};
std::string_view IngestVerdictName(IngestVerdict v);  // "accepted", "duplicate", ...

enum class EventKind : std::uint8_t {
  kRaised,        // new alarm (active_unacked)
  kReactivated,   // cleared_unacked -> active_unacked (condition returned)
  kEscalated,     // acknowledgement deadline missed: level raised (or re-notified)
  kAcknowledged,  // active_unacked -> active_acked, or cleared_unacked -> cleared_acked
  kCleared,       // active_* -> cleared_* (value back inside with hysteresis)
  kClosed,        // reached cleared_acked (also emitted with kAcknowledged/kCleared)
};
std::string_view EventKindName(EventKind k);  // "raised", "reactivated", ...

struct AlarmEvent {
  EventKind kind = EventKind::kRaised;
  Alarm alarm;               // the alarm after the transition
  core::Timestamp at;        // engine time of the transition
  std::string actor;         // "system:monitor" or the acknowledging "user:<name>"
  std::optional<Level> from_level;  // kEscalated: the level before
};

struct Action {
  ActionKind kind = ActionKind::kNotify;
  std::int64_t alarm_id = 0;
  core::OrgId org;
  std::string site, zone, point;
  Level level = Level::kBlue;
  std::vector<std::string> roles;    // kNotify: who
  std::vector<std::string> permits;  // permits bound to the point (kSuspendPermits adds the
                                     // zone's active permits itself)
  std::string reason;                // human text naming the alarm, rule and value
  core::Timestamp at;
  // kSuspendPermits of an alarm about one permit (people on site): suspend only
  // `permits`, not the zone's other active permits.
  bool permits_only = false;
};

struct Emissions {
  std::vector<AlarmEvent> events;
  std::vector<Action> actions;
  void clear() { events.clear(); actions.clear(); }
  bool empty() const { return events.empty() && actions.empty(); }
};

struct EngineOptions {
  core::Duration max_future = core::Duration::Seconds(60);
  core::Duration max_age = core::Duration::Hours(24);
};

// What the engine knows about a point right now (dashboard, API).
struct PointStatus {
  PointIndex index = 0;
  const PointConfig* config = nullptr;
  std::optional<core::Timestamp> last_time;
  double last_value = 0;
  bool stale = false;
  std::vector<std::string> conditions;  // as last set
  std::vector<std::string> profiles;    // active profile ids
};

// A point's red threshold as compiled for it (Engine::RedThreshold): what early warning
// predicts the crossing of. In the point's own unit.
struct RedLimit {
  double value = 0;
  bool high = true;  // danger at value >= limit (false: value <= limit)
  double warn = std::numeric_limits<double>::quiet_NaN();  // the same direction's yellow
                                                           // level before it (NaN: none)
  std::string rule;    // "gbt50493.h2s.ah", "point.<id>.<n>"
  std::string clause;  // the rule's clause reference ("point configuration")
};

class Engine {
 public:
  explicit Engine(const MonitorRulebook& book, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Adds or replaces a point (matched by org + id); keeps its index, its last reading and
  // its open alarms when replaced. kInvalidArgument when kind/unit/gas do not fit the
  // rulebook (naming the field). Thresholds are compiled for the point here and whenever
  // its conditions or the active profiles change, so Ingest does no lookups.
  core::Result<PointIndex> UpsertPoint(const PointConfig& config, core::Timestamp now);
  // Disables a point: later readings are kDisabled; its open alarms stay until handled.
  core::Status RemovePoint(core::OrgId org, std::string_view id);
  std::optional<PointIndex> Find(core::OrgId org, std::string_view id) const;
  std::size_t point_count() const;
  const PointConfig& point(PointIndex i) const;

  // The working conditions holding at a point (kKnownConditions), set by the caller from
  // the permits; re-selects the point's profiles. Unknown names are kInvalidArgument.
  core::Status SetPointConditions(PointIndex i, const std::vector<std::string>& conditions,
                                  core::Timestamp now);

  // One reading. Appends any transitions and actions to `out`.
  IngestVerdict Ingest(PointIndex i, core::Timestamp time, double value, core::Timestamp now,
                       Emissions& out);
  // Time-driven rules (stale sensors, acknowledgement deadlines, profile month change).
  void Tick(core::Timestamp now, Emissions& out);

  // Acknowledges alarm `id` of `org` as `actor` ("user:<name>") with domain role `role`.
  // kNotFound (also for another organization's alarm), kPermissionDenied when the SOP of
  // the alarm's current level does not list the role (the message names the allowed
  // roles), kFailedPrecondition when it is already acknowledged.
  core::Result<Alarm> Acknowledge(core::OrgId org, std::int64_t id, const std::string& actor,
                                  std::string_view role, const std::string& note,
                                  core::Timestamp now, Emissions& out);

  // Open alarms (every state but cleared_acked); all organizations when org is invalid.
  std::vector<Alarm> OpenAlarms(core::OrgId org = {}) const;
  std::optional<Alarm> GetOpenAlarm(std::int64_t id) const;
  PointStatus Status(PointIndex i) const;
  // The point's red threshold with its active profiles: the rulebook's red threshold_high /
  // threshold_low rules compiled for it (switched on; when there are several, the
  // direction of the first in rulebook order and in that direction the one that fires
  // first, i.e. the lowest high / highest low limit); without one, the point's own red
  // PointLimit ("point.<id>.<n>", the same choice). `warn`: of the same direction's yellow
  // threshold rules and limits that fire before it, the one that fires first. nullopt:
  // no red threshold (or no such point). Changes when conditions, profiles (the month) or
  // the point's configuration change.
  std::optional<RedLimit> RedThreshold(PointIndex i) const;

  // Restores open alarms and the id counter after a restart (from the store). Alarms
  // naming unknown points are kept (reported by OpenAlarms) but never re-evaluated.
  core::Status Restore(const std::vector<Alarm>& open, std::int64_t next_id);
  // An alarm raised by another engine (the presence engine): `a` carries org, site, zone,
  // point (the subject, [A-Za-z0-9._:/-]{1,160}), kind, unit, rule, clause, rule_kind,
  // level, value, permits, messages, evidence and its actions (Alarm::actions; empty:
  // the SOP's actions of its level). De-duplicated per (org, point, rule): an open one is
  // updated (value, peak) and returned; a cleared-unacked one is re-activated. Assigns
  // the id, state and acknowledgement deadline; acknowledgement and escalation then work
  // as for the monitor's own alarms. Returns the alarm id.
  core::Result<std::int64_t> RaiseExternal(Alarm a, core::Timestamp now, Emissions& out);
  // Clears the open alarm of (org, point, rule) (kNotFound when none is active).
  core::Status ClearExternal(core::OrgId org, std::string_view point, std::string_view rule,
                             core::Timestamp now, Emissions& out);
  std::int64_t next_alarm_id() const;

  const MonitorRulebook& rulebook() const { return book_; }

 private:
  struct Impl;
  const MonitorRulebook& book_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::monitor

#pragma once
// MonitorService: live monitoring of one installation (every organization). It owns the
// monitor::Engine and ties it to the world:
//
//   sources (MQTT subscriber, HTTP batch route, CSV replay)
//      │ Submit(): decoded readings, resolved to points; into a bounded queue
//      ▼         (producers wait up to their deadline: back-pressure, never a silent drop)
//   engine thread ── Engine::Ingest / Tick ──► emissions
//      │  1. actions first: power-lock and broadcast commands go to the Actuator at once
//      │     (never waiting on the store or the evidence log), the instant recorded;
//      │  2. readings into the BlockSealer; events to the EventHub (SSE);
//      ▼  3. emissions handed to the persist thread
//   persist thread ── store (alarms, notifications outbox, sealed blocks) with their facts
//      │  ("alarm.raised", "alarm.acknowledged", "alarm.escalated", "alarm.cleared",
//      │   "alarm.closed", "action.executed" (with sent_at), "readings.sealed"), evidence
//      │  sync;
//   stop-work thread (fed by the engine thread directly, never waiting on the alarm
//      │  facts) ── red-alarm stop-work: PermitService::Suspend of every active permit in
//      │  the zone and bound to the point (its "permit.suspended" fact names the alarm;
//      ▼  the instant it is durable is in LastActionTimings())
//   notifier thread ── delivers the outbox to webhooks (libcurl), retries with back-off
//
// Early warning (docs/adr/0013-early-warning.md): with a predictor set (SetPredictor), every
// accepted reading of a point that has a red threshold (monitor::Engine::RedThreshold) is
// also folded into the point's forecast on the engine thread; when the model's warning
// policy turns a warning on, a predicted alarm (rule "predict.red_crossing" of
// data/rules/predict/rules.json, rule_kind "predicted") is raised through
// Engine::RaiseExternal — the same SOP, actions, facts and stream as every other alarm — and
// cleared when the policy turns it off. Not while the point already has an active red
// alarm: the event itself is in charge then.
//
// Conditions for threshold profiles come from the permits (Refresh(), called every
// second by the server): an active 动火 permit in a zone sets "hot_work_active" on the
// zone's points, an active 受限空间 permit "confined_space_entry", etc.
//
// Thread-safety: every public method may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/evidence/evidence.h"
#include "wg/ingest/decode.h"
#include "wg/monitor/blocks.h"
#include "wg/monitor/engine.h"
#include "wg/monitor/model.h"
#include "wg/monitor/rulebook.h"
#include "wg/predict/model.h"
#include "wg/predict/model_file.h"
#include "wg/store/store.h"

namespace wg::permit {
class PermitService;
struct Permit;
}  // namespace wg::permit

namespace wg::live {

// A command to the actuator side (a PLC gateway or relay listening on MQTT).
struct Command {
  std::string org_code, site, zone;
  std::string kind;      // "power-lock" / "broadcast"
  std::string payload;   // JSON (docs/formats/mqtt-topics.md#commands)
  std::int64_t alarm_id = 0;
};

class Actuator {
 public:
  virtual ~Actuator() = default;
  // Must not block on anything slower than a socket write.
  virtual core::Status Send(const Command& command) = 0;
};

// One event of the live stream (SSE): type "reading" | "alarm" | "permit" | "status".
struct StreamEvent {
  core::OrgId org;
  std::string site;
  std::string type;
  std::string data;  // JSON
  std::int64_t id = 0;  // increasing per service (assigned by EventHub::Publish)
  std::string key;      // coalescing key of "reading" events (the point id) and "position"
                        // events ("tag:<id>"); "" = none
};

// Subscribers of the live stream. Each has a bounded queue: readings and positions are
// coalesced (the latest per point / tag) and, when the subscriber falls behind, the oldest
// readings dropped
// (counted); alarm and permit events are never dropped — a subscriber that lets
// `max_events` of them pile up is disconnected (it reconnects and reloads).
class EventHub {
 public:
  struct Subscription;
  explicit EventHub(std::size_t max_subscribers = 256, std::size_t max_events = 4096);
  // kResourceExhausted past max_subscribers. `site` "" = every site of the organization.
  core::Result<std::shared_ptr<Subscription>> Subscribe(core::OrgId org, const std::string& site);
  void Unsubscribe(const std::shared_ptr<Subscription>& s);
  // Waits up to `timeout` for events; returns them (empty on timeout). `closed` is set
  // when the hub dropped the subscriber or is shutting down.
  std::vector<StreamEvent> Next(Subscription& s, core::Duration timeout, bool* closed);
  void Publish(StreamEvent e);
  void Close();  // wakes and closes every subscriber
  std::size_t subscribers() const;
  std::uint64_t dropped() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Counters for /metrics and GET /api/v1/monitor/status.
struct IngestStats {
  std::uint64_t received = 0;   // readings submitted
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> rejected;  // reason -> count (decode reasons,
                                                  // "unknown_point", "wrong_unit",
                                                  // engine verdicts "duplicate", ...)
  std::uint64_t dropped = 0;    // readings lost: queue full past a producer's deadline
                                // (raises a yellow "ingest.queue_drop" alarm)
  std::uint64_t queue_depth = 0;
  std::uint64_t queue_capacity = 0;
  std::map<std::string, std::uint64_t> alarms_raised;  // level -> count
  std::uint64_t open_alarms = 0;
  std::uint64_t actions_sent = 0;
  std::uint64_t actions_failed = 0;
  std::uint64_t blocks_sealed = 0;
  std::uint64_t notifications_pending = 0;
  std::int64_t broker_dropped = -1;
  std::uint64_t broker_drop_alarms = 0;  // "ingest.broker_drop" alarms raised
  std::uint64_t persist_errors = 0;      // store/evidence writes that failed (logged)
  std::uint64_t stream_dropped = 0;      // EventHub::dropped()
  // Latency of readings from Submit to the end of engine processing, microseconds:
  // cumulative histogram with bucket upper bounds kLatencyBucketsUs.
  std::vector<std::uint64_t> latency_buckets;
  std::uint64_t latency_count = 0;
  double latency_sum_us = 0;
  // Early warning (zero without a predictor).
  std::uint64_t predict_readings = 0;          // readings folded into forecasts
  std::uint64_t predict_warnings_raised = 0;   // predicted alarms raised or re-activated
  std::uint64_t predict_warnings_cleared = 0;
  std::uint64_t predict_suppressed = 0;        // warnings not raised: the point's red alarm
                                               // was active, or the lead below min_lead_s
  double predict_ns_per_reading = 0;           // Update + WarningTracker, mean so far
};

// The predicted-alarm rule (data/rules/predict/rules.json, docs/formats/predict-rules.md).
inline constexpr std::string_view kPredictRulesFormat = "workguard-predict-rules/1";
inline constexpr std::string_view kPredictRuleId = "predict.red_crossing";
struct PredictRule {
  std::string id = std::string(kPredictRuleId);
  std::string clause;
  monitor::Level level = monitor::Level::kYellow;  // blue or yellow (never red: a
                                                   // prediction is not the event)
  double min_lead_s = 0;   // predictions with a shorter estimated time to crossing are
                           // not raised (0: all)
  std::string message_zh;  // placeholders {point} {value} {unit} {threshold} {minutes} {p}
  std::string message_en;  // {model} {horizon_minutes}
};
// Strict: unknown members, another format, unknown rule ids or placeholders, a missing
// "predict.red_crossing" are kInvalidArgument naming the member ("rules[0].level").
core::Result<PredictRule> ParsePredictRules(std::string_view text);
core::Result<PredictRule> EmbeddedPredictRule();
// The embedded rules file ("rules.json", text), for installing into DATA/rules/predict/.
std::vector<std::pair<std::string, std::string>> EmbeddedPredictRuleFiles();
inline constexpr double kLatencyBucketsUs[] = {50, 100, 250, 500, 1000, 2500, 5000,
                                               10000, 25000, 100000, 1000000};

struct MonitorOptions {
  std::size_t queue_capacity = 1 << 18;  // readings
  monitor::EngineOptions engine;
  core::Duration seal_grace = core::Duration::Seconds(5);
  std::vector<std::string> webhooks;     // URLs receiving every notification (POST JSON)
  int notify_max_attempts = 8;
  bool start_threads = true;  // false: tests drive Pump()/PersistPending() by hand
  std::optional<PredictRule> predict_rule;  // nullopt: the embedded rules
};

// A query over alarms.
struct AlarmQuery {
  std::vector<std::string> states;  // empty: any
  std::string site, point;
  std::optional<monitor::Level> min_level;
  std::int64_t before_id = 0;
  int limit = 100;
};

// Readings of a point in [from, to): the samples, and for each sealed block its digest and
// the seq of the "readings.sealed" fact that holds it (the proof).
struct ReadingsAnswer {
  std::string point;
  std::vector<monitor::Sample> samples;
  struct BlockRef {
    core::Timestamp minute;
    int part = 0;
    std::int64_t count = 0;
    std::string sm3_hex;
    std::int64_t fact_seq = -1;
  };
  std::vector<BlockRef> blocks;
  std::int64_t unsealed = 0;  // samples not yet sealed (no proof yet)
};

struct Actor {
  std::string name;  // "user:<username>" / "cli:<user>" / "system:monitor"
  std::string role;  // domain role name
};

// When the consequences of one alarm happened (benchmarks, GET /api/v1/monitor/status).
// *_ns are std::chrono::steady_clock nanoseconds of this process (0: not (yet) happened);
// *_at the injected clock's time.
struct ActionTiming {
  std::int64_t alarm_id = 0;
  core::OrgId org;
  std::string level;
  std::int64_t submitted_ns = 0;        // Submit of the reading that raised/escalated it
  std::int64_t emitted_ns = 0;          // the engine emitted the actions
  std::int64_t commands_sent_ns = 0;    // the last power-lock/broadcast Send returned
  std::int64_t facts_durable_ns = 0;    // its alarm facts synced into the evidence log
  std::int64_t stopwork_durable_ns = 0; // the last "permit.suspended" fact durable
  core::Timestamp commands_sent_at, facts_durable_at, stopwork_durable_at;
  std::vector<std::string> commands;    // kinds sent ("power-lock", "broadcast")
  std::vector<std::string> suspended;   // permit numbers suspended for it
};

class MonitorService {
 public:
  // Store, evidence, rulebook and clock must outlive the service. `permits` may be null
  // (no stop-work, no conditions).
  MonitorService(store::Store& store, evidence::Evidence& evidence,
                 const monitor::MonitorRulebook& book, const core::Clock& clock,
                 permit::PermitService* permits, MonitorOptions options = {});
  ~MonitorService();  // Stop()
  MonitorService(const MonitorService&) = delete;
  MonitorService& operator=(const MonitorService&) = delete;

  // Loads points and open alarms from the store and starts the threads.
  core::Status Start();
  // Stops the sources' intake, drains the queue, seals every open block, persists and
  // joins. Idempotent.
  void Stop();
  void SetActuator(Actuator* actuator);  // not owned; may be null

  // --- intake (any thread) ---------------------------------------------------------------
  struct SubmitResult {
    std::size_t queued = 0;
    std::size_t rejected = 0;  // unknown point, wrong unit, site mismatch (counted)
    std::vector<ingest::Rejection> rejections;  // first 100
  };
  // Resolves each reading to a point of `org` (site "" = any site; otherwise the point
  // must be of that site) and queues it; waits up to `wait` for room in the queue. When
  // the deadline passes, kResourceExhausted and nothing of the batch is queued (the
  // readings are counted as dropped unless `count_drop_on_timeout` is false because the
  // caller reports the failure to its client, e.g. HTTP 503).
  core::Result<SubmitResult> Submit(core::OrgId org, const std::string& site,
                                    std::vector<ingest::RawReading> readings,
                                    core::Duration wait, bool count_drop_on_timeout = true);
  // For MQTT: org by code (cached); unknown organizations are rejected and counted.
  core::Result<SubmitResult> SubmitByCode(const std::string& org_code, const std::string& site,
                                          std::vector<ingest::RawReading> readings,
                                          core::Duration wait);
  // Counts rejections made before Submit (decode errors).
  void CountRejected(const std::vector<ingest::Rejection>& rejections);
  void SetBrokerDropped(std::int64_t n);  // from the broker's $SYS counter; an increase
                                          // raises a yellow "ingest.broker_drop" alarm

  // --- points (API / CLI) ----------------------------------------------------------------
  // Creates or replaces (compare-and-set on version; 0 = must not exist) with fact
  // "point.configured"; the engine picks it up at once.
  core::Result<monitor::PointConfig> PutPoint(core::OrgId org, monitor::PointConfig config,
                                              std::int64_t expected_version, const Actor& actor);
  core::Status DeletePoint(core::OrgId org, const std::string& id, const Actor& actor);
  core::Result<std::vector<monitor::PointConfig>> ListPoints(core::OrgId org);
  core::Result<monitor::PointConfig> GetPoint(core::OrgId org, const std::string& id);
  // Point status: last value/time, stale, conditions, active profiles.
  core::Result<core::Json> PointStatusJson(core::OrgId org, const std::string& id);

  // --- alarms ----------------------------------------------------------------------------
  core::Result<monitor::Alarm> Acknowledge(core::OrgId org, std::int64_t id,
                                           const std::string& note, const Actor& actor);
  core::Result<std::vector<monitor::Alarm>> ListAlarms(core::OrgId org, const AlarmQuery& q);
  core::Result<monitor::Alarm> GetAlarm(core::OrgId org, std::int64_t id);

  // Alarms raised by another engine (people on site; monitor::Engine::RaiseExternal):
  // actions dispatched at once (suspend_permit through the stop-work thread, broadcast to
  // the actuator), persisted with their facts and streamed like any alarm. Returns the id.
  core::Result<std::int64_t> RaiseExternal(monitor::Alarm alarm);
  // kNotFound when no such alarm is active.
  core::Status ClearExternal(core::OrgId org, const std::string& point, const std::string& rule);

  // --- early warning ---------------------------------------------------------------------
  // Sets the model (nullptr: prediction off). Every point's forecast state starts afresh;
  // predicted alarms still active are cleared (the model that raised them no longer
  // speaks). `info` describes it (name, kind, digest, evaluation) for PredictorInfo and the
  // alarms' evidence. kInvalidArgument for a model whose policy is not usable.
  core::Status SetPredictor(std::shared_ptr<const predict::Predictor> model,
                            predict::ModelInfo info);
  // The latest forecast of every point of `org` (site "" = every site) that has one:
  // {"model": {name, kind, digest, horizon_s} | null, "points": [{point, site, zone, kind,
  // unit, threshold {value, direction, warn, rule}, time, value, probability, tte_s (null:
  // never), at_horizon, explanation {trend_per_min, source_per_min, ventilation_per_h,
  // steady_state, level} (null: not estimated), warning {on, since, alarm}}] (by point id),
  // "zones": [{site, zone, max_probability, earliest_tte_s, points: [{point, probability,
  // tte_s}] (most probable first)}]}.
  core::Result<core::Json> Forecasts(core::OrgId org, const std::string& site);
  // {"enabled", "name", "kind", "digest", "created", "horizon_s", "policy", "evaluation",
  //  "rule": {id, clause, level, min_lead_s}, "points" (forecast states), "readings",
  //  "model_readings", "ns_per_reading" (mean for this model), "warnings_raised",
  //  "warnings_cleared", "suppressed"}; without a model {"enabled": false, "rule", and the
  //  counters}.
  core::Json PredictorInfo() const;

  // --- readings --------------------------------------------------------------------------
  core::Result<ReadingsAnswer> Readings(core::OrgId org, const std::string& point,
                                        core::Timestamp from, core::Timestamp to);

  // --- permits ---------------------------------------------------------------------------
  // Re-reads the open permits: conditions of the points, permit events for the stream.
  core::Status Refresh();
  // Why `p` may not resume yet, or nullopt: an alarm of its zone/points still active, or
  // (after an alarm that came within its break) no gas re-test recorded after the alarm
  // cleared. Installed as PermitService's resume guard.
  std::optional<std::string> ResumeBlocker(core::OrgId org, const permit::Permit& p);

  // --- observation -----------------------------------------------------------------------
  EventHub& events();
  IngestStats Stats() const;
  // Waits until everything submitted before the call is processed, persisted and synced
  // into the evidence log (tests, CLI replay). kUnavailable after `timeout`.
  core::Status Flush(core::Duration timeout = core::Duration::Seconds(30));
  // Test hooks when options.start_threads is false.
  void Pump();            // process the queue and run Tick on the calling thread
  core::Status PersistPending();
  // One round of webhook delivery (the notifier thread calls it every second); returns
  // how many notifications were attempted.
  core::Result<int> DeliverDueNotifications();
  // Timings of the latest alarms that had actions (newest last, at most 1000 kept).
  std::vector<ActionTiming> LastActionTimings() const;

  const monitor::MonitorRulebook& rulebook() const;

 private:
  // A yellow alarm on the synthetic point `point` ("ingest.broker", "ingest.queue") for
  // every organization with points: input was lost.
  void RaiseIngestAlarm(const std::string& point, const std::string& rule, std::int64_t lost,
                        const std::string& message_en, const std::string& message_zh);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::live

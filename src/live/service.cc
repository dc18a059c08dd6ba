// MonitorService: intake queue -> engine thread (actions first) -> persist thread (alarms,
// notifications, sealed blocks and their facts, evidence sync) and stop-work thread
// (PermitService::Suspend); notifier thread for webhooks. See service.h and
// docs/adr/0011-live-monitoring-pipeline.md.
#include "wg/live/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "internal.h"
#include "wg/evidence/fact.h"
#include "wg/permit/model.h"
#include "wg/permit/service.h"

namespace wg::live {

using core::Duration;
using core::Json;
using core::Result;
using core::Status;
using core::Timestamp;
using internal::Canonical;
using internal::MinuteOf;
using internal::StringList;
using internal::SteadyNs;

namespace {

constexpr const char* kSystemActor = "system:monitor";
constexpr std::size_t kMaxTimings = 1000;
constexpr Duration kTickEvery = Duration{100'000};  // 100 ms of engine time
constexpr std::int64_t kReadingEventEveryNs = 500'000'000;
// The synthetic point of "ingest.broker_drop" alarms: notified and escalated like any
// alarm, but it stands for no place, so it never locks power or stops work.
constexpr const char* kBrokerPoint = "ingest.broker";
constexpr const char* kQueuePoint = "ingest.queue";
constexpr std::string_view kIngestPointPrefix = "ingest.";

std::string AlarmSubject(std::int64_t id) { return "alarm:" + std::to_string(id); }

bool ZoneCovers(const std::string& point_zone, const std::string& permit_zone) {
  // A point without a zone watches the whole site.
  return point_zone.empty() || point_zone == permit_zone;
}

}  // namespace

struct MonitorService::Impl {
  Impl(store::Store& s, evidence::Evidence& e, const monitor::MonitorRulebook& b,
       const core::Clock& c, permit::PermitService* p, MonitorOptions o)
      : store(s), ev(e), book(b), clock(c), permits(p), opt(std::move(o)),
        engine(b, opt.engine), sealer(opt.seal_grace) {
    latency.assign(std::size(kLatencyBucketsUs) + 1, 0);
  }

  store::Store& store;
  evidence::Evidence& ev;
  const monitor::MonitorRulebook& book;
  const core::Clock& clock;
  permit::PermitService* permits;
  MonitorOptions opt;
  EventHub hub;
  std::atomic<Actuator*> actuator{nullptr};

  // --- point directory (readers: producers; writers: PutPoint/Start) ---
  struct PointInfo {
    monitor::PointIndex index = 0;
    core::OrgId org;
    std::string org_code, id, site, zone, unit;
    std::vector<std::string> permits;
    bool enabled = true;
    monitor::BlockSealer::SeriesId series = 0;  // the point's series in `sealer`
  };
  mutable std::shared_mutex dir_mu;
  std::map<std::pair<std::int64_t, std::string>, PointInfo> points;  // (org, id)
  std::vector<PointInfo> by_index;

  // --- organizations ---
  std::mutex org_mu;
  std::map<std::string, core::OrgId> org_by_code;
  std::map<std::int64_t, std::string> code_by_org;

  // --- intake ---
  struct Item {
    monitor::PointIndex index = 0;
    Timestamp time;
    double value = 0;
    std::int64_t submitted_ns = 0;
  };
  mutable std::mutex q_mu;
  std::condition_variable q_not_empty, q_not_full, q_processed;
  std::deque<Item> queue;
  std::uint64_t enqueued = 0, processed = 0;
  bool stopping = false;

  // --- engine (engine thread; API reads under the mutex) ---
  mutable std::mutex engine_mu;
  monitor::Engine engine;
  monitor::BlockSealer sealer;
  Timestamp last_tick;
  std::map<monitor::PointIndex, std::vector<std::string>> conditions;
  std::vector<std::int64_t> last_reading_event_ns;

  // --- persistence ---
  struct SentAction {
    monitor::Action action;
    std::string kind, topic;
    Timestamp sent_at;
    std::int64_t sent_ns = 0;
    Status status;
    bool no_actuator = false;
  };
  struct PersistItem {
    std::uint64_t gen = 0;
    monitor::Emissions em;
    std::vector<SentAction> sent;
    std::vector<monitor::SealedBlock> blocks;
  };
  std::mutex persist_mu;
  std::condition_variable persist_cv, persist_done_cv;
  std::deque<PersistItem> persist_q;
  std::uint64_t persist_pushed = 0, persist_done = 0;
  std::mutex persist_run_mu;  // one persister at a time (thread or PersistPending)

  struct StopJob {
    std::uint64_t gen = 0;
    monitor::Action action;
    std::optional<monitor::Alarm> alarm;
  };
  std::mutex stop_mu;
  std::condition_variable stop_cv, stop_done_cv;
  std::deque<StopJob> stop_q;
  std::uint64_t stop_pushed = 0, stop_done = 0;

  // --- stats ---
  mutable std::mutex stats_mu;
  std::uint64_t received = 0, accepted = 0, dropped = 0;
  std::map<std::string, std::uint64_t> rejected;
  std::map<std::string, std::uint64_t> raised;
  std::uint64_t actions_sent = 0, actions_failed = 0, blocks_sealed = 0, persist_errors = 0;
  std::uint64_t broker_drop_alarms = 0;
  std::vector<std::uint64_t> latency;  // per bucket (last = overflow), not cumulative
  std::uint64_t latency_count = 0;
  double latency_sum_us = 0;
  std::atomic<std::int64_t> broker_dropped{-1};

  mutable std::mutex timings_mu;
  std::deque<ActionTiming> timings;

  // --- permits seen by Refresh ---
  std::mutex refresh_mu;
  std::map<std::pair<std::int64_t, std::int64_t>, std::string> permit_states;  // (org,id)

  // --- threads ---
  bool started = false;
  std::atomic<bool> threads{false};
  std::mutex life_mu;
  std::thread engine_thread, persist_thread, stop_thread, notifier_thread;
  std::mutex notify_mu;
  std::condition_variable notify_cv;
  bool notify_stop = false;
  std::atomic<bool> persist_stop{false};

  // ======================================================================================
  void CountReject(const std::string& reason, std::uint64_t n = 1) {
    std::lock_guard lock(stats_mu);
    rejected[reason] += n;
  }

  void AddTiming(ActionTiming t) {
    std::lock_guard lock(timings_mu);
    for (auto it = timings.rbegin(); it != timings.rend(); ++it) {
      if (it->alarm_id == t.alarm_id && it->org == t.org) return;
    }
    timings.push_back(std::move(t));
    while (timings.size() > kMaxTimings) timings.pop_front();
  }
  template <typename F>
  void UpdateTiming(core::OrgId org, std::int64_t alarm_id, F&& f) {
    std::lock_guard lock(timings_mu);
    for (auto it = timings.rbegin(); it != timings.rend(); ++it) {
      if (it->alarm_id == alarm_id && it->org == org) {
        f(*it);
        return;
      }
    }
  }

  Result<std::string> OrgCode(core::OrgId org) {
    {
      std::lock_guard lock(org_mu);
      auto it = code_by_org.find(org.value);
      if (it != code_by_org.end()) return it->second;
    }
    WG_ASSIGN_OR_RETURN(domain::Organization o, store.GetOrganization(org));
    std::lock_guard lock(org_mu);
    code_by_org[org.value] = o.code;
    org_by_code[o.code] = o.id;
    return o.code;
  }

  // --- points -------------------------------------------------------------------------
  static Json PointDocument(const monitor::PointConfig& c) {
    Json j = monitor::ToJson(c);
    if (j.is_object()) {
      j.erase("version");
      j.erase("org");
    }
    return j;
  }

  Result<monitor::PointConfig> FromRow(const store::PointRow& row) {
    WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(row.document));
    if (doc.is_object()) {
      doc.erase("version");
      doc.erase("org");
    }
    auto p = monitor::ParsePoint(book, row.org_id, doc);
    if (!p.ok()) {
      return Status::Corruption("stored point " + row.id + " does not parse: " +
                                p.error().ToString());
    }
    p->org = row.org_id;
    p->version = row.version;
    return p;
  }

  // Caller holds engine_mu.
  Status InstallPoint(const monitor::PointConfig& c) {
    WG_ASSIGN_OR_RETURN(monitor::PointIndex idx, engine.UpsertPoint(c, clock.Now()));
    WG_ASSIGN_OR_RETURN(std::string code, OrgCode(c.org));
    PointInfo info;
    info.index = idx;
    info.org = c.org;
    info.org_code = code;
    info.id = c.id;
    info.site = c.site;
    info.zone = c.zone;
    info.unit = c.unit;
    info.permits = c.permits;
    info.enabled = c.enabled;
    info.series = sealer.Series(c.org, c.site, c.id);
    std::unique_lock lock(dir_mu);
    points[{c.org.value, c.id}] = info;
    if (by_index.size() <= idx) by_index.resize(idx + 1);
    by_index[idx] = info;
    if (last_reading_event_ns.size() <= idx) last_reading_event_ns.resize(idx + 1, 0);
    return Status::Ok();
  }

  // --- engine side ----------------------------------------------------------------------
  std::string CommandPayload(const monitor::Action& a, const std::string& org_code) {
    Json j = {{"command", a.kind == monitor::ActionKind::kPowerLock ? "lock" : "evacuate"},
              {"alarm", a.alarm_id},
              {"level", std::string(monitor::LevelName(a.level))},
              {"org", org_code},
              {"site", a.site},
              {"zone", a.zone},
              {"point", a.point},
              {"reason", a.reason},
              {"issued_at", core::FormatTimestamp(clock.Now())}};
    return core::DumpJson(j);
  }

  std::optional<monitor::Alarm> FindAlarm(const monitor::Emissions& em, std::int64_t id) {
    for (auto it = em.events.rbegin(); it != em.events.rend(); ++it) {
      if (it->alarm.id == id) return it->alarm;
    }
    return engine.GetOpenAlarm(id);
  }

  // Caller holds engine_mu. Sends the power-lock/broadcast commands of actions
  // [from, end) at once; queues stop-work.
  void DispatchActions(const monitor::Emissions& em, std::size_t from,
                       std::vector<SentAction>& sent, std::int64_t submitted_ns) {
    const std::int64_t emitted_ns = SteadyNs();
    for (std::size_t i = from; i < em.actions.size(); ++i) {
      const monitor::Action& a = em.actions[i];
      if (a.point.rfind(kIngestPointPrefix, 0) == 0) continue;  // ingest alarms: people act
      if (a.kind == monitor::ActionKind::kPowerLock || a.kind == monitor::ActionKind::kBroadcast) {
        SentAction s;
        s.action = a;
        s.kind = a.kind == monitor::ActionKind::kPowerLock ? "power-lock" : "broadcast";
        std::string code;
        {
          std::shared_lock lock(dir_mu);
          auto it = points.find({a.org.value, a.point});
          if (it != points.end()) code = it->second.org_code;
        }
        if (code.empty()) {
          auto c = OrgCode(a.org);
          if (c.ok()) code = *c;
        }
        Command cmd;
        cmd.org_code = code;
        cmd.site = a.site;
        cmd.zone = a.zone;
        cmd.kind = s.kind;
        cmd.alarm_id = a.alarm_id;
        cmd.payload = CommandPayload(a, code);
        Actuator* act = actuator.load();
        if (act == nullptr) {
          s.no_actuator = true;
          s.status = Status::Unavailable("no actuator configured");
        } else {
          s.status = act->Send(cmd);
        }
        s.sent_at = clock.Now();
        s.sent_ns = SteadyNs();
        {
          std::lock_guard lock(stats_mu);
          if (s.status.ok()) {
            ++actions_sent;
          } else {
            ++actions_failed;
          }
        }
        AddTiming(ActionTiming{.alarm_id = a.alarm_id,
                               .org = a.org,
                               .level = std::string(monitor::LevelName(a.level)),
                               .submitted_ns = submitted_ns,
                               .emitted_ns = emitted_ns});
        UpdateTiming(a.org, a.alarm_id, [&](ActionTiming& t) {
          t.commands_sent_ns = s.sent_ns;
          t.commands_sent_at = s.sent_at;
          t.commands.push_back(s.kind);
        });
        if (s.no_actuator) {
          spdlog::warn("monitor: {} command for alarm {} not sent: no actuator (MQTT) configured",
                       s.kind, a.alarm_id);
        } else if (!s.status.ok()) {
          spdlog::error("monitor: {} command for alarm {} failed: {}", s.kind, a.alarm_id,
                        s.status.ToString());
        }
        sent.push_back(std::move(s));
      } else if (a.kind == monitor::ActionKind::kSuspendPermits) {
        AddTiming(ActionTiming{.alarm_id = a.alarm_id,
                               .org = a.org,
                               .level = std::string(monitor::LevelName(a.level)),
                               .submitted_ns = submitted_ns,
                               .emitted_ns = emitted_ns});
        if (permits != nullptr) {
          StopJob job;
          job.action = a;
          job.alarm = FindAlarm(em, a.alarm_id);
          std::lock_guard lock(stop_mu);
          job.gen = ++stop_pushed;
          stop_q.push_back(std::move(job));
          stop_cv.notify_one();
        }
      }
    }
  }

  // Caller holds engine_mu: publishes alarm events to the stream and hands the
  // emissions to the persister.
  std::uint64_t Hand(monitor::Emissions& em, std::vector<SentAction>& sent,
                     std::vector<monitor::SealedBlock> blocks) {
    if (em.empty() && sent.empty() && blocks.empty()) {
      std::lock_guard lock(persist_mu);
      return persist_pushed;
    }
    for (const auto& e : em.events) {
      if (e.kind == monitor::EventKind::kRaised) {
        std::lock_guard lock(stats_mu);
        ++raised[std::string(monitor::LevelName(e.alarm.level))];
      }
      StreamEvent se;
      se.org = e.alarm.org;
      se.site = e.alarm.site;
      se.type = "alarm";
      se.data = core::DumpJson(Json{{"event", std::string(monitor::EventKindName(e.kind))},
                                    {"alarm", monitor::ToJson(e.alarm)}});
      hub.Publish(std::move(se));
    }
    PersistItem item;
    item.em = std::move(em);
    item.sent = std::move(sent);
    item.blocks = std::move(blocks);
    em.clear();
    sent.clear();
    std::lock_guard lock(persist_mu);
    item.gen = ++persist_pushed;
    persist_q.push_back(std::move(item));
    persist_cv.notify_one();
    return persist_pushed;
  }

  // Caller holds engine_mu.
  void TickLocked(Timestamp now, bool force, monitor::Emissions& em,
                  std::vector<SentAction>& sent, std::vector<monitor::SealedBlock>& blocks) {
    if (!force && now - last_tick < kTickEvery) return;
    last_tick = now;
    const std::size_t from = em.actions.size();
    engine.Tick(now, em);
    if (em.actions.size() > from) DispatchActions(em, from, sent, 0);
    auto due = sealer.SealDue(now);
    for (auto& b : due) blocks.push_back(std::move(b));
  }

  void ProcessBatch(std::vector<Item>& batch, bool force_tick) {
    monitor::Emissions em;
    std::vector<SentAction> sent;
    std::vector<monitor::SealedBlock> blocks;
    std::array<std::uint64_t, 8> verdicts{};
    {
      std::lock_guard lock(engine_mu);
      const Timestamp now = clock.Now();
      const bool stream = hub.subscribers() > 0;
      {
        std::shared_lock dl(dir_mu);
        for (const Item& it : batch) {
          const std::size_t before = em.actions.size();
          const monitor::IngestVerdict v = engine.Ingest(it.index, it.time, it.value, now, em);
          verdicts[static_cast<std::size_t>(v) & 7]++;
          if (v == monitor::IngestVerdict::kAccepted && it.index < by_index.size()) {
            const PointInfo& info = by_index[it.index];
            sealer.Append(info.series, it.time, it.value);
            if (stream && it.index < last_reading_event_ns.size()) {
              const std::int64_t t = SteadyNs();
              if (t - last_reading_event_ns[it.index] >= kReadingEventEveryNs) {
                last_reading_event_ns[it.index] = t;
                StreamEvent se;
                se.org = info.org;
                se.site = info.site;
                se.type = "reading";
                se.key = info.id;
                se.data = core::DumpJson(Json{{"point", info.id},
                                              {"t", core::FormatTimestamp(it.time)},
                                              {"v", it.value},
                                              {"u", info.unit}});
                hub.Publish(std::move(se));
              }
            }
          }
          if (em.actions.size() > before) {
            dl.unlock();
            DispatchActions(em, before, sent, it.submitted_ns);
            dl.lock();
          }
        }
      }
      TickLocked(now, force_tick, em, sent, blocks);
      Hand(em, sent, std::move(blocks));
    }
    // Stats.
    const std::int64_t done_ns = SteadyNs();
    std::vector<std::uint64_t> hist(latency.size(), 0);
    double sum = 0;
    for (const Item& it : batch) {
      const double us = static_cast<double>(done_ns - it.submitted_ns) / 1000.0;
      sum += us;
      std::size_t b = 0;
      while (b < std::size(kLatencyBucketsUs) && us > kLatencyBucketsUs[b]) ++b;
      ++hist[b];
    }
    std::lock_guard lock(stats_mu);
    for (std::size_t i = 0; i < hist.size(); ++i) latency[i] += hist[i];
    latency_count += batch.size();
    latency_sum_us += sum;
    for (std::size_t v = 0; v < verdicts.size(); ++v) {
      if (verdicts[v] == 0) continue;
      const auto verdict = static_cast<monitor::IngestVerdict>(v);
      if (verdict == monitor::IngestVerdict::kAccepted) {
        accepted += verdicts[v];
      } else {
        rejected[std::string(monitor::IngestVerdictName(verdict))] += verdicts[v];
      }
    }
  }

  // Takes up to `max` items; returns them (may be empty).
  std::vector<Item> Take(std::size_t max) {
    std::vector<Item> out;
    const std::size_t n = std::min(max, queue.size());
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(queue.front());
      queue.pop_front();
    }
    return out;
  }

  void EngineLoop() {
    for (;;) {
      std::vector<Item> batch;
      bool stop = false;
      {
        std::unique_lock lock(q_mu);
        if (queue.empty() && !stopping) {
          q_not_empty.wait_for(lock, std::chrono::milliseconds(100),
                               [&] { return !queue.empty() || stopping; });
        }
        batch = Take(4096);
        stop = stopping && queue.empty();
        if (!batch.empty()) q_not_full.notify_all();
      }
      ProcessBatch(batch, false);
      {
        std::lock_guard lock(q_mu);
        processed += batch.size();
      }
      q_processed.notify_all();
      if (stop) break;
    }
    // Shutdown: seal every open block.
    std::lock_guard lock(engine_mu);
    monitor::Emissions em;
    std::vector<SentAction> sent;
    Hand(em, sent, sealer.SealAll());
  }

  // --- persistence ----------------------------------------------------------------------
  store::FactDraft AlarmFact(const monitor::AlarmEvent& e) {
    const monitor::Alarm& a = e.alarm;
    Json p = {{"alarm", a.id},
              {"event", std::string(monitor::EventKindName(e.kind))},
              {"point", a.point},
              {"kind", a.kind},
              {"zone", a.zone},
              {"rule", a.rule},
              {"clause", a.clause},
              {"rule_kind", a.rule_kind},
              {"level", std::string(monitor::LevelName(a.level))},
              {"state", std::string(monitor::AlarmStateName(a.state))},
              {"profiles", StringList(a.profiles)},
              {"value", internal::NumberText(a.value)},
              {"threshold", internal::NumberText(a.threshold)},
              {"unit", a.unit},
              {"raised_at", core::FormatTimestamp(a.raised_at)},
              {"at", core::FormatTimestamp(e.at)},
              {"actor", e.actor.empty() ? std::string(kSystemActor) : e.actor}};
    if (e.from_level) p["from_level"] = std::string(monitor::LevelName(*e.from_level));
    if (e.kind == monitor::EventKind::kAcknowledged && !a.ack_note.empty()) p["note"] = a.ack_note;
    if (!a.permits.empty()) p["permits"] = StringList(a.permits);
    auto body = Canonical(p);
    return store::FactDraft{.kind = "alarm." + std::string(monitor::EventKindName(e.kind)),
                            .actor = e.actor.empty() ? std::string(kSystemActor) : e.actor,
                            .subject = AlarmSubject(a.id),
                            .site = a.site,
                            .payload = body.ok() ? *body : "{}"};
  }

  store::FactDraft ActionFact(const SentAction& s) {
    Json p = {{"alarm", s.action.alarm_id},
              {"kind", std::string(monitor::ActionKindName(s.action.kind))},
              {"command", s.kind},
              {"zone", s.action.zone},
              {"point", s.action.point},
              {"level", std::string(monitor::LevelName(s.action.level))},
              {"emitted_at", core::FormatTimestamp(s.action.at)},
              {"sent_at", core::FormatTimestamp(s.sent_at)},
              {"outcome", s.status.ok() ? "sent" : (s.no_actuator ? "no_actuator" : "failed")}};
    if (!s.status.ok()) p["error"] = s.status.ToString();
    auto body = Canonical(p);
    return store::FactDraft{.kind = "action.executed",
                            .actor = kSystemActor,
                            .subject = AlarmSubject(s.action.alarm_id),
                            .site = s.action.site,
                            .payload = body.ok() ? *body : "{}"};
  }

  void Notifications(const monitor::Action& a, const std::optional<monitor::Alarm>& alarm,
                     std::vector<store::NotificationRow>& out) {
    Json p = {{"alarm", a.alarm_id},
              {"level", std::string(monitor::LevelName(a.level))},
              {"site", a.site},
              {"zone", a.zone},
              {"point", a.point},
              {"roles", StringList(a.roles)},
              {"reason", a.reason},
              {"at", core::FormatTimestamp(a.at)}};
    if (auto code = OrgCode(a.org); code.ok()) p["org"] = *code;
    if (alarm) {
      p["rule"] = alarm->rule;
      p["clause"] = alarm->clause;
      p["value"] = alarm->value;
      p["unit"] = alarm->unit;
      p["state"] = std::string(monitor::AlarmStateName(alarm->state));
      p["message_zh"] = alarm->message_zh;
      p["message_en"] = alarm->message_en;
    }
    const std::string body = core::DumpJson(p);
    const Timestamp now = clock.Now();
    auto row = [&](const std::string& channel, const std::string& target) {
      store::NotificationRow r;
      r.org_id = a.org;
      r.channel = channel;
      r.target = target;
      r.subject = AlarmSubject(a.alarm_id);
      r.payload = body;
      r.created_at = now;
      r.next_attempt_at = now;
      out.push_back(std::move(r));
    };
    for (const auto& role : a.roles) row("outbox", role);
    for (const auto& url : opt.webhooks) row("webhook", url);
  }

  // A store busy past its timeout (another process writing) is retried a few times
  // before the write is given up and counted.
  template <typename F>
  static Status Retry(F&& f) {
    Status s;
    for (int attempt = 0; attempt < 5; ++attempt) {
      s = f();
      if (s.code() != core::StatusCode::kUnavailable) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
    }
    return s;
  }

  void CountPersistError(const Status& s, const char* what) {
    spdlog::error("monitor: persisting {} failed: {}", what, s.ToString());
    std::lock_guard lock(stats_mu);
    ++persist_errors;
  }

  void PersistItemNow(PersistItem& item) {
    struct OrgWork {
      std::map<std::int64_t, store::AlarmRow> rows;
      std::vector<store::NotificationRow> notes;
      store::FactDrafts facts;
      std::vector<std::int64_t> alarm_ids;
    };
    std::map<std::int64_t, OrgWork> work;
    for (const auto& e : item.em.events) {
      const monitor::Alarm& a = e.alarm;
      OrgWork& w = work[a.org.value];
      store::AlarmRow row;
      row.id = a.id;
      row.org_id = a.org;
      row.site = a.site;
      row.point = a.point;
      row.rule = a.rule;
      row.level = static_cast<int>(a.level);
      row.state = std::string(monitor::AlarmStateName(a.state));
      row.raised_at = a.raised_at;
      row.updated_at = e.at;
      row.document = core::DumpJson(monitor::ToJson(a));
      w.rows[a.id] = std::move(row);  // the latest state of the alarm wins
      w.facts.push_back(AlarmFact(e));
      w.alarm_ids.push_back(a.id);
    }
    for (const auto& s : item.sent) {
      OrgWork& w = work[s.action.org.value];
      w.facts.push_back(ActionFact(s));
    }
    for (const auto& a : item.em.actions) {
      if (a.kind != monitor::ActionKind::kNotify) continue;
      std::optional<monitor::Alarm> alarm;
      for (const auto& e : item.em.events) {
        if (e.alarm.id == a.alarm_id) alarm = e.alarm;
      }
      Notifications(a, alarm, work[a.org.value].notes);
    }
    std::set<std::int64_t> touched;
    for (auto& [org, w] : work) {
      std::vector<store::AlarmRow> rows;
      for (auto& [id, r] : w.rows) rows.push_back(std::move(r));
      Status s = Retry([&] { return store.RecordAlarms(rows, w.notes, core::OrgId{org}, w.facts); });
      if (!s.ok()) {
        CountPersistError(s, "alarms");
        continue;
      }
      touched.insert(org);
    }
    // Sealed blocks: one fact per organization + site per round, <= 500 blocks each.
    std::map<std::int64_t, std::vector<store::ReadingBlockRow>> blocks_by_org;
    for (const auto& b : item.blocks) {
      store::ReadingBlockRow r;
      r.org_id = b.org;
      r.point = b.point;
      r.site = b.site;
      r.minute = b.minute;
      r.part = b.part;
      r.first = b.first;
      r.last = b.last;
      r.count = b.count;
      r.min = b.min;
      r.max = b.max;
      r.data = b.data;
      r.sm3_hex = b.sm3_hex;
      blocks_by_org[b.org.value].push_back(std::move(r));
    }
    for (auto& [org, rows] : blocks_by_org) {
      Status s = Retry([&] { return AppendBlocks(core::OrgId{org}, rows); });
      if (s.code() == core::StatusCode::kAlreadyExists) {
        // A minute sealed before a restart got more readings: continue its part numbers.
        RenumberParts(core::OrgId{org}, rows);
        s = Retry([&] { return AppendBlocks(core::OrgId{org}, rows); });
      }
      if (!s.ok()) {
        CountPersistError(s, "reading blocks");
        continue;
      }
      {
        std::lock_guard lock(stats_mu);
        blocks_sealed += rows.size();
      }
      touched.insert(org);
    }
    for (std::int64_t org : touched) {
      Status s = ev.SyncAfterWrite(core::OrgId{org});
      if (!s.ok()) CountPersistError(s, "evidence sync");
    }
    const std::int64_t ns = SteadyNs();
    const Timestamp at = clock.Now();
    for (auto& [org, w] : work) {
      if (!touched.count(org)) continue;
      for (std::int64_t id : w.alarm_ids) {
        UpdateTiming(core::OrgId{org}, id, [&](ActionTiming& t) {
          if (t.facts_durable_ns == 0) {
            t.facts_durable_ns = ns;
            t.facts_durable_at = at;
          }
        });
      }
    }
  }

  // One AppendReadingBlocks with a "readings.sealed" fact per site and <= 500 blocks.
  Status AppendBlocks(core::OrgId org, std::vector<store::ReadingBlockRow>& rows) {
    std::vector<int> fact_index;
    WG_ASSIGN_OR_RETURN(
        store::FactDrafts facts,
        internal::SealedBlockFacts(rows, fact_index, "readings.sealed", "readings", kSystemActor, "point",
                                   [](const store::ReadingBlockRow& b) { return b.point; }));
    return store.AppendReadingBlocks(org, rows, fact_index, facts);
  }

  void RenumberParts(core::OrgId org, std::vector<store::ReadingBlockRow>& rows) {
    internal::RenumberSealedParts(
        rows, [](const store::ReadingBlockRow& r) -> const std::string& { return r.point; },
        [&](const std::string& series, Timestamp minute) {
          return store.ReadingBlocks(org, series, minute, minute + Duration::Seconds(60), 10000);
        });
  }

  // Drains the persist queue on the calling thread.
  void DrainPersist() {
    std::lock_guard run(persist_run_mu);
    for (;;) {
      PersistItem item;
      {
        std::lock_guard lock(persist_mu);
        if (persist_q.empty()) return;
        item = std::move(persist_q.front());
        persist_q.pop_front();
      }
      PersistItemNow(item);
      {
        std::lock_guard lock(persist_mu);
        persist_done = std::max(persist_done, item.gen);
      }
      persist_done_cv.notify_all();
      if (!item.em.actions.empty()) {
        std::lock_guard lock(notify_mu);
        notify_cv.notify_one();
      }
    }
  }

  void PersistLoop() {
    for (;;) {
      {
        std::unique_lock lock(persist_mu);
        persist_cv.wait(lock, [&] { return !persist_q.empty() || persist_stop.load(); });
        if (persist_q.empty() && persist_stop.load()) return;
      }
      DrainPersist();
    }
  }

  // --- stop-work -----------------------------------------------------------------------
  void RunStopJob(const StopJob& job) {
    const monitor::Action& a = job.action;
    std::vector<std::int64_t> ids;
    std::vector<std::string> numbers;
    auto add = [&](std::int64_t id, const std::string& number) {
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
        ids.push_back(id);
        numbers.push_back(number);
      }
    };
    store::PermitFilter f;
    f.states = {"active"};
    f.site = a.site;
    // An alarm about one permit (people on site) stops that permit only.
    auto rows = a.permits_only ? Result<std::vector<store::PermitRow>>(std::vector<store::PermitRow>{})
                               : store.ListPermits(a.org, f, 0, 1000);
    if (!rows.ok()) {
      CountPersistError(rows.error(), "stop-work permit lookup");
    } else {
      for (const auto& r : *rows) {
        auto p = permit::ParsePermitText(r.document, true);
        if (!p.ok()) continue;
        if (ZoneCovers(a.zone, p->location.zone)) add(r.id, r.number);
      }
    }
    std::vector<std::string> bound = a.permits;
    {
      std::shared_lock lock(dir_mu);
      auto it = points.find({a.org.value, a.point});
      if (it != points.end()) {
        for (const auto& n : it->second.permits) bound.push_back(n);
      }
    }
    for (const auto& number : bound) {
      auto p = permits->GetByNumber(a.org, number);
      if (p.ok() && p->state == permit::State::kActive) add(p->id, p->number);
    }
    std::string reason = "alarm:" + std::to_string(a.alarm_id);
    if (job.alarm) {
      reason += " " + job.alarm->rule + " " + internal::NumberText(job.alarm->value) + " " +
                job.alarm->unit;
    } else if (!a.reason.empty()) {
      reason += " " + a.reason;
    }
    if (reason.size() > 2000) reason.resize(2000);
    permit::Actor actor{.name = kSystemActor};
    std::vector<std::string> suspended;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto out = permits->Suspend(a.org, ids[i], reason, actor);
      if (!out.ok()) {
        if (out.error().code() != core::StatusCode::kFailedPrecondition) {
          CountPersistError(out.error(), "stop-work");
        }
        continue;
      }
      if (!out->applied) continue;
      const std::int64_t ns = SteadyNs();
      const Timestamp at = clock.Now();
      suspended.push_back(numbers[i]);
      UpdateTiming(a.org, a.alarm_id, [&](ActionTiming& t) {
        t.stopwork_durable_ns = ns;
        t.stopwork_durable_at = at;
        t.suspended.push_back(numbers[i]);
      });
      StreamEvent se;
      se.org = a.org;
      se.site = out->permit.site;
      se.type = "permit";
      se.data = core::DumpJson(Json{{"number", out->permit.number},
                                    {"id", out->permit.id},
                                    {"state", std::string(permit::StateCode(out->permit.state))},
                                    {"zone", out->permit.location.zone},
                                    {"reason", reason}});
      hub.Publish(std::move(se));
    }
    // The action itself, after the stop-work facts (which never wait on it).
    Json p = {{"alarm", a.alarm_id},
              {"kind", "suspend_permits"},
              {"zone", a.zone},
              {"point", a.point},
              {"level", std::string(monitor::LevelName(a.level))},
              {"emitted_at", core::FormatTimestamp(a.at)},
              {"suspended", StringList(suspended)},
              {"outcome", "done"}};
    auto body = Canonical(p);
    Status s = store.AppendFacts(a.org, {store::FactDraft{.kind = "action.executed",
                                                          .actor = kSystemActor,
                                                          .subject = AlarmSubject(a.alarm_id),
                                                          .site = a.site,
                                                          .payload = body.ok() ? *body : "{}"}});
    if (s.ok()) s = ev.SyncAfterWrite(a.org);
    if (!s.ok()) CountPersistError(s, "stop-work fact");
  }

  void DrainStop() {
    for (;;) {
      StopJob job;
      {
        std::lock_guard lock(stop_mu);
        if (stop_q.empty()) return;
        job = std::move(stop_q.front());
        stop_q.pop_front();
      }
      RunStopJob(job);
      {
        std::lock_guard lock(stop_mu);
        stop_done = std::max(stop_done, job.gen);
      }
      stop_done_cv.notify_all();
    }
  }

  void StopLoop() {
    for (;;) {
      {
        std::unique_lock lock(stop_mu);
        stop_cv.wait(lock, [&] { return !stop_q.empty() || persist_stop.load(); });
        if (stop_q.empty() && persist_stop.load()) return;
      }
      DrainStop();
    }
  }

  // --- notifier ------------------------------------------------------------------------
  Result<int> DeliverDue() {
    const Timestamp now = clock.Now();
    WG_ASSIGN_OR_RETURN(auto due, store.DueNotifications(now, opt.notify_max_attempts, 100));
    int n = 0;
    for (const auto& row : due) {
      if (row.channel != "webhook") continue;
      ++n;
      Status sent = internal::PostJson(row.target, row.payload);
      const Timestamp at = clock.Now();
      Status marked = sent.ok()
                          ? store.MarkNotification(row.id, true, at, at, "")
                          : store.MarkNotification(row.id, false, at,
                                                   at + internal::RetryDelay(row.attempts),
                                                   sent.ToString());
      if (!marked.ok()) CountPersistError(marked, "notification state");
    }
    return n;
  }

  void NotifierLoop() {
    for (;;) {
      {
        std::unique_lock lock(notify_mu);
        notify_cv.wait_for(lock, std::chrono::milliseconds(1000), [&] { return notify_stop; });
        if (notify_stop) return;
      }
      if (opt.webhooks.empty()) continue;
      auto n = DeliverDue();
      if (!n.ok()) spdlog::warn("monitor: webhook delivery: {}", n.error().ToString());
    }
  }

  // --- waiting --------------------------------------------------------------------------
  bool WaitPersisted(std::uint64_t gen, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(persist_mu);
    return persist_done_cv.wait_until(lock, deadline, [&] { return persist_done >= gen; });
  }
  bool WaitStopped(std::uint64_t gen, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(stop_mu);
    return stop_done_cv.wait_until(lock, deadline, [&] { return stop_done >= gen; });
  }

  // --- alarms for the resume guard ---------------------------------------------------------
  std::vector<monitor::Alarm> AlarmsOfPoints(core::OrgId org, const std::set<std::string>& pts,
                                             std::optional<Timestamp> since) {
    std::map<std::int64_t, monitor::Alarm> out;
    for (const auto& point : pts) {
      store::AlarmFilter f;
      f.point = point;
      if (since) f.from = *since;
      std::int64_t before = 0;
      for (int page = 0; page < 10; ++page) {
        auto rows = store.ListAlarms(org, f, before, 1000);
        if (!rows.ok() || rows->empty()) break;
        for (const auto& r : *rows) {
          auto doc = core::ParseJson(r.document);
          if (!doc.ok()) continue;
          auto a = monitor::AlarmFromJson(*doc);
          if (a.ok()) out[a->id] = std::move(*a);
          before = r.id;
        }
        if (rows->size() < 1000) break;
      }
      // Alarms not (all) sent to the store also count: the store only adds.
      f.from.reset();
      auto open = store.ListAlarms(org, store::AlarmFilter{.states = {"active_unacked", "active_acked", "cleared_unacked"}, .point = point}, 0, 1000);
      if (open.ok()) {
        for (const auto& r : *open) {
          auto doc = core::ParseJson(r.document);
          if (!doc.ok()) continue;
          auto a = monitor::AlarmFromJson(*doc);
          if (a.ok() && !out.count(a->id)) out[a->id] = std::move(*a);
        }
      }
    }
    {
      std::lock_guard lock(engine_mu);
      for (auto& a : engine.OpenAlarms(org)) {
        if (pts.count(a.point)) out[a.id] = std::move(a);
      }
    }
    std::vector<monitor::Alarm> v;
    for (auto& [id, a] : out) v.push_back(std::move(a));
    return v;
  }
};

// ========================================================================================

MonitorService::MonitorService(store::Store& store, evidence::Evidence& evidence,
                               const monitor::MonitorRulebook& book, const core::Clock& clock,
                               permit::PermitService* permits, MonitorOptions options)
    : impl_(std::make_unique<Impl>(store, evidence, book, clock, permits, std::move(options))) {
  if (permits != nullptr) {
    permits->SetResumeGuard(
        [this](core::OrgId org, const permit::Permit& p) { return ResumeBlocker(org, p); });
  }
}

MonitorService::~MonitorService() {
  Stop();
  if (impl_->permits != nullptr) impl_->permits->SetResumeGuard(nullptr);
}

const monitor::MonitorRulebook& MonitorService::rulebook() const { return impl_->book; }
EventHub& MonitorService::events() { return impl_->hub; }
void MonitorService::SetActuator(Actuator* actuator) { impl_->actuator.store(actuator); }

Status MonitorService::Start() {
  Impl& m = *impl_;
  std::lock_guard life(m.life_mu);
  if (m.started) return Status::Ok();
  WG_ASSIGN_OR_RETURN(auto orgs, m.store.ListOrganizations());
  {
    std::lock_guard lock(m.org_mu);
    for (const auto& o : orgs) {
      m.org_by_code[o.code] = o.id;
      m.code_by_org[o.id.value] = o.code;
    }
  }
  std::vector<store::PointRow> rows;
  WG_RETURN_IF_ERROR(m.store.ScanPoints([&](const store::PointRow& r) {
    rows.push_back(r);
    return true;
  }));
  WG_ASSIGN_OR_RETURN(auto open_rows, m.store.OpenAlarms());
  WG_ASSIGN_OR_RETURN(std::int64_t max_id, m.store.MaxAlarmId());
  std::vector<monitor::Alarm> open;
  for (const auto& r : open_rows) {
    WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(r.document));
    auto a = monitor::AlarmFromJson(doc);
    if (!a.ok()) {
      return Status::Corruption("stored alarm " + std::to_string(r.id) +
                                " does not parse: " + a.error().ToString());
    }
    open.push_back(std::move(*a));
  }
  {
    std::lock_guard lock(m.engine_mu);
    for (const auto& r : rows) {
      auto p = m.FromRow(r);
      if (!p.ok()) {
        spdlog::error("monitor: skipping point {}: {}", r.id, p.error().ToString());
        continue;
      }
      if (Status s = m.InstallPoint(*p); !s.ok()) {
        spdlog::error("monitor: skipping point {}: {}", r.id, s.ToString());
      }
    }
    WG_RETURN_IF_ERROR(m.engine.Restore(open, std::max(max_id + 1, m.engine.next_alarm_id())));
    m.last_tick = m.clock.Now();
  }
  if (m.permits != nullptr) {
    if (Status s = Refresh(); !s.ok()) spdlog::warn("monitor: refresh: {}", s.ToString());
  }
  {
    std::lock_guard lock(m.q_mu);
    m.stopping = false;
  }
  m.persist_stop = false;
  m.notify_stop = false;
  m.started = true;
  if (m.opt.start_threads) {
    m.threads = true;
    m.engine_thread = std::thread([&m] { m.EngineLoop(); });
    m.persist_thread = std::thread([&m] { m.PersistLoop(); });
    m.stop_thread = std::thread([&m] { m.StopLoop(); });
    m.notifier_thread = std::thread([&m] { m.NotifierLoop(); });
  }
  return Status::Ok();
}

void MonitorService::Stop() {
  Impl& m = *impl_;
  std::lock_guard life(m.life_mu);
  if (!m.started) return;
  if (m.threads) {
    {
      std::lock_guard lock(m.q_mu);
      m.stopping = true;
    }
    m.q_not_empty.notify_all();
    m.q_not_full.notify_all();
    m.engine_thread.join();
    {
      std::lock_guard lock(m.persist_mu);
      m.persist_stop = true;
    }
    m.persist_cv.notify_all();
    {
      std::lock_guard lock(m.stop_mu);
    }
    m.stop_cv.notify_all();
    m.persist_thread.join();
    m.stop_thread.join();
    {
      std::lock_guard lock(m.notify_mu);
      m.notify_stop = true;
    }
    m.notify_cv.notify_all();
    m.notifier_thread.join();
    m.threads = false;
  } else {
    {
      std::lock_guard lock(m.q_mu);
      m.stopping = true;
    }
    m.q_not_full.notify_all();
    Pump();
    {
      std::lock_guard lock(m.engine_mu);
      monitor::Emissions em;
      std::vector<Impl::SentAction> sent;
      m.Hand(em, sent, m.sealer.SealAll());
    }
    m.DrainPersist();
    m.DrainStop();
  }
  m.hub.Close();
  m.started = false;
}

// --- intake --------------------------------------------------------------------------------

Result<MonitorService::SubmitResult> MonitorService::Submit(
    core::OrgId org, const std::string& site, std::vector<ingest::RawReading> readings,
    Duration wait, bool count_drop_on_timeout) {
  Impl& m = *impl_;
  SubmitResult out;
  std::vector<Impl::Item> items;
  items.reserve(readings.size());
  std::map<std::string, std::uint64_t> reasons;
  const std::int64_t now_ns = SteadyNs();
  {
    std::shared_lock lock(m.dir_mu);
    for (auto& r : readings) {
      auto it = m.points.find({org.value, r.point});
      const char* reason = nullptr;
      std::string message;
      if (it == m.points.end()) {
        reason = "unknown_point";
        message = "no point " + r.point;
      } else if (!site.empty() && it->second.site != site) {
        reason = "site_mismatch";
        message = "point " + r.point + " is not of site " + site;
      } else if (!r.unit.empty() && r.unit != it->second.unit) {
        reason = "wrong_unit";
        message = "point " + r.point + " reports in " + it->second.unit + ", not " + r.unit;
      }
      if (reason != nullptr) {
        ++reasons[reason];
        ++out.rejected;
        if (out.rejections.size() < 100) {
          out.rejections.push_back(ingest::Rejection{reason, r.point, std::move(message)});
        }
        continue;
      }
      items.push_back(Impl::Item{it->second.index, r.time, r.value, now_ns});
    }
  }
  {
    std::lock_guard lock(m.stats_mu);
    m.received += readings.size();
    for (auto& [k, n] : reasons) m.rejected[k] += n;
  }
  if (items.empty()) return out;
  const std::size_t cap = std::max<std::size_t>(1, m.opt.queue_capacity);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(
                                                               std::max<std::int64_t>(0, wait.micros));
  {
    std::unique_lock lock(m.q_mu);
    auto room = [&] {
      return m.stopping || m.queue.size() + items.size() <= cap ||
             (m.queue.empty() && items.size() > cap);
    };
    if (m.stopping) return Status::Unavailable("the monitor is stopping");
    if (!room() && !m.q_not_full.wait_until(lock, deadline, room)) {
      lock.unlock();
      if (count_drop_on_timeout) {
        std::uint64_t total = 0;
        {
          std::lock_guard s(m.stats_mu);
          m.dropped += items.size();
          total = m.dropped;
        }
        RaiseIngestAlarm(kQueuePoint, "ingest.queue_drop",
                         static_cast<std::int64_t>(items.size()),
                         "the monitoring intake queue was full: " + std::to_string(items.size()) +
                             " readings dropped (total " + std::to_string(total) + ")",
                         "监测接入队列已满，丢弃 " + std::to_string(items.size()) + " 条读数");
      }
      return Status::ResourceExhausted("the monitoring intake queue is full (" +
                                       std::to_string(cap) + " readings)");
    }
    if (m.stopping) return Status::Unavailable("the monitor is stopping");
    for (auto& it : items) m.queue.push_back(it);
    m.enqueued += items.size();
    out.queued = items.size();
  }
  m.q_not_empty.notify_one();
  return out;
}

Result<MonitorService::SubmitResult> MonitorService::SubmitByCode(
    const std::string& org_code, const std::string& site, std::vector<ingest::RawReading> readings,
    Duration wait) {
  Impl& m = *impl_;
  std::optional<core::OrgId> org;
  {
    std::lock_guard lock(m.org_mu);
    auto it = m.org_by_code.find(org_code);
    if (it != m.org_by_code.end()) org = it->second;
  }
  if (!org) {
    auto o = m.store.FindOrganizationByCode(org_code);
    if (o.ok()) {
      std::lock_guard lock(m.org_mu);
      m.org_by_code[o->code] = o->id;
      m.code_by_org[o->id.value] = o->code;
      org = o->id;
    }
  }
  if (!org) {
    SubmitResult out;
    out.rejected = readings.size();
    out.rejections.push_back(
        ingest::Rejection{"unknown_org", "topic", "no organization " + org_code});
    std::lock_guard lock(m.stats_mu);
    m.received += readings.size();
    m.rejected["unknown_org"] += readings.size();
    return out;
  }
  return Submit(*org, site, std::move(readings), wait);
}

void MonitorService::CountRejected(const std::vector<ingest::Rejection>& rejections) {
  if (rejections.empty()) return;
  std::lock_guard lock(impl_->stats_mu);
  for (const auto& r : rejections) ++impl_->rejected[r.reason.empty() ? "bad" : r.reason];
}

void MonitorService::SetBrokerDropped(std::int64_t n) {
  Impl& m = *impl_;
  const std::int64_t before = m.broker_dropped.exchange(n);
  if (before < 0 || n <= before) return;
  RaiseIngestAlarm(kBrokerPoint, "ingest.broker_drop", n - before,
                   "the MQTT broker dropped " + std::to_string(n - before) + " messages (total " +
                       std::to_string(n) + ")",
                   "MQTT 代理丢弃了 " + std::to_string(n - before) + " 条消息");
}

// Lost input is itself an alarm: a yellow alarm for every organization with points (their
// readings may be among the lost), persisted with its fact like any other, de-duplicated
// per (point, rule) while open. People act on it: no lock, broadcast or stop-work.
void MonitorService::RaiseIngestAlarm(const std::string& point, const std::string& rule,
                                      std::int64_t lost, const std::string& message_en,
                                      const std::string& message_zh) {
  Impl& m = *impl_;
  std::map<std::int64_t, std::string> orgs;  // org -> the site named in its alarm
  {
    std::shared_lock lock(m.dir_mu);
    for (const auto& [key, info] : m.points) {
      auto& site = orgs[key.first];
      if (site.empty() || info.site < site) site = info.site;
    }
  }
  const Timestamp now = m.clock.Now();
  monitor::Emissions em;
  std::vector<Impl::SentAction> sent;
  std::lock_guard lock(m.engine_mu);
  for (const auto& [org, site] : orgs) {
    monitor::Alarm a;
    a.org = core::OrgId{org};
    a.site = site;
    a.point = point;
    a.kind = "ingest";
    a.unit = point == kBrokerPoint ? "messages" : "readings";
    a.rule = rule;
    a.clause = "installation default";
    a.rule_kind = "range";
    a.level = monitor::Level::kYellow;
    a.raised_level = monitor::Level::kYellow;
    a.state = monitor::AlarmState::kActiveUnacked;
    a.value = static_cast<double>(lost);
    a.peak = a.value;
    a.threshold = 0;
    a.raised_at = now;
    a.reading_time = now;
    a.ack_deadline = now + Duration::Seconds(m.book.Sop(monitor::Level::kYellow).ack_within_s);
    a.message_en = message_en;
    a.message_zh = message_zh;
    bool open_already = false;
    for (const auto& o : m.engine.OpenAlarms(a.org)) {
      open_already = open_already || (o.point == a.point && o.rule == a.rule);
    }
    if (open_already) continue;
    a.id = m.engine.next_alarm_id();
    if (Status s = m.engine.Restore({a}, a.id + 1); !s.ok()) {
      spdlog::error("monitor: ingest alarm: {}", s.ToString());
      continue;
    }
    monitor::AlarmEvent e;
    e.kind = monitor::EventKind::kRaised;
    e.alarm = a;
    e.at = now;
    e.actor = kSystemActor;
    em.events.push_back(std::move(e));
    std::lock_guard s(m.stats_mu);
    ++m.broker_drop_alarms;
  }
  m.Hand(em, sent, {});
}

// --- points --------------------------------------------------------------------------------

Result<monitor::PointConfig> MonitorService::PutPoint(core::OrgId org, monitor::PointConfig config,
                                                      std::int64_t expected_version,
                                                      const Actor& actor) {
  Impl& m = *impl_;
  config.org = org;
  Json doc = Impl::PointDocument(config);
  // Strict validation by the same parser the store's rows go through.
  WG_ASSIGN_OR_RETURN(monitor::PointConfig checked, monitor::ParsePoint(m.book, org, doc));
  checked.org = org;
  // The place and the permits must exist in the caller's organization.
  WG_ASSIGN_OR_RETURN(auto sites, m.store.ListSites(org));
  if (std::none_of(sites.begin(), sites.end(),
                   [&](const domain::Site& s) { return s.code == checked.site; })) {
    return Status::InvalidArgument("no site '" + checked.site + "' in this organization", "site");
  }
  for (std::size_t i = 0; i < checked.permits.size(); ++i) {
    auto found = m.store.FindPermitByNumber(org, checked.permits[i]);
    if (!found.ok()) {
      if (found.error().code() != core::StatusCode::kNotFound) return found.error();
      return Status::InvalidArgument("no permit '" + checked.permits[i] + "' in this organization",
                                     "permits[" + std::to_string(i) + "]");
    }
  }
  auto body = Canonical(doc);
  if (!body.ok()) return body.error();
  store::PointRow row;
  row.org_id = org;
  row.id = checked.id;
  row.site = checked.site;
  row.kind = checked.kind;
  row.document = core::DumpJson(doc);
  store::FactDrafts facts = {store::FactDraft{.kind = "point.configured",
                                              .actor = actor.name,
                                              .subject = "point:" + checked.id,
                                              .site = checked.site,
                                              .payload = *body}};
  WG_ASSIGN_OR_RETURN(store::PointRow saved, m.store.PutPoint(row, expected_version, facts));
  checked.version = saved.version;
  {
    std::lock_guard lock(m.engine_mu);
    WG_RETURN_IF_ERROR(m.InstallPoint(checked));
  }
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  if (m.permits != nullptr) {
    if (Status s = Refresh(); !s.ok()) spdlog::warn("monitor: refresh: {}", s.ToString());
  }
  return checked;
}

Status MonitorService::DeletePoint(core::OrgId org, const std::string& id, const Actor& actor) {
  Impl& m = *impl_;
  WG_ASSIGN_OR_RETURN(store::PointRow row, m.store.GetPoint(org, id));
  auto body = Canonical(Json{{"id", id}, {"site", row.site}});
  if (!body.ok()) return body.error();
  WG_RETURN_IF_ERROR(m.store.DeletePoint(
      org, id,
      {store::FactDraft{.kind = "point.deleted", .actor = actor.name, .subject = "point:" + id,
                        .site = row.site, .payload = *body}}));
  {
    std::lock_guard lock(m.engine_mu);
    (void)m.engine.RemovePoint(org, id);
    std::unique_lock dl(m.dir_mu);
    auto it = m.points.find({org.value, id});
    if (it != m.points.end()) {
      if (it->second.index < m.by_index.size()) m.by_index[it->second.index].enabled = false;
      m.points.erase(it);
    }
  }
  return m.ev.SyncAfterWrite(org);
}

Result<std::vector<monitor::PointConfig>> MonitorService::ListPoints(core::OrgId org) {
  WG_ASSIGN_OR_RETURN(auto rows, impl_->store.ListPoints(org));
  std::vector<monitor::PointConfig> out;
  for (const auto& r : rows) {
    WG_ASSIGN_OR_RETURN(monitor::PointConfig p, impl_->FromRow(r));
    out.push_back(std::move(p));
  }
  return out;
}

Result<monitor::PointConfig> MonitorService::GetPoint(core::OrgId org, const std::string& id) {
  WG_ASSIGN_OR_RETURN(store::PointRow row, impl_->store.GetPoint(org, id));
  return impl_->FromRow(row);
}

Result<Json> MonitorService::PointStatusJson(core::OrgId org, const std::string& id) {
  Impl& m = *impl_;
  std::lock_guard lock(m.engine_mu);
  auto idx = m.engine.Find(org, id);
  if (!idx) return Status::NotFound("no point " + id, "point");
  monitor::PointStatus st = m.engine.Status(*idx);
  Json j = {{"point", id},
            {"stale", st.stale},
            {"conditions", StringList(st.conditions)},
            {"profiles", StringList(st.profiles)}};
  if (st.config != nullptr) j["config"] = monitor::ToJson(*st.config);
  if (st.last_time) {
    j["last_time"] = core::FormatTimestamp(*st.last_time);
    j["last_value"] = st.last_value;
  } else {
    j["last_time"] = nullptr;
    j["last_value"] = nullptr;
  }
  Json alarms = Json::array();
  for (const auto& a : m.engine.OpenAlarms(org)) {
    if (a.point == id) alarms.push_back(monitor::ToJson(a));
  }
  j["open_alarms"] = std::move(alarms);
  return j;
}

// --- alarms --------------------------------------------------------------------------------

Result<monitor::Alarm> MonitorService::Acknowledge(core::OrgId org, std::int64_t id,
                                                   const std::string& note, const Actor& actor) {
  Impl& m = *impl_;
  if (note.size() > 2000) return Status::InvalidArgument("at most 2000 characters", "note");
  std::uint64_t gen = 0;
  monitor::Alarm out;
  {
    std::lock_guard lock(m.engine_mu);
    monitor::Emissions em;
    std::vector<Impl::SentAction> sent;
    WG_ASSIGN_OR_RETURN(out, m.engine.Acknowledge(org, id, actor.name, actor.role, note,
                                                  m.clock.Now(), em));
    if (!em.actions.empty()) m.DispatchActions(em, 0, sent, 0);
    gen = m.Hand(em, sent, {});
  }
  // The acknowledgement is a fact: durable before the caller hears it took.
  if (m.threads) {
    if (!m.WaitPersisted(gen, std::chrono::steady_clock::now() + std::chrono::seconds(10))) {
      return Status::Unavailable("the acknowledgement is accepted but not yet recorded");
    }
  } else {
    m.DrainPersist();
  }
  return out;
}

Result<std::int64_t> MonitorService::RaiseExternal(monitor::Alarm alarm) {
  Impl& m = *impl_;
  std::lock_guard lock(m.engine_mu);
  monitor::Emissions em;
  std::vector<Impl::SentAction> sent;
  WG_ASSIGN_OR_RETURN(std::int64_t id, m.engine.RaiseExternal(std::move(alarm), m.clock.Now(), em));
  if (!em.actions.empty()) m.DispatchActions(em, 0, sent, 0);
  m.Hand(em, sent, {});
  return id;
}

Status MonitorService::ClearExternal(core::OrgId org, const std::string& point,
                                     const std::string& rule) {
  Impl& m = *impl_;
  std::lock_guard lock(m.engine_mu);
  monitor::Emissions em;
  std::vector<Impl::SentAction> sent;
  WG_RETURN_IF_ERROR(m.engine.ClearExternal(org, point, rule, m.clock.Now(), em));
  m.Hand(em, sent, {});
  return Status::Ok();
}

Result<std::vector<monitor::Alarm>> MonitorService::ListAlarms(core::OrgId org,
                                                               const AlarmQuery& q) {
  Impl& m = *impl_;
  store::AlarmFilter f;
  f.states = q.states;
  f.site = q.site;
  f.point = q.point;
  if (q.min_level) f.min_level = static_cast<int>(*q.min_level);
  WG_ASSIGN_OR_RETURN(auto rows, m.store.ListAlarms(org, f, q.before_id, std::clamp(q.limit, 1, 1000)));
  std::vector<monitor::Alarm> out;
  for (const auto& r : rows) {
    WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(r.document));
    WG_ASSIGN_OR_RETURN(monitor::Alarm a, monitor::AlarmFromJson(doc));
    out.push_back(std::move(a));
  }
  // The engine's state is fresher than the store's by a few milliseconds.
  std::lock_guard lock(m.engine_mu);
  for (auto& a : out) {
    if (auto live = m.engine.GetOpenAlarm(a.id); live && live->org == org) a = *live;
  }
  return out;
}

Result<monitor::Alarm> MonitorService::GetAlarm(core::OrgId org, std::int64_t id) {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.engine_mu);
    if (auto live = m.engine.GetOpenAlarm(id); live && live->org == org) return *live;
  }
  WG_ASSIGN_OR_RETURN(store::AlarmRow row, m.store.GetAlarm(org, id));
  WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(row.document));
  return monitor::AlarmFromJson(doc);
}

// --- readings ------------------------------------------------------------------------------

Result<ReadingsAnswer> MonitorService::Readings(core::OrgId org, const std::string& point,
                                                Timestamp from, Timestamp to) {
  Impl& m = *impl_;
  if (to.micros <= from.micros) return Status::InvalidArgument("must be after from", "to");
  ReadingsAnswer out;
  out.point = point;
  WG_ASSIGN_OR_RETURN(auto blocks, m.store.ReadingBlocks(org, point, MinuteOf(from), to, 10000));
  std::vector<monitor::Sample> pending;
  {
    std::lock_guard lock(m.engine_mu);
    pending = m.sealer.Pending(org, point, from, to);
  }
  WG_RETURN_IF_ERROR(internal::CollectSealed(
      blocks, from, to, [](const std::string& data) { return monitor::DecodeBlock(data); },
      [](const monitor::DecodedBlock& d) -> const std::vector<monitor::Sample>& {
        return d.samples;
      },
      std::move(pending), out.samples, out.blocks, out.unsealed));
  return out;
}

// --- permits -------------------------------------------------------------------------------

Status MonitorService::Refresh() {
  Impl& m = *impl_;
  std::lock_guard refresh(m.refresh_mu);
  std::vector<store::PermitRow> rows;
  WG_RETURN_IF_ERROR(m.store.ScanPermits({"approved", "active", "suspended"},
                                         [&](const store::PermitRow& r) {
                                           rows.push_back(r);
                                           return true;
                                         }));
  struct Open {
    core::OrgId org;
    std::string number, site, zone, state;
    permit::PermitType type = permit::PermitType::kHotWork;
    bool oxygen_enriched = false;
  };
  std::vector<Open> active;
  std::map<std::pair<std::int64_t, std::int64_t>, std::string> states;
  std::map<std::pair<std::int64_t, std::int64_t>, Open> seen;
  for (const auto& r : rows) {
    auto p = permit::ParsePermitText(r.document, true);
    if (!p.ok()) continue;
    Open o;
    o.org = r.org_id;
    o.number = r.number;
    o.site = r.site;
    o.zone = p->location.zone;
    o.state = r.state;
    o.type = p->type;
    o.oxygen_enriched = p->confined_space && p->confined_space->oxygen_enriched;
    states[{r.org_id.value, r.id}] = r.state;
    seen[{r.org_id.value, r.id}] = o;
    if (r.state == "active") active.push_back(std::move(o));
  }
  // Permit events for the stream: states changed since the last refresh.
  for (const auto& [key, state] : states) {
    auto it = m.permit_states.find(key);
    if (it != m.permit_states.end() && it->second == state) continue;
    const Open& o = seen[key];
    StreamEvent se;
    se.org = o.org;
    se.site = o.site;
    se.type = "permit";
    se.data = core::DumpJson(
        Json{{"id", key.second}, {"number", o.number}, {"state", state}, {"zone", o.zone}});
    m.hub.Publish(std::move(se));
  }
  for (const auto& [key, state] : m.permit_states) {
    if (states.count(key)) continue;
    auto row = m.store.GetPermit(core::OrgId{key.first}, key.second);
    StreamEvent se;
    se.org = core::OrgId{key.first};
    se.type = "permit";
    Json j = {{"id", key.second}, {"state", row.ok() ? row->state : std::string("closed")}};
    if (row.ok()) {
      se.site = row->site;
      j["number"] = row->number;
    }
    se.data = core::DumpJson(j);
    m.hub.Publish(std::move(se));
  }
  m.permit_states = std::move(states);

  // Conditions of every point.
  std::vector<std::pair<monitor::PointIndex, std::vector<std::string>>> want;
  {
    std::shared_lock lock(m.dir_mu);
    for (const auto& [key, info] : m.points) {
      std::set<std::string> c;
      for (const Open& o : active) {
        if (o.org != info.org || o.site != info.site) continue;
        const bool in_zone = ZoneCovers(info.zone, o.zone);
        const bool bound =
            std::find(info.permits.begin(), info.permits.end(), o.number) != info.permits.end();
        if (!in_zone && !bound) continue;
        c.insert("any_permit_active");
        if (o.type == permit::PermitType::kHotWork) c.insert("hot_work_active");
        if (o.type == permit::PermitType::kConfinedSpace) c.insert("confined_space_entry");
        if (o.oxygen_enriched) c.insert("oxygen_enriched");
      }
      want.emplace_back(info.index, std::vector<std::string>(c.begin(), c.end()));
    }
  }
  std::lock_guard lock(m.engine_mu);
  const Timestamp now = m.clock.Now();
  for (auto& [idx, conds] : want) {
    auto it = m.conditions.find(idx);
    if (it != m.conditions.end() && it->second == conds) continue;
    if (it == m.conditions.end() && conds.empty()) {
      m.conditions[idx] = conds;
      continue;
    }
    if (Status s = m.engine.SetPointConditions(idx, conds, now); !s.ok()) {
      spdlog::warn("monitor: conditions of point {}: {}", idx, s.ToString());
      continue;
    }
    m.conditions[idx] = std::move(conds);
  }
  return Status::Ok();
}

std::optional<std::string> MonitorService::ResumeBlocker(core::OrgId org, const permit::Permit& p) {
  Impl& m = *impl_;
  std::set<std::string> pts;
  {
    std::shared_lock lock(m.dir_mu);
    for (const auto& [key, info] : m.points) {
      if (info.org != org) continue;
      const bool in_zone = info.site == p.site && ZoneCovers(info.zone, p.location.zone);
      const bool bound =
          std::find(info.permits.begin(), info.permits.end(), p.number) != info.permits.end();
      if (in_zone || bound) pts.insert(info.id);
    }
  }
  if (pts.empty()) {
    // Not started (a CLI process): the configured points from the store.
    auto rows = m.store.ListPoints(org);
    if (rows.ok()) {
      for (const auto& r : *rows) {
        auto c = m.FromRow(r);
        if (!c.ok()) continue;
        const bool in_zone = c->site == p.site && ZoneCovers(c->zone, p.location.zone);
        const bool bound =
            std::find(c->permits.begin(), c->permits.end(), p.number) != c->permits.end();
        if (in_zone || bound) pts.insert(c->id);
      }
    }
  }
  if (pts.empty()) return std::nullopt;
  const std::optional<Timestamp> since =
      p.last_suspended_at ? std::optional<Timestamp>(*p.last_suspended_at - Duration::Seconds(60))
                          : std::nullopt;
  const std::vector<monitor::Alarm> alarms = m.AlarmsOfPoints(org, pts, since);
  auto active = [](const monitor::Alarm& a) {
    return a.state == monitor::AlarmState::kActiveUnacked ||
           a.state == monitor::AlarmState::kActiveAcked;
  };
  for (const auto& a : alarms) {
    if (active(a) && a.level >= monitor::Level::kYellow) {
      return "alarm " + std::to_string(a.id) + " (" + a.rule + ") on " + a.point +
             " is still active";
    }
  }
  if (!since) return std::nullopt;
  const monitor::Alarm* latest = nullptr;
  for (const auto& a : alarms) {
    if (a.raised_at.micros < since->micros) continue;
    if (active(a) || !a.cleared_at) {
      return "alarm " + std::to_string(a.id) + " (" + a.rule + ") on " + a.point +
             " is still active";
    }
    if (latest == nullptr || a.cleared_at->micros > latest->cleared_at->micros) latest = &a;
  }
  if (latest == nullptr) return std::nullopt;
  for (const auto& g : p.gas) {
    if (g.time.micros > latest->cleared_at->micros) return std::nullopt;
  }
  return "a gas re-test after alarm " + std::to_string(latest->id) + " cleared is required";
}

// --- observation ---------------------------------------------------------------------------

IngestStats MonitorService::Stats() const {
  const Impl& m = *impl_;
  IngestStats s;
  {
    std::lock_guard lock(m.stats_mu);
    s.received = m.received;
    s.accepted = m.accepted;
    s.rejected = m.rejected;
    s.dropped = m.dropped;
    s.alarms_raised = m.raised;
    s.actions_sent = m.actions_sent;
    s.actions_failed = m.actions_failed;
    s.blocks_sealed = m.blocks_sealed;
    s.persist_errors = m.persist_errors;
    s.broker_drop_alarms = m.broker_drop_alarms;
    std::uint64_t cum = 0;
    for (std::size_t i = 0; i < std::size(kLatencyBucketsUs); ++i) {
      cum += m.latency[i];
      s.latency_buckets.push_back(cum);
    }
    s.latency_count = m.latency_count;
    s.latency_sum_us = m.latency_sum_us;
  }
  {
    std::lock_guard lock(m.q_mu);
    s.queue_depth = m.queue.size();
  }
  s.queue_capacity = m.opt.queue_capacity;
  {
    std::lock_guard lock(m.engine_mu);
    s.open_alarms = m.engine.OpenAlarms().size();
  }
  if (auto n = m.store.CountPendingNotifications(); n.ok()) {
    s.notifications_pending = static_cast<std::uint64_t>(*n);
  }
  s.broker_dropped = m.broker_dropped.load();
  s.stream_dropped = m.hub.dropped();
  return s;
}

std::vector<ActionTiming> MonitorService::LastActionTimings() const {
  std::lock_guard lock(impl_->timings_mu);
  return {impl_->timings.begin(), impl_->timings.end()};
}

Status MonitorService::Flush(Duration timeout) {
  Impl& m = *impl_;
  if (!m.threads) {
    Pump();
    return PersistPending();
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.micros);
  {
    std::unique_lock lock(m.q_mu);
    const std::uint64_t target = m.enqueued;
    m.q_not_empty.notify_one();
    if (!m.q_processed.wait_until(lock, deadline, [&] { return m.processed >= target; })) {
      return Status::Unavailable("the monitor has not processed the readings in time");
    }
  }
  std::uint64_t gen, stop_gen;
  {
    std::lock_guard lock(m.persist_mu);
    gen = m.persist_pushed;
  }
  {
    std::lock_guard lock(m.stop_mu);
    stop_gen = m.stop_pushed;
  }
  if (!m.WaitPersisted(gen, deadline) || !m.WaitStopped(stop_gen, deadline)) {
    return Status::Unavailable("the monitor has not persisted the readings in time");
  }
  return Status::Ok();
}

void MonitorService::Pump() {
  Impl& m = *impl_;
  for (;;) {
    std::vector<Impl::Item> batch;
    {
      std::lock_guard lock(m.q_mu);
      batch = m.Take(4096);
    }
    m.q_not_full.notify_all();
    const bool last = batch.empty();
    m.ProcessBatch(batch, /*force_tick=*/last);
    {
      std::lock_guard lock(m.q_mu);
      m.processed += batch.size();
    }
    m.q_processed.notify_all();
    if (last) break;
  }
}

Status MonitorService::PersistPending() {
  Impl& m = *impl_;
  std::uint64_t errors_before;
  {
    std::lock_guard lock(m.stats_mu);
    errors_before = m.persist_errors;
  }
  m.DrainPersist();
  m.DrainStop();
  std::lock_guard lock(m.stats_mu);
  if (m.persist_errors != errors_before) {
    return Status::Internal("some monitor writes failed (see the log)");
  }
  return Status::Ok();
}

Result<int> MonitorService::DeliverDueNotifications() { return impl_->DeliverDue(); }

}  // namespace wg::live

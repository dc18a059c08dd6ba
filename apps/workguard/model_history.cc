// Retraining from history (model_history.h).
#include "model_history.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "wg/evidence/fact.h"
#include "wg/monitor/engine.h"
#include "wg/monitor/model.h"
#include "wg/monitor/rulebook.h"

namespace wg::cli {

namespace {

using core::Json;
using core::Result;
using core::Status;
using core::Timestamp;

constexpr double kMicros = 1e6;
constexpr int kAlarmPage = 1000;

double Seconds(Timestamp t) { return static_cast<double>(t.micros) / kMicros; }

// The red threshold of a point in its own unit, as the monitoring engine compiles it
// (the rulebook's red threshold rule of the kind, converted; else the point's own red
// limit).
Result<predict::Threshold> PointRed(monitor::Engine& engine, const monitor::PointConfig& p,
                                    Timestamp now) {
  auto idx = engine.UpsertPoint(p, now);
  if (!idx.ok()) return idx.error();
  auto red = engine.RedThreshold(*idx);
  if (!red) {
    return Status::NotFound("no red threshold (neither a red rule of kind '" + p.kind +
                            "' nor a red limit of the point)");
  }
  predict::Threshold t;
  t.value = red->value;
  t.high = red->high;
  t.warn = red->warn;
  return t;
}

bool IsIncident(const monitor::Alarm& a) {
  return a.raised_level == monitor::Level::kRed &&
         (a.rule_kind == "threshold_high" || a.rule_kind == "threshold_low");
}

bool IsPredicted(const monitor::Alarm& a) {
  return a.rule_kind == "predicted" || a.rule.rfind("predict", 0) == 0;
}

// Every alarm of `org` first raised before `to`, by point (an alarm raised long ago may
// have been re-activated inside the window).
Result<std::map<std::string, std::vector<monitor::Alarm>>> AlarmsByPoint(store::Store& st,
                                                                          core::OrgId org,
                                                                          Timestamp to) {
  std::map<std::string, std::vector<monitor::Alarm>> out;
  store::AlarmFilter f;
  f.to = to;
  std::int64_t before = 0;
  for (;;) {
    WG_ASSIGN_OR_RETURN(auto rows, st.ListAlarms(org, f, before, kAlarmPage));
    for (const auto& r : rows) {
      auto doc = core::ParseJson(r.document, {.max_bytes = 1 << 20, .max_depth = 32}, "alarm");
      if (!doc.ok()) return Status::Corruption("stored alarm " + std::to_string(r.id) + " is not JSON");
      auto a = monitor::AlarmFromJson(*doc);
      if (!a.ok()) {
        return Status::Corruption("stored alarm " + std::to_string(r.id) + ": " +
                                  a.error().ToString());
      }
      out[r.point].push_back(std::move(*a));
    }
    if (rows.size() < static_cast<std::size_t>(kAlarmPage)) break;
    before = rows.back().id;
  }
  for (auto& [point, list] : out) {
    std::sort(list.begin(), list.end(), [](const monitor::Alarm& x, const monitor::Alarm& y) {
      return x.reading_time < y.reading_time;
    });
  }
  return out;
}

// The confirmed incidents of `org` by point: every raise and reactivation of a red
// threshold alarm. An alarm that cleared without acknowledgement is re-activated (same id)
// by the next crossing, and its stored record keeps only the latest reading time, so the
// events come from the alarm facts ("alarm.raised" / "alarm.reactivated", engine time
// `at`), each moved to reading time by its alarm's offset between the stored record's
// reading time and the engine time of its latest raise (0 s for live data; the replay lag
// for replayed data).
Result<std::map<std::string, std::vector<double>>> IncidentsByPoint(
    store::Store& st, core::OrgId org,
    const std::map<std::string, std::vector<monitor::Alarm>>& alarms) {
  std::map<std::int64_t, const monitor::Alarm*> by_id;
  for (const auto& [point, list] : alarms) {
    for (const auto& a : list) {
      if (IsIncident(a)) by_id[a.id] = &a;
    }
  }
  struct Raise {
    std::int64_t alarm = 0;
    std::string point;
    double at = 0;
  };
  std::vector<Raise> raises;
  std::map<std::int64_t, double> latest_at;
  constexpr int kFactPage = 10'000;
  for (std::int64_t from_seq = 0;;) {
    WG_ASSIGN_OR_RETURN(auto facts, st.FactsOfKinds(org, {"alarm.raised", "alarm.reactivated"},
                                                    from_seq, kFactPage));
    for (const auto& f : facts) {
      auto p = core::ParseJson(f.payload, {.max_bytes = 1 << 20, .max_depth = 32}, "fact");
      if (!p.ok() || !p->is_object()) continue;
      const std::string rule_kind = p->value("rule_kind", "");
      if (p->value("level", "") != "red" ||
          (rule_kind != "threshold_high" && rule_kind != "threshold_low")) {
        continue;
      }
      const auto id = p->value("alarm", std::int64_t{0});
      auto at = core::ParseTimestamp(p->value("at", ""), "at");
      if (!at.ok()) continue;
      raises.push_back({id, p->value("point", ""), Seconds(*at)});
      latest_at[id] = Seconds(*at);
    }
    if (facts.size() < static_cast<std::size_t>(kFactPage)) break;
    from_seq = facts.back().seq + 1;
  }
  std::map<std::string, std::vector<double>> out;
  for (const Raise& r : raises) {
    auto it = by_id.find(r.alarm);
    if (it == by_id.end()) continue;  // outside the window read (or another point's)
    const double lag = Seconds(it->second->reading_time) - latest_at[r.alarm];
    out[r.point].push_back(r.at + lag);
  }
  for (auto& [point, list] : out) std::sort(list.begin(), list.end());
  return out;
}

std::string FormatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf, end);
}

}  // namespace

Json WithoutFloats(const Json& j) {
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v)) return Json();
    return FormatNumber(v);
  }
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = WithoutFloats(it.value());
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(WithoutFloats(e));
    return out;
  }
  return j;
}

Json HistoryDataset::Facts(const HistoryOptions& o) const {
  Json orgs_json = Json::array();
  std::size_t scenarios = 0, readings = 0, events = 0, predicted = 0, false_acked = 0;
  for (const auto& f : orgs) {
    Json skipped = Json::array();
    for (const auto& s : f.skipped) skipped.push_back(s);
    Json events_at = Json::array();
    for (const auto& [point, t] : f.event_times) {
      events_at.push_back(
          {{"point", point},
           {"at", core::FormatTimestamp(Timestamp{static_cast<std::int64_t>(std::llround(t * kMicros))})}});
    }
    orgs_json.push_back({{"org", f.code},
                         {"points", f.points},
                         {"scenarios", f.scenarios},
                         {"readings", f.readings},
                         {"events", f.events},
                         {"predicted_alarms", f.predicted_alarms},
                         {"acknowledged_false_alarms", f.acknowledged_false_alarms},
                         {"skipped_points", skipped},
                         {"events_at", events_at}});
    scenarios += f.scenarios;
    readings += f.readings;
    events += f.events;
    predicted += f.predicted_alarms;
    false_acked += f.acknowledged_false_alarms;
  }
  return {{"from", core::FormatTimestamp(o.from)},
          {"to", core::FormatTimestamp(o.to)},
          {"scenarios", scenarios},
          {"readings", readings},
          {"events", events},
          {"predicted_alarms", predicted},
          {"acknowledged_false_alarms", false_acked},
          {"organizations", orgs_json}};
}

Result<HistoryDataset> LoadHistory(server::Installation& inst, const HistoryOptions& o) {
  if (o.to <= o.from) return Status::InvalidArgument("must be after from", "to");
  const monitor::MonitorRulebook& book = inst.monitor_rulebook();
  HistoryDataset out;
  WG_ASSIGN_OR_RETURN(auto orgs, inst.store().ListOrganizations());
  const core::Duration margin = core::Duration::Days(1);
  for (const auto& org : orgs) {
    HistoryOrgFacts facts;
    facts.org = org.id;
    facts.code = org.code;
    WG_ASSIGN_OR_RETURN(auto points, inst.monitor().ListPoints(org.id));
    WG_ASSIGN_OR_RETURN(auto alarms, AlarmsByPoint(inst.store(), org.id, o.to + margin));
    WG_ASSIGN_OR_RETURN(auto incidents_by_point, IncidentsByPoint(inst.store(), org.id, alarms));
    monitor::Engine engine(book);
    for (const auto& p : points) {
      auto red = PointRed(engine, p, o.to);
      if (!red.ok()) {
        facts.skipped.push_back(p.id + ": " + red.error().message());
        continue;
      }
      // Incidents and predicted alarms of the point, by reading time.
      std::vector<double> incidents;
      if (auto it = incidents_by_point.find(p.id); it != incidents_by_point.end()) {
        for (double te : it->second) {
          if (te >= Seconds(o.from) && te < Seconds(o.to)) incidents.push_back(te);
        }
      }
      std::vector<const monitor::Alarm*> predicted;
      if (auto it = alarms.find(p.id); it != alarms.end()) {
        for (const auto& a : it->second) {
          if (a.reading_time < o.from || !(a.reading_time < o.to)) continue;
          if (IsPredicted(a)) predicted.push_back(&a);
        }
      }
      // The point's readings, one series per Shanghai calendar day.
      std::vector<std::pair<core::Date, predict::Series>> days;
      for (core::Date day = core::ShanghaiDate(o.from);; day = day.AddDays(1)) {
        const Timestamp day_start = core::ShanghaiStartOfDay(day);
        if (!(day_start < o.to)) break;
        const Timestamp lo = std::max(day_start, o.from);
        const Timestamp hi = std::min(core::ShanghaiStartOfDay(day.AddDays(1)), o.to);
        if (!(lo < hi)) continue;
        WG_ASSIGN_OR_RETURN(auto answer, inst.monitor().Readings(org.id, p.id, lo, hi));
        predict::Series s;
        s.point = p.id;
        s.kind = p.kind;
        s.red = *red;
        for (const auto& smp : answer.samples) {
          const double t = Seconds(smp.time);
          if (!std::isfinite(smp.value)) continue;
          if (!s.t.empty() && t <= s.t.back()) continue;  // duplicates: first one wins
          s.t.push_back(t);
          s.v.push_back(smp.value);
        }
        if (s.t.size() < o.min_readings) continue;
        days.emplace_back(day, std::move(s));
      }
      // Where the readings cross red (a reading past red after one inside): the reading
      // times the incidents belong to. When there are as many crossings as incidents, the
      // k-th incident is the k-th crossing (the engine sees a point's readings in order);
      // otherwise each incident snaps to the nearest crossing within 5 minutes.
      std::vector<double> crossings;
      bool inside = true;
      for (const auto& [day, s] : days) {
        for (std::size_t k = 0; k < s.t.size(); ++k) {
          const bool past = s.red.Crossed(s.v[k]);
          if (past && inside) crossings.push_back(s.t[k]);
          inside = !past;
        }
      }
      if (!incidents.empty() && crossings.size() == incidents.size()) {
        incidents = crossings;
      } else {
        for (double& te : incidents) {
          double best = te, dist = 300;
          for (double c : crossings) {
            if (std::abs(c - te) <= dist) {
              dist = std::abs(c - te);
              best = c;
            }
          }
          te = best;
        }
        std::sort(incidents.begin(), incidents.end());
        incidents.erase(std::unique(incidents.begin(), incidents.end()), incidents.end());
      }
      for (const monitor::Alarm* a : predicted) {
        ++facts.predicted_alarms;
        if (!a->acked_at) continue;
        const double t0 = Seconds(a->reading_time);
        const bool followed = std::any_of(incidents.begin(), incidents.end(), [&](double te) {
          return te >= t0 && te <= t0 + o.horizon_s;
        });
        if (!followed) ++facts.acknowledged_false_alarms;
      }
      bool any = false;
      for (auto& [day, s] : days) {
        for (double te : incidents) {
          if (te >= s.t.front() && te <= s.t.back()) {
            s.events.push_back(te);
            if (facts.event_times.size() < 100) facts.event_times.emplace_back(p.id, te);
          }
        }
        facts.readings += s.t.size();
        facts.events += s.events.size();
        ++facts.scenarios;
        any = true;
        predict::Scenario sc;
        sc.name = "history-" + org.code + "-" + p.id + "-" + core::FormatDate(day) + ".csv";
        sc.series.push_back(std::move(s));
        out.dataset.scenarios.push_back(std::move(sc));
      }
      if (any) ++facts.points;
    }
    if (facts.scenarios > 0 || !facts.skipped.empty() || facts.predicted_alarms > 0) {
      out.orgs.push_back(std::move(facts));
    }
  }
  std::sort(out.dataset.scenarios.begin(), out.dataset.scenarios.end(),
            [](const predict::Scenario& a, const predict::Scenario& b) { return a.name < b.name; });
  return out;
}

Status RecordModelTrained(server::Installation& inst, const std::vector<core::OrgId>& orgs,
                          const std::string& model_name, const Json& payload,
                          const std::string& actor) {
  WG_ASSIGN_OR_RETURN(std::string body, evidence::CanonicalJson(WithoutFloats(payload)));
  for (core::OrgId org : orgs) {
    WG_RETURN_IF_ERROR(inst.store().AppendFacts(
        org, {store::FactDraft{.kind = "model.trained",
                               .actor = actor,
                               .subject = "model:" + model_name,
                               .site = "",
                               .payload = body}}));
    WG_RETURN_IF_ERROR(inst.evidence().SyncAfterWrite(org));
  }
  return Status::Ok();
}

}  // namespace wg::cli

// Live-monitoring routes (docs/api.md#live-monitoring): monitoring points, HTTP batch
// ingestion, readings with their sealed-block proofs, alarms and their acknowledgement,
// the Server-Sent-Events stream and the service's counters. Handlers parse and validate,
// call live::MonitorService with the caller's organization and render; the engine and
// the SOP decide (who may acknowledge, what a reading does).
#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <utility>

#include "service.h"
#include "wg/core/http_error.h"
#include "wg/core/strings.h"
#include "wg/ingest/decode.h"
#include "wg/monitor/model.h"

namespace wg::api {

using core::Json;
using core::Result;
using core::Status;

namespace {

// How long POST /api/v1/readings waits for room in the intake queue before answering
// 503 (the readings are then the client's to resend, so they are not counted as dropped).
constexpr core::Duration kSubmitWait = core::Duration::Seconds(1);
// GET /api/v1/points/{id}/readings: the widest window, and the default one.
constexpr core::Duration kMaxReadingsWindow = core::Duration::Hours(24);
constexpr core::Duration kDefaultReadingsWindow = core::Duration::Hours(1);
// Rejections listed in a POST /api/v1/readings reply.
constexpr std::size_t kMaxListedRejections = 100;
// SSE: a comment line at least this often keeps proxies from closing an idle stream and
// finds clients that went away; the hub is polled this often for events.
constexpr std::chrono::seconds kHeartbeat{15};
constexpr core::Duration kStreamPoll = core::Duration::Seconds(1);
constexpr std::string_view kStreamRetryMs = "3000";

Json RejectionJson(const ingest::Rejection& r) {
  return Json{{"reason", r.reason}, {"field", r.field}, {"message", r.message}};
}


Result<std::int64_t> QueryInt(const httplib::Request& req, const std::string& name,
                              std::int64_t min, std::int64_t max, std::int64_t fallback) {
  const std::string* v = Query(req, name);
  if (v == nullptr) return fallback;
  return core::ParseInt(*v, min, max, name);
}

Json StatsJson(const live::IngestStats& s) {
  Json buckets = Json::array();
  for (std::size_t i = 0; i < std::size(live::kLatencyBucketsUs); ++i) {
    buckets.push_back({{"le_us", live::kLatencyBucketsUs[i]},
                       {"count", i < s.latency_buckets.size() ? s.latency_buckets[i] : 0}});
  }
  Json rejected = Json::object();
  for (const auto& [reason, n] : s.rejected) rejected[reason] = n;
  Json raised = Json::object();
  for (const auto& [level, n] : s.alarms_raised) raised[level] = n;
  return Json{{"received", s.received},
              {"accepted", s.accepted},
              {"rejected", std::move(rejected)},
              {"dropped", s.dropped},
              {"queue_depth", s.queue_depth},
              {"queue_capacity", s.queue_capacity},
              {"alarms_raised", std::move(raised)},
              {"open_alarms", s.open_alarms},
              {"actions_sent", s.actions_sent},
              {"actions_failed", s.actions_failed},
              {"blocks_sealed", s.blocks_sealed},
              {"notifications_pending", s.notifications_pending},
              {"broker_dropped", s.broker_dropped},
              {"broker_drop_alarms", s.broker_drop_alarms},
              {"persist_errors", s.persist_errors},
              {"stream_dropped", s.stream_dropped},
              {"latency", {{"count", s.latency_count},
                           {"sum_us", s.latency_sum_us},
                           {"buckets", std::move(buckets)}}}};
}

// One SSE message: "event:", "id:", one "data:" line per line of the JSON, blank line.
void AppendEvent(std::string& out, const live::StreamEvent& e) {
  out += "event: ";
  out += e.type;
  out += "\nid: ";
  out += std::to_string(e.id);
  out += '\n';
  std::string_view data = e.data;
  while (true) {
    const std::size_t nl = data.find('\n');
    out += "data: ";
    out += data.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += '\n';
}

// What one open stream holds between calls of its content provider.
struct StreamState {
  live::EventHub* hub = nullptr;
  std::shared_ptr<live::EventHub::Subscription> sub;
  std::shared_ptr<std::atomic<int>> open;  // the server's count of open streams
  std::chrono::steady_clock::time_point last_write;
  bool greeted = false;
};

}  // namespace

Reply QueueFullReply(std::string_view what, std::string_view field) {
  // Back-pressure: nothing of the batch was queued; the client resends it.
  Reply busy = Reply::Json(
      503, core::ErrorJson("UNAVAILABLE",
                           "the " + std::string(what) +
                               " queue is full; nothing of this batch was queued, "
                               "send it again after Retry-After",
                           std::string(field)));
  busy.headers.emplace_back("Retry-After", "1");
  return busy;
}

Reply IntakeReply(std::size_t queued, const std::vector<ingest::Rejection>& decoded,
                  std::size_t rejected_later, const std::vector<ingest::Rejection>& later) {
  Json rejections = Json::array();
  for (const auto* list : {&decoded, &later}) {
    for (const auto& r : *list) {
      if (rejections.size() >= kMaxListedRejections) break;
      rejections.push_back(RejectionJson(r));
    }
  }
  return Reply::Json(202, {{"queued", queued},
                           {"rejected", decoded.size() + rejected_later},
                           {"rejections", std::move(rejections)}});
}

Result<live::MonitorService*> ApiService::Monitor() const {
  if (monitor_ == nullptr) {
    return Status::Unavailable("live monitoring is not enabled on this server");
  }
  return monitor_;
}

live::Actor ApiService::MonitorActor(const Call& c) const {
  live::Actor a;
  a.name = Actor(c);
  if (c.session != nullptr) a.role = std::string(domain::RoleName(c.session->role));
  return a;
}

int ApiService::max_streams() const {
  if (options_.max_streams > 0) return options_.max_streams;
  return std::max(1, options_.threads / 4);
}

// --- points ------------------------------------------------------------------------------

Result<Reply> ApiService::ListPoints(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  WG_ASSIGN_OR_RETURN(auto points, svc->ListPoints(c.session->org_id));
  Json list = Json::array();
  for (const auto& p : points) list.push_back(monitor::ToJson(p));
  return Reply::Json(200, {{"points", std::move(list)}});
}

Result<Reply> ApiService::GetPoint(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  // A deleted point keeps its row (its alarms and blocks name it) but is gone here.
  WG_ASSIGN_OR_RETURN(store::PointRow row, store_.GetPoint(c.session->org_id, c.key));
  if (row.deleted) return Status::NotFound("point " + c.key + " was deleted", "id");
  WG_ASSIGN_OR_RETURN(monitor::PointConfig p, svc->GetPoint(c.session->org_id, c.key));
  WG_ASSIGN_OR_RETURN(Json status, svc->PointStatusJson(c.session->org_id, c.key));
  return Reply::Json(200, {{"point", monitor::ToJson(p)}, {"status", std::move(status)}});
}

// The body is the point document (docs/formats/monitor-points.md) plus "version": the
// version the caller last read, 0 or absent to create (the point must not exist yet).
// A stale version is 409 and nothing changes.
Result<Reply> ApiService::PutPoint(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  Json doc = *c.body;
  WG_ASSIGN_OR_RETURN(auto version,
                      core::GetOptionalInt(doc, "version", 0,
                                           std::numeric_limits<std::int64_t>::max()));
  doc.erase("version");
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!it->is_string() || it->get<std::string>() != c.key) {
      return Status::InvalidArgument("must be the point id of the path, or left out", "id");
    }
  } else {
    doc["id"] = c.key;
  }
  WG_ASSIGN_OR_RETURN(monitor::PointConfig config,
                      monitor::ParsePoint(svc->rulebook(), c.session->org_id, doc));
  config.org = c.session->org_id;
  const std::int64_t expected = version.value_or(0);
  WG_ASSIGN_OR_RETURN(monitor::PointConfig saved,
                      svc->PutPoint(c.session->org_id, std::move(config), expected,
                                    MonitorActor(c)));
  return Reply::Json(expected == 0 ? 201 : 200, {{"point", monitor::ToJson(saved)}});
}

Result<Reply> ApiService::DeletePoint(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  WG_RETURN_IF_ERROR(svc->DeletePoint(c.session->org_id, c.key, MonitorActor(c)));
  return Reply{204, std::string(), "application/json"};
}

// --- readings ----------------------------------------------------------------------------

// A batch of readings over HTTP, decoded like an MQTT batch message of the caller's
// organization (any of its sites): {"readings": [{"p", "t", "v", "u"?}, ...]}.
Result<Reply> ApiService::PostReadings(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  WG_ASSIGN_OR_RETURN(domain::Organization org, store_.GetOrganization(c.session->org_id));
  ingest::TopicInfo topic;
  topic.kind = ingest::TopicInfo::Kind::kBatch;
  topic.org = org.code;
  ingest::Decoded decoded;
  ingest::DecodePayload(topic, c.raw, decoded);
  if (!decoded.rejected.empty()) svc->CountRejected(decoded.rejected);
  // A message that could not be decoded at all (bad JSON, no "readings" array, too
  // large) is the client's error as a whole, not a list of bad readings.
  if (decoded.readings.empty() && decoded.rejected.size() == 1 &&
      !decoded.rejected.front().field.starts_with("readings[")) {
    const ingest::Rejection& r = decoded.rejected.front();
    const std::string field = r.field.empty() || r.field == "payload" ? "body" : r.field;
    if (r.reason == "too_large") return Status::ResourceExhausted(r.message, field);
    return Status::InvalidArgument(r.message, field);
  }

  live::MonitorService::SubmitResult submitted;
  if (!decoded.readings.empty()) {
    auto result = svc->Submit(c.session->org_id, "", std::move(decoded.readings), kSubmitWait,
                              /*count_drop_on_timeout=*/false);
    if (!result.has_value()) {
      if (result.error().code() != core::StatusCode::kResourceExhausted) return result.error();
      return QueueFullReply("intake", "readings");
    }
    submitted = std::move(result).value();
  }
  return IntakeReply(submitted.queued, decoded.rejected, submitted.rejected, submitted.rejections);
}

Result<Reply> ApiService::PointReadings(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"from", "to"}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  core::Timestamp to = clock_.Now();
  if (const std::string* v = Query(c.http, "to")) {
    WG_ASSIGN_OR_RETURN(to, core::ParseTimestamp(*v, "to"));
  }
  core::Timestamp from = to - kDefaultReadingsWindow;
  if (const std::string* v = Query(c.http, "from")) {
    WG_ASSIGN_OR_RETURN(from, core::ParseTimestamp(*v, "from"));
  }
  if (!(from < to)) return Status::InvalidArgument("must be before \"to\"", "from");
  if (to - from > kMaxReadingsWindow) {
    return Status::InvalidArgument("the window from \"from\" to \"to\" is at most 24 hours",
                                   "from");
  }
  // The point must be (or have been: its readings stay provable) one of the caller's.
  WG_RETURN_IF_ERROR(store_.GetPoint(c.session->org_id, c.key).status());
  WG_ASSIGN_OR_RETURN(live::ReadingsAnswer a,
                      svc->Readings(c.session->org_id, c.key, from, to));
  Json samples = Json::array();
  for (const auto& s : a.samples) {
    samples.push_back({{"t", core::FormatTimestamp(s.time)}, {"v", s.value}});
  }
  Json blocks = Json::array();
  for (const auto& b : a.blocks) {
    blocks.push_back({{"minute", core::FormatTimestamp(b.minute)},
                      {"part", b.part},
                      {"count", b.count},
                      {"sm3", b.sm3_hex},
                      {"fact_seq", b.fact_seq >= 0 ? Json(b.fact_seq) : Json(nullptr)}});
  }
  return Reply::Json(200, {{"point", a.point.empty() ? c.key : a.point},
                           {"from", core::FormatTimestamp(from)},
                           {"to", core::FormatTimestamp(to)},
                           {"samples", std::move(samples)},
                           {"blocks", std::move(blocks)},
                           {"unsealed", a.unsealed}});
}

// --- alarms ------------------------------------------------------------------------------

Result<Reply> ApiService::ListAlarms(const Call& c) {
  WG_RETURN_IF_ERROR(
      CheckQuery(c.http, {"state", "site", "point", "min_level", "before_id", "limit"}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  live::AlarmQuery q;
  if (const std::string* v = Query(c.http, "state")) {
    for (std::string_view part : core::Split(*v, ',')) {
      WG_ASSIGN_OR_RETURN(monitor::AlarmState st, monitor::ParseAlarmState(part, "state"));
      q.states.emplace_back(monitor::AlarmStateName(st));
    }
  }
  if (const std::string* v = Query(c.http, "site")) {
    WG_RETURN_IF_ERROR(CheckCode(*v, "site"));
    q.site = *v;
  }
  if (const std::string* v = Query(c.http, "point")) {
    WG_RETURN_IF_ERROR(CheckCode(*v, "point"));
    q.point = *v;
  }
  if (const std::string* v = Query(c.http, "min_level")) {
    WG_ASSIGN_OR_RETURN(monitor::Level l, monitor::ParseLevel(*v, "min_level"));
    q.min_level = l;
  }
  WG_ASSIGN_OR_RETURN(q.before_id, QueryInt(c.http, "before_id", 1,
                                            std::numeric_limits<std::int64_t>::max(), 0));
  WG_ASSIGN_OR_RETURN(std::int64_t limit, QueryInt(c.http, "limit", 1, 1000, 100));
  q.limit = static_cast<int>(limit);
  WG_ASSIGN_OR_RETURN(auto alarms, svc->ListAlarms(c.session->org_id, q));
  Json list = Json::array();
  for (const auto& a : alarms) list.push_back(monitor::ToJson(a));
  Json j = {{"alarms", std::move(list)}};
  if (static_cast<int>(alarms.size()) == q.limit && !alarms.empty()) {
    j["next_before_id"] = alarms.back().id;
  }
  return Reply::Json(200, j);
}

namespace {

// What the SOP did automatically for an alarm: its "action.executed" facts (the live
// service records one per power-lock / broadcast command sent, and one per stop-work round
// with the permits it suspended), oldest first, each with the fact's seq so the page can
// link to its ledger proof. Notifications are queued in the notification outbox, not here.
Result<Json> AlarmActions(store::Store& db, core::OrgId org, std::int64_t alarm_id) {
  constexpr int kMaxFacts = 1000;
  WG_ASSIGN_OR_RETURN(auto facts,
                      db.FactsAbout(org, "alarm:" + std::to_string(alarm_id), 0, kMaxFacts));
  Json out = Json::array();
  for (const auto& f : facts) {
    if (f.kind != "action.executed") continue;
    auto p = core::ParseJson(f.payload);
    if (!p.ok() || !p->is_object()) continue;
    auto text = [&](const char* key) {
      auto it = p->find(key);
      return it != p->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Json action{{"seq", f.seq}, {"fact", "action.executed"}};
    std::string kind = text("command");  // power-lock | broadcast
    if (kind.empty()) kind = text("kind");  // suspend_permits
    action["kind"] = kind;
    action["level"] = text("level");
    action["zone"] = text("zone");
    action["point"] = text("point");
    std::string time = text("sent_at");
    if (time.empty()) time = core::FormatTimestamp(f.time);
    action["time"] = time;
    action["status"] = text("outcome");  // sent | no_actuator | failed | done
    if (auto it = p->find("suspended"); it != p->end() && it->is_array()) {
      Json permits = Json::array();
      std::string target;
      for (const auto& n : *it) {
        if (!n.is_string()) continue;
        permits.push_back(n);
        target += (target.empty() ? "" : ", ") + n.get<std::string>();
      }
      action["permits"] = std::move(permits);
      action["target"] = target;
    } else {
      action["target"] = text("zone");
    }
    if (const std::string err = text("error"); !err.empty()) action["error"] = err;
    out.push_back(std::move(action));
  }
  return out;
}

}  // namespace

Result<Reply> ApiService::GetAlarm(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  WG_ASSIGN_OR_RETURN(monitor::Alarm a, svc->GetAlarm(c.session->org_id, c.id));
  WG_ASSIGN_OR_RETURN(Json actions, AlarmActions(store_, c.session->org_id, a.id));
  return Reply::Json(200, {{"alarm", monitor::ToJson(a)}, {"actions", std::move(actions)}});
}

// Any person of the organization may ask; the SOP of the alarm's current level decides
// (403 naming the roles that may), an alarm already acknowledged is 409.
Result<Reply> ApiService::AckAlarm(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"note"}));
  WG_ASSIGN_OR_RETURN(auto note, core::GetOptionalString(b, "note", 2000));
  WG_ASSIGN_OR_RETURN(monitor::Alarm a, svc->Acknowledge(c.session->org_id, c.id,
                                                         note.value_or(""), MonitorActor(c)));
  return Reply::Json(200, {{"alarm", monitor::ToJson(a)}});
}

// --- stream ------------------------------------------------------------------------------

// Server-Sent Events of the caller's organization (one site, or all): readings, alarms,
// permit changes. Each open stream holds a pool thread, so at most max_streams() are open
// at once (503 with Retry-After past it). A stream ends when the hub closes it (the
// client fell too far behind, or the service stops), when the client goes away (a failed
// write, at the latest at the next heartbeat) or when the server stops.
Result<Reply> ApiService::Stream(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"site"}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  std::string site;
  if (const std::string* v = Query(c.http, "site")) {
    WG_RETURN_IF_ERROR(CheckCode(*v, "site"));
    site = *v;
  }
  auto busy = [](std::string message) {
    Reply r = Reply::Json(503, core::ErrorJson("UNAVAILABLE", message, ""));
    r.headers.emplace_back("Retry-After", "5");
    return r;
  };
  const int limit = max_streams();
  if (streams_open_->fetch_add(1) >= limit) {
    streams_open_->fetch_sub(1);
    return busy("too many open streams (" + std::to_string(limit) + "); retry later");
  }
  auto sub = svc->events().Subscribe(c.session->org_id, site);
  if (!sub.has_value()) {
    streams_open_->fetch_sub(1);
    if (sub.error().code() == core::StatusCode::kResourceExhausted) {
      return busy("too many stream subscribers; retry later");
    }
    return sub.error();
  }
  auto state = std::make_shared<StreamState>();
  state->hub = &svc->events();
  state->sub = std::move(sub).value();
  state->open = streams_open_;
  state->last_write = std::chrono::steady_clock::now();

  Reply r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.stream = [state](std::size_t, httplib::DataSink& sink) -> bool {
    std::string out;
    if (!state->greeted) {
      // Sent at once so the client sees the stream open (and knows the retry delay).
      state->greeted = true;
      out = "retry: ";
      out += kStreamRetryMs;
      out += "\n: stream open\n\n";
    } else {
      if (!sink.is_writable()) return false;
      bool closed = false;
      std::vector<live::StreamEvent> events = state->hub->Next(*state->sub, kStreamPoll, &closed);
      for (const auto& e : events) AppendEvent(out, e);
      if (closed) {
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;
        sink.done();
        return true;
      }
      if (out.empty() && std::chrono::steady_clock::now() - state->last_write >= kHeartbeat) {
        out = ": heartbeat\n\n";
      }
    }
    // Never write zero bytes: httplib ends a chunked response on an empty write.
    if (!out.empty()) {
      if (!sink.write(out.data(), out.size())) return false;
      state->last_write = std::chrono::steady_clock::now();
    }
    return true;
  };
  r.stream_done = [state](bool) {
    if (state->sub) state->hub->Unsubscribe(state->sub);
    state->sub.reset();
    state->open->fetch_sub(1);
  };
  return r;
}

// --- status ------------------------------------------------------------------------------

// The service's counters (installation-wide, the figures /metrics serves) and the
// caller's organization's points and open alarms.
Result<Reply> ApiService::MonitorStatus(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  WG_ASSIGN_OR_RETURN(auto points, svc->ListPoints(c.session->org_id));
  live::AlarmQuery open;
  open.states = {std::string(monitor::AlarmStateName(monitor::AlarmState::kActiveUnacked)),
                 std::string(monitor::AlarmStateName(monitor::AlarmState::kActiveAcked)),
                 std::string(monitor::AlarmStateName(monitor::AlarmState::kClearedUnacked))};
  open.limit = 1000;
  WG_ASSIGN_OR_RETURN(auto alarms, svc->ListAlarms(c.session->org_id, open));
  return Reply::Json(200, {{"installation", StatsJson(svc->Stats())},
                           {"organization", {{"points", points.size()},
                                             {"open_alarms", alarms.size()},
                                             {"open_alarms_capped", alarms.size() >= 1000}}},
                           {"streams", {{"open", open_streams()}, {"max", max_streams()}}},
                           {"rulebook", svc->rulebook().version()}});
}

Status CheckCode(std::string_view v, std::string_view field) {
  bool ok = !v.empty() && v.size() <= 64;
  for (char ch : v) {
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-');
  }
  if (!ok) {
    return Status::InvalidArgument("must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
                                   std::string(field));
  }
  return Status::Ok();
}

}  // namespace wg::api

// PresenceService: intake queue -> presence thread (Engine::Ingest / Tick every second)
// -> alarm ops to the MonitorService, fence events to the stream and the confined-space
// register facts, accepted positions to the stream and the TrajectorySealer ->
// "trajectory.sealed" facts. See presence_service.h.
//
// Locks, outermost first: refresh_mu (Refresh), apply_mu (orders the side effects of the
// engine's outputs: whoever takes engine output applies it before the next one is taken),
// engine_mu (engine + sealer), then the leaf locks (queue, stats, directory). The service
// never calls PermitService (whose guards call back into this service under its own lock):
// permits are read from the store. Calls into MonitorService are made without engine_mu.
#include "wg/live/presence_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include "internal.h"
#include "wg/evidence/fact.h"
#include "wg/permit/check.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"
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

constexpr const char* kSystemActor = "system:presence";
constexpr Duration kTickEvery = Duration::Seconds(1);
constexpr std::int64_t kPositionEventEveryNs = 500'000'000;
constexpr std::size_t kBatch = 4096;
constexpr std::size_t kMaxTools = 64;
constexpr std::size_t kMaxToolBytes = 64;
constexpr double kMaxRegionKm = 20000;
constexpr const char* kEntered = "confined.entered";
constexpr const char* kExited = "confined.exited";

std::string PermitSubject(const std::string& number) { return "permit:" + number; }

// The document stored for a configuration object: its JSON without the store's version.
Json Document(Json j) {
  if (j.is_object()) j.erase("version");
  return j;
}

// Who a register entry is about: the person, or the tag for an unbound tag.
std::string OccupantKey(const presence::PersonRef& person, const std::string& tag) {
  return person.empty() ? "tag:" + tag : person.Key();
}

// One entry of a confined-space register as read back from its fact.
struct RegisterRecord {
  std::int64_t seq = 0;
  Timestamp time;
  bool entering = true;
  std::string person;  // "worker:<code>" / "user:<name>" / "" (unbound tag)
  std::string tag, source;
  std::vector<std::string> tools;
};

// Occupants and declared tools after replaying a register (the same bookkeeping as the
// engine's: entering adds the person and their tools, exiting removes the person and the
// tools they bring out).
void Replay(const std::vector<RegisterRecord>& records, std::vector<presence::Occupant>& occupants,
            std::map<std::string, int>& tools) {
  std::map<std::string, presence::Occupant> inside;
  for (const auto& r : records) {
    const std::string key = r.person.empty() ? "tag:" + r.tag : r.person;
    if (r.entering) {
      presence::Occupant o;
      if (!r.person.empty()) {
        auto ref = presence::ParsePersonRef(r.person);
        if (ref.ok()) o.person = *ref;
      }
      o.tag = r.tag;
      o.since = r.time;
      o.source = r.source;
      o.tools = r.tools;
      inside[key] = std::move(o);
      for (const auto& t : r.tools) ++tools[t];
    } else {
      inside.erase(key);
      for (const auto& t : r.tools) {
        auto it = tools.find(t);
        if (it != tools.end() && --it->second <= 0) tools.erase(it);
      }
    }
  }
  for (auto& [k, o] : inside) occupants.push_back(std::move(o));
}

// A CSV field (RFC 4180), with a leading ' on text a spreadsheet would run as a formula.
std::string CsvField(std::string s) {
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) s.insert(0, "'");
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Field by field (PermitContext::Holder has no operator==).
bool SameContexts(const std::vector<presence::PermitContext>& a,
                  const std::vector<presence::PermitContext>& b) {
  auto same_holders = [](const auto& x, const auto& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i].person != y[i].person || x[i].role != y[i].role ||
          x[i].certificate_number != y[i].certificate_number) {
        return false;
      }
    }
    return true;
  };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.org != y.org || x.id != y.id || x.number != y.number || x.site != y.site ||
        x.zone != y.zone || x.type != y.type || x.active != y.active || !(x.fence == y.fence) ||
        !(x.work_point == y.work_point) || x.guardians != y.guardians ||
        !same_holders(x.holders, y.holders) || x.authorized != y.authorized ||
        x.active_since != y.active_since) {
      return false;
    }
  }
  return true;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace

Json ToJson(const TrajectoryAnswer& a) {
  Json points = Json::array();
  for (const auto& p : a.points) {
    Json j = {{"t", core::FormatTimestamp(p.time)}, {"x", p.position.x}, {"y", p.position.y}};
    if (p.has_z) j["z"] = p.position.z;
    points.push_back(std::move(j));
  }
  Json blocks = Json::array();
  for (const auto& b : a.blocks) {
    blocks.push_back({{"minute", core::FormatTimestamp(b.minute)},
                      {"part", b.part},
                      {"count", b.count},
                      {"sm3", b.sm3_hex},
                      {"fact_seq", b.fact_seq >= 0 ? Json(b.fact_seq) : Json(nullptr)}});
  }
  return Json{{"tag", a.tag},
              {"points", std::move(points)},
              {"blocks", std::move(blocks)},
              {"unsealed", a.unsealed}};
}

struct PresenceService::Impl {
  Impl(store::Store& s, evidence::Evidence& e, const presence::PresenceRulebook& b,
       const core::Clock& c, permit::PermitService* p, MonitorService* m, PresenceOptions o)
      : store(s), ev(e), book(b), clock(c), permits(p), monitor(m), opt(std::move(o)),
        engine(b, opt.engine), sealer(opt.seal_grace) {}

  store::Store& store;
  evidence::Evidence& ev;
  const presence::PresenceRulebook& book;
  const core::Clock& clock;
  permit::PermitService* permits;  // kept for the server's wiring; never called (see top)
  MonitorService* monitor;
  PresenceOptions opt;

  EventHub* hub() { return monitor != nullptr ? &monitor->events() : nullptr; }

  // --- organizations ---
  std::mutex org_mu;
  std::map<std::string, core::OrgId> org_by_code;

  // --- intake ---
  struct Item {
    core::OrgId org;
    std::string site;
    presence::PositionFix fix;
  };
  mutable std::mutex q_mu;
  std::condition_variable q_not_empty, q_not_full, q_processed;
  std::deque<Item> queue;
  std::uint64_t enqueued = 0, processed = 0;
  bool stopping = false;

  // --- engine ---
  std::mutex refresh_mu;
  std::mutex apply_mu;
  mutable std::mutex engine_mu;
  presence::Engine engine;
  presence::TrajectorySealer sealer;
  Timestamp last_tick;
  std::vector<std::int64_t> last_position_event_ns;  // per tag index

  // --- permits seen by Refresh ---
  struct Seen {
    bool active = false;
    Timestamp since;
  };
  std::map<std::pair<std::int64_t, std::int64_t>, Seen> seen;            // (org, id)
  std::map<std::int64_t, std::vector<presence::PermitContext>> contexts;  // org -> last set
  std::atomic<std::uint64_t> permit_count{0};

  // --- stats ---
  mutable std::mutex stats_mu;
  std::uint64_t received = 0, accepted = 0, dropped = 0, events = 0, alarms_raised = 0;
  std::uint64_t blocks_sealed = 0, persist_errors = 0;
  std::map<std::string, std::uint64_t> rejected;

  // --- threads ---
  std::mutex life_mu;
  bool started = false;
  std::atomic<bool> threads{false};
  std::thread thread;

  // ======================================================================================
  void CountPersistError(const Status& s, const char* what) {
    spdlog::error("presence: persisting {} failed: {}", what, s.ToString());
    std::lock_guard lock(stats_mu);
    ++persist_errors;
  }

  // A store busy past its timeout (another process writing) is retried a few times.
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

  // --- rules ----------------------------------------------------------------------------
  // The confined_headcount rules that give permits of `type` a register.
  bool HasRegister(std::string_view type) const {
    for (const auto* r : book.RulesOf(presence::Check::kConfinedHeadcount)) {
      if (r->AppliesTo(type)) return true;
    }
    return false;
  }
  const presence::RuleDef* CompletionRule(std::string_view type) const {
    for (const auto* r : book.RulesOf(presence::Check::kConfinedHeadcount)) {
      if (r->block_completion && r->AppliesTo(type)) return r;
    }
    return nullptr;
  }

  // --- people ---------------------------------------------------------------------------
  // kInvalidArgument naming `field` when the person is not of the organization.
  Status CheckPerson(core::OrgId org, const presence::PersonRef& p, const std::string& field) {
    if (p.kind == presence::PersonRef::Kind::kWorker) {
      auto w = store.FindWorkerByCode(org, p.code);
      if (w.ok()) return Status::Ok();
      if (w.error().code() != core::StatusCode::kNotFound) return w.error();
      return Status::InvalidArgument("no worker '" + p.code + "' in this organization", field);
    }
    auto u = store.FindUserByUsername(p.code);
    if (u.ok() && u->org_id == org) return Status::Ok();
    if (!u.ok() && u.error().code() != core::StatusCode::kNotFound) return u.error();
    return Status::InvalidArgument("no user '" + p.code + "' in this organization", field);
  }

  // Display name of a person key ("" when unknown).
  std::string NameOf(core::OrgId org, const std::string& key,
                     std::map<std::string, std::string>& cache) {
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    std::string name;
    auto ref = presence::ParsePersonRef(key);
    if (ref.ok()) {
      if (ref->kind == presence::PersonRef::Kind::kWorker) {
        if (auto w = store.FindWorkerByCode(org, ref->code); w.ok()) name = w->name;
      } else if (auto u = store.FindUserByUsername(ref->code); u.ok() && u->org_id == org) {
        name = u->display_name;
      }
    }
    cache[key] = name;
    return name;
  }

  // The site must be one of the organization's: kInvalidArgument naming "site", or
  // kNotFound when the site is the resource asked for (a site plan).
  Status CheckSite(core::OrgId org, const std::string& site, bool as_resource = false) {
    WG_ASSIGN_OR_RETURN(auto sites, store.ListSites(org));
    if (std::none_of(sites.begin(), sites.end(),
                     [&](const domain::Site& s) { return s.code == site; })) {
      std::string msg = "no site '" + site + "' in this organization";
      return as_resource ? Status::NotFound(std::move(msg), "site")
                         : Status::InvalidArgument(std::move(msg), "site");
    }
    return Status::Ok();
  }

  // --- configuration rows ---------------------------------------------------------------
  // A live (not deleted) object; kNotFound naming `kind` otherwise.
  Result<store::PresenceObjectRow> LiveObject(core::OrgId org, const std::string& kind,
                                              const std::string& id) {
    WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row, store.GetPresenceObject(org, kind, id));
    if (row.deleted) return Status::NotFound("no " + kind + " " + id, kind);
    return row;
  }

  static Result<presence::Tag> TagFromRow(const store::PresenceObjectRow& row) {
    WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(row.document));
    auto t = presence::ParseTag(row.org_id, Document(std::move(doc)));
    if (!t.ok()) {
      return Status::Corruption("stored tag " + row.id + " does not parse: " + t.error().ToString());
    }
    t->version = row.version;
    return t;
  }
  static Result<presence::Fence> FenceFromRow(const store::PresenceObjectRow& row) {
    WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(row.document));
    auto f = presence::ParseFence(row.org_id, Document(std::move(doc)));
    if (!f.ok()) {
      return Status::Corruption("stored fence " + row.id + " does not parse: " +
                                f.error().ToString());
    }
    f->version = row.version;
    return f;
  }
  static Result<presence::SiteFrame> FrameFromRow(const store::PresenceObjectRow& row) {
    WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(row.document));
    auto f = presence::ParseSiteFrame(doc);
    if (!f.ok()) {
      return Status::Corruption("stored site frame " + row.id + " does not parse: " +
                                f.error().ToString());
    }
    return f;
  }
  static Result<presence::Binding> BindingFromRow(const store::TagBindingRow& row) {
    presence::Binding b;
    b.id = row.id;
    b.tag = row.tag;
    auto person = presence::ParsePersonRef(row.person);
    if (!person.ok()) {
      return Status::Corruption("stored binding " + std::to_string(row.id) +
                                " does not parse: " + person.error().ToString());
    }
    b.person = *person;
    b.valid_from = row.valid_from;
    b.valid_until = row.valid_until;
    b.note = row.note;
    return b;
  }

  // The full binding history of a tag into the engine.
  Status ReloadBindings(core::OrgId org, const std::string& tag) {
    WG_ASSIGN_OR_RETURN(auto rows, store.ListTagBindings(org, tag));
    std::vector<presence::Binding> bindings;
    for (const auto& r : rows) {
      if (r.tag != tag) continue;
      WG_ASSIGN_OR_RETURN(presence::Binding b, BindingFromRow(r));
      bindings.push_back(std::move(b));
    }
    std::lock_guard lock(engine_mu);
    return engine.SetBindings(org, tag, std::move(bindings));
  }

  // --- register -------------------------------------------------------------------------
  Result<std::vector<RegisterRecord>> ReadRegister(core::OrgId org, const std::string& number) {
    std::vector<RegisterRecord> out;
    constexpr int kPage = 10000;
    std::int64_t from = 0;
    for (;;) {
      WG_ASSIGN_OR_RETURN(auto facts, store.FactsAbout(org, PermitSubject(number), from, kPage));
      for (const auto& f : facts) {
        from = f.seq + 1;
        if (f.kind != kEntered && f.kind != kExited) continue;
        auto doc = core::ParseJson(f.payload);
        if (!doc.ok() || !doc->is_object()) {
          return Status::Corruption("register fact " + std::to_string(f.seq) + " does not parse");
        }
        RegisterRecord r;
        r.seq = f.seq;
        r.entering = f.kind == kEntered;
        r.person = doc->value("person", std::string());
        r.tag = doc->value("tag", std::string());
        r.source = doc->value("source", std::string("tag"));
        auto at = core::ParseTimestamp(doc->value("at", std::string()), "at");
        r.time = at.ok() ? *at : f.time;
        if (auto t = doc->find("tools"); t != doc->end() && t->is_array()) {
          for (const auto& x : *t) {
            if (x.is_string()) r.tools.push_back(x.get<std::string>());
          }
        }
        out.push_back(std::move(r));
      }
      if (facts.size() < static_cast<std::size_t>(kPage)) break;
    }
    return out;
  }

  store::FactDraft RegisterFact(const presence::FenceEvent& e, const std::string& actor) {
    const bool entering = e.kind == presence::FenceEvent::Kind::kEntered;
    Json p = {{"person", e.person.empty() ? std::string() : e.person.Key()},
              {"tag", e.tag},
              {"source", e.source},
              {"tools", StringList(e.tools)},
              {"at", core::FormatTimestamp(e.at)}};
    if (e.source != "manual") {
      p["position"] = Json{{"x", internal::NumberText(e.position.x)},
                           {"y", internal::NumberText(e.position.y)},
                           {"z", internal::NumberText(e.position.z)}};
    }
    if (!entering) p["dwell_s"] = e.dwell.micros / 1'000'000;
    auto body = Canonical(p);
    return store::FactDraft{.kind = entering ? kEntered : kExited,
                            .actor = actor.empty() ? std::string(kSystemActor) : actor,
                            .subject = PermitSubject(e.permit),
                            .site = e.site,
                            .payload = body.ok() ? *body : "{}"};
  }

  // --- applying engine output -----------------------------------------------------------
  // Caller holds apply_mu (not engine_mu). Register facts first (durable), then the alarm
  // operations. `actor` names who made a manual register entry.
  Status Apply(presence::Output& out, const std::string& actor = {}) {
    Status first = Status::Ok();
    std::map<std::int64_t, store::FactDrafts> facts;
    EventHub* h = hub();
    for (const auto& e : out.events) {
      if (e.confined && !e.permit.empty()) facts[e.org.value].push_back(RegisterFact(e, actor));
      if (h == nullptr) continue;
      Json d = {{"event", std::string(presence::FenceEventKindName(e.kind))},
                {"fence", e.fence},
                {"zone", e.zone},
                {"permit", e.permit},
                {"confined", e.confined},
                {"hazardous", e.hazardous},
                {"person", e.person.empty() ? Json(nullptr) : Json(e.person.Key())},
                {"tag", e.tag},
                {"source", e.source},
                {"tools", StringList(e.tools)},
                {"at", core::FormatTimestamp(e.at)},
                {"x", e.position.x},
                {"y", e.position.y},
                {"z", e.position.z}};
      if (e.kind == presence::FenceEvent::Kind::kExited) {
        d["dwell_s"] = static_cast<double>(e.dwell.micros) / 1e6;
      }
      StreamEvent se;
      se.org = e.org;
      se.site = e.site;
      se.type = "presence";
      se.data = core::DumpJson(d);
      h->Publish(std::move(se));
    }
    {
      std::lock_guard lock(stats_mu);
      events += out.events.size();
    }
    for (auto& [org, drafts] : facts) {
      Status s = Retry([&] { return store.AppendFacts(core::OrgId{org}, drafts); });
      if (s.ok()) s = ev.SyncAfterWrite(core::OrgId{org});
      if (!s.ok()) {
        CountPersistError(s, "register facts");
        if (first.ok()) first = s;
      }
    }
    if (monitor != nullptr) {
      for (auto& op : out.alarms) {
        if (op.op == presence::AlarmOp::Op::kClear) {
          Status s = monitor->ClearExternal(op.org, op.subject, op.rule);
          if (!s.ok() && s.code() != core::StatusCode::kNotFound) {
            spdlog::warn("presence: clearing {} of {}: {}", op.rule, op.subject, s.ToString());
          }
          continue;
        }
        monitor::Alarm a;
        a.org = op.org;
        a.site = op.site;
        a.zone = op.zone;
        a.point = op.subject;
        a.kind = "presence";
        a.unit = op.unit;
        a.rule = op.rule;
        a.clause = op.clause;
        a.rule_kind = std::string(presence::CheckName(op.check));
        a.level = op.level;
        a.raised_level = op.level;
        a.value = op.value;
        a.peak = op.value;
        a.reading_time = op.at;
        for (const auto& n : op.permits) {
          if (!n.empty()) a.permits.push_back(n);
        }
        a.message_zh = op.message_zh;
        a.message_en = op.message_en;
        a.actions = op.actions;
        a.evidence = core::DumpJson(op.evidence);
        auto id = monitor->RaiseExternal(std::move(a));
        if (!id.ok()) {
          spdlog::error("presence: raising {} of {}: {}", op.rule, op.subject,
                        id.error().ToString());
          continue;
        }
        std::lock_guard lock(stats_mu);
        ++alarms_raised;
      }
    }
    out.clear();
    return first;
  }

  // --- trajectory blocks ----------------------------------------------------------------
  // One AppendTrajectoryBlocks with a "trajectory.sealed" fact per site and <= 500 blocks.
  Status AppendBlocks(core::OrgId org, std::vector<store::TrajectoryBlockRow>& rows) {
    std::vector<int> fact_index;
    WG_ASSIGN_OR_RETURN(
        store::FactDrafts facts,
        internal::SealedBlockFacts(rows, fact_index, "trajectory.sealed", "trajectory", kSystemActor, "tag",
                                   [](const store::TrajectoryBlockRow& b) { return b.tag; }));
    return store.AppendTrajectoryBlocks(org, rows, fact_index, facts);
  }

  // A minute sealed before a restart got more fixes: continue its part numbers.
  void RenumberParts(core::OrgId org, std::vector<store::TrajectoryBlockRow>& rows) {
    internal::RenumberSealedParts(
        rows, [](const store::TrajectoryBlockRow& r) -> const std::string& { return r.tag; },
        [&](const std::string& series, Timestamp minute) {
          return store.TrajectoryBlocks(org, series, minute, minute + Duration::Seconds(60), 10000);
        });
  }

  void PersistBlocks(std::vector<presence::SealedTrajectory> blocks) {
    if (blocks.empty()) return;
    std::map<std::int64_t, std::vector<store::TrajectoryBlockRow>> by_org;
    for (auto& b : blocks) {
      store::TrajectoryBlockRow r;
      r.org_id = b.org;
      r.tag = std::move(b.tag);
      r.site = std::move(b.site);
      r.minute = b.minute;
      r.part = b.part;
      r.first = b.first;
      r.last = b.last;
      r.count = b.count;
      r.data = std::move(b.data);
      r.sm3_hex = std::move(b.sm3_hex);
      by_org[b.org.value].push_back(std::move(r));
    }
    for (auto& [org, rows] : by_org) {
      Status s = Retry([&] { return AppendBlocks(core::OrgId{org}, rows); });
      if (s.code() == core::StatusCode::kAlreadyExists) {
        RenumberParts(core::OrgId{org}, rows);
        s = Retry([&] { return AppendBlocks(core::OrgId{org}, rows); });
      }
      if (s.ok()) s = ev.SyncAfterWrite(core::OrgId{org});
      if (!s.ok()) {
        CountPersistError(s, "trajectory blocks");
        continue;
      }
      std::lock_guard lock(stats_mu);
      blocks_sealed += rows.size();
    }
  }

  // --- the presence thread ----------------------------------------------------------------
  // Caller holds engine_mu.
  void PublishPosition(presence::TagIndex idx, const presence::TagState& st) {
    EventHub* h = hub();
    if (h == nullptr) return;
    if (last_position_event_ns.size() <= idx) last_position_event_ns.resize(idx + 1, 0);
    const std::int64_t t = SteadyNs();
    if (last_position_event_ns[idx] != 0 && t - last_position_event_ns[idx] < kPositionEventEveryNs) {
      return;
    }
    last_position_event_ns[idx] = t;
    Json d = {{"tag", st.tag},
              {"person", st.person.empty() ? Json(nullptr) : Json(st.person.Key())},
              {"site", st.site},
              {"x", st.position.x},
              {"y", st.position.y},
              {"time", st.time ? Json(core::FormatTimestamp(*st.time)) : Json(nullptr)},
              {"fences", StringList(st.fences)}};
    if (st.has_z) d["z"] = st.position.z;
    if (st.wgs84) {
      d["lat"] = st.wgs84->lat;
      d["lon"] = st.wgs84->lon;
    }
    StreamEvent se;
    se.org = st.org;
    se.site = st.site;
    se.type = "position";
    se.key = "tag:" + st.tag;
    se.data = core::DumpJson(d);
    h->Publish(std::move(se));
  }

  void ProcessBatch(std::vector<Item>& batch, bool force_tick) {
    std::lock_guard apply(apply_mu);
    presence::Output out;
    std::vector<presence::SealedTrajectory> blocks;
    std::map<presence::PositionVerdict, std::uint64_t> verdicts;
    {
      std::lock_guard lock(engine_mu);
      const Timestamp now = clock.Now();
      EventHub* h = hub();
      const bool stream = h != nullptr && h->subscribers() > 0;
      for (Item& it : batch) {
        const presence::PositionVerdict v = engine.Ingest(it.org, it.site, it.fix, now, out);
        ++verdicts[v];
        if (v != presence::PositionVerdict::kAccepted) continue;
        auto idx = engine.FindTag(it.org, it.fix.tag);
        if (!idx) continue;
        auto st = engine.Tag(*idx, now);
        if (!st) continue;
        sealer.Append(it.org, st->site, st->tag,
                      presence::TrackPoint{st->time.value_or(it.fix.time), st->position, st->has_z});
        if (stream) PublishPosition(*idx, *st);
      }
      if (force_tick || now - last_tick >= kTickEvery) {
        last_tick = now;
        engine.Tick(now, out);
        blocks = sealer.SealDue(now);
      }
    }
    {
      std::lock_guard lock(stats_mu);
      for (const auto& [v, n] : verdicts) {
        if (v == presence::PositionVerdict::kAccepted) {
          accepted += n;
        } else {
          rejected[std::string(presence::PositionVerdictName(v))] += n;
        }
      }
    }
    if (!out.empty()) (void)Apply(out);
    PersistBlocks(std::move(blocks));
  }

  std::vector<Item> Take(std::size_t max) {
    std::vector<Item> out;
    const std::size_t n = std::min(max, queue.size());
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    return out;
  }

  // Drains the queue on the calling thread, then ticks once.
  void PumpAll() {
    for (;;) {
      std::vector<Item> batch;
      {
        std::lock_guard lock(q_mu);
        batch = Take(kBatch);
      }
      q_not_full.notify_all();
      const bool last = batch.empty();
      ProcessBatch(batch, last);
      {
        std::lock_guard lock(q_mu);
        processed += batch.size();
      }
      q_processed.notify_all();
      if (last) break;
    }
  }

  void SealEverything() {
    std::lock_guard apply(apply_mu);
    std::vector<presence::SealedTrajectory> blocks;
    {
      std::lock_guard lock(engine_mu);
      blocks = sealer.SealAll();
    }
    PersistBlocks(std::move(blocks));
  }

  void Loop() {
    for (;;) {
      std::vector<Item> batch;
      bool stop = false;
      {
        std::unique_lock lock(q_mu);
        if (queue.empty() && !stopping) {
          q_not_empty.wait_for(lock, std::chrono::milliseconds(100),
                               [&] { return !queue.empty() || stopping; });
        }
        batch = Take(kBatch);
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
    SealEverything();
  }

  // --- permits --------------------------------------------------------------------------
  static std::optional<presence::PersonRef> RefOf(const permit::Person& p) {
    if (!p.worker_code.empty()) {
      return presence::PersonRef{presence::PersonRef::Kind::kWorker, p.worker_code};
    }
    if (!p.username.empty()) {
      return presence::PersonRef{presence::PersonRef::Kind::kUser, p.username};
    }
    return std::nullopt;
  }

  // The permit's work fence: its polygon, or a circle of permit_radius_m round the work
  // point when it has none (or an unusable one).
  presence::Area WorkFence(const permit::Permit& p, bool warn) const {
    const presence::Vec2 point{p.location.point.x, p.location.point.y};
    if (p.location.fence.size() >= 3) {
      presence::Area a;
      for (const auto& v : p.location.fence) a.outer.push_back(presence::Vec2{v.x, v.y});
      Status s = presence::ValidateArea(a, "location.fence");
      if (s.ok()) return a;
      if (warn) {
        spdlog::warn("presence: permit {}: work fence not usable ({}); a circle of {} m is used",
                     p.number, s.ToString(), opt.permit_radius_m);
      }
    }
    presence::Area a;
    a.outer = presence::CircleRing(point, opt.permit_radius_m);
    return a;
  }

  // Caller holds refresh_mu.
  presence::PermitContext ContextOf(const store::PermitRow& r, const permit::Permit& p,
                                    Timestamp now, std::map<std::pair<std::int64_t, std::int64_t>,
                                                            Seen>& next) {
    presence::PermitContext c;
    c.org = r.org_id;
    c.id = r.id;
    c.number = r.number;
    c.site = r.site;
    c.zone = p.location.zone;
    c.type = std::string(permit::PermitTypeCode(p.type));
    c.active = r.state == "active";
    c.work_point = presence::Vec2{p.location.point.x, p.location.point.y};
    c.fence = WorkFence(p, true);
    std::set<presence::PersonRef> authorized;
    for (const auto& person : p.people) {
      if (!person.worker_code.empty()) {
        authorized.insert({presence::PersonRef::Kind::kWorker, person.worker_code});
      }
      if (!person.username.empty()) {
        authorized.insert({presence::PersonRef::Kind::kUser, person.username});
      }
      auto ref = RefOf(person);
      if (!ref) continue;
      if (person.role == "guardian" &&
          std::find(c.guardians.begin(), c.guardians.end(), *ref) == c.guardians.end()) {
        c.guardians.push_back(*ref);
      }
      if (person.role == "performer" && !person.worker_code.empty() &&
          !person.certificate_numbers.empty()) {
        c.holders.push_back(presence::PermitContext::Holder{
            presence::PersonRef{presence::PersonRef::Kind::kWorker, person.worker_code},
            person.role, person.certificate_numbers.front()});
      }
    }
    for (const auto& s : p.signatures) {
      if (!s.username.empty()) authorized.insert({presence::PersonRef::Kind::kUser, s.username});
    }
    c.authorized.assign(authorized.begin(), authorized.end());
    // When it (last) became active: the start, or for a resumed permit (the model keeps
    // no resume time) the refresh that first saw it active again.
    const auto key = std::make_pair(r.org_id.value, r.id);
    auto prev = seen.find(key);
    Seen s;
    if (prev != seen.end()) s = prev->second;
    if (c.active && (prev == seen.end() || !prev->second.active)) {
      s.since = (p.started_at && !p.last_suspended_at) ? *p.started_at : now;
    } else if (prev == seen.end()) {
      s.since = p.started_at.value_or(now);
    }
    s.active = c.active;
    c.active_since = s.since;
    next[key] = s;
    return c;
  }
};

// ========================================================================================

PresenceService::PresenceService(store::Store& store, evidence::Evidence& evidence,
                                 const presence::PresenceRulebook& book, const core::Clock& clock,
                                 permit::PermitService* permits, MonitorService* monitor,
                                 PresenceOptions options)
    : impl_(std::make_unique<Impl>(store, evidence, book, clock, permits, monitor,
                                   std::move(options))) {}

PresenceService::~PresenceService() { Stop(); }

const presence::PresenceRulebook& PresenceService::rulebook() const { return impl_->book; }

Status PresenceService::Start() {
  Impl& m = *impl_;
  std::lock_guard life(m.life_mu);
  if (m.started) return Status::Ok();
  WG_ASSIGN_OR_RETURN(auto orgs, m.store.ListOrganizations());
  {
    std::lock_guard lock(m.org_mu);
    for (const auto& o : orgs) m.org_by_code[o.code] = o.id;
  }
  std::vector<store::PresenceObjectRow> objects;
  WG_RETURN_IF_ERROR(m.store.ScanPresenceObjects([&](const store::PresenceObjectRow& r) {
    objects.push_back(r);
    return true;
  }));
  std::map<std::pair<std::int64_t, std::string>, std::vector<presence::Binding>> bindings;
  WG_RETURN_IF_ERROR(m.store.ScanTagBindings([&](const store::TagBindingRow& r) {
    auto b = Impl::BindingFromRow(r);
    if (!b.ok()) {
      spdlog::error("presence: skipping binding {}: {}", r.id, b.error().ToString());
      return true;
    }
    bindings[{r.org_id.value, r.tag}].push_back(std::move(*b));
    return true;
  }));
  {
    std::lock_guard lock(m.engine_mu);
    // Site frames first: a tag's GPS fixes need its site's origin.
    for (const auto& r : objects) {
      if (r.kind != "site_frame") continue;
      auto f = Impl::FrameFromRow(r);
      if (!f.ok()) {
        spdlog::error("presence: skipping site frame {}: {}", r.id, f.error().ToString());
        continue;
      }
      m.engine.SetSiteFrame(r.org_id, r.site, *f);
    }
    for (const auto& r : objects) {
      Status s = Status::Ok();
      if (r.kind == "tag") {
        auto t = Impl::TagFromRow(r);
        s = t.ok() ? m.engine.UpsertTag(*t).status() : t.error();
      } else if (r.kind == "fence") {
        auto f = Impl::FenceFromRow(r);
        s = f.ok() ? m.engine.UpsertFence(*f) : f.error();
      }
      if (!s.ok()) spdlog::error("presence: skipping {} {}: {}", r.kind, r.id, s.ToString());
    }
    for (auto& [key, list] : bindings) {
      Status s = m.engine.SetBindings(core::OrgId{key.first}, key.second, std::move(list));
      if (!s.ok()) {
        spdlog::error("presence: bindings of tag {}: {}", key.second, s.ToString());
      }
    }
    m.last_tick = m.clock.Now();
  }
  if (Status s = Refresh(); !s.ok()) spdlog::warn("presence: refresh: {}", s.ToString());
  // The confined-space registers of open permits, replayed from their facts.
  {
    std::vector<std::pair<core::OrgId, std::string>> registers;
    {
      std::lock_guard lock(m.refresh_mu);
      for (const auto& [org, ctxs] : m.contexts) {
        for (const auto& c : ctxs) {
          if (m.HasRegister(c.type)) registers.emplace_back(c.org, c.number);
        }
      }
    }
    for (const auto& [org, number] : registers) {
      auto records = m.ReadRegister(org, number);
      if (!records.ok()) {
        spdlog::error("presence: register of {}: {}", number, records.error().ToString());
        continue;
      }
      std::vector<presence::Occupant> occupants;
      std::map<std::string, int> tools;
      Replay(*records, occupants, tools);
      if (occupants.empty() && tools.empty()) continue;
      std::lock_guard lock(m.engine_mu);
      m.engine.RestoreOccupants(org, number, std::move(occupants), std::move(tools));
    }
  }
  {
    std::lock_guard lock(m.q_mu);
    m.stopping = false;
  }
  m.started = true;
  if (m.opt.start_threads) {
    m.threads = true;
    m.thread = std::thread([&m] { m.Loop(); });
  }
  return Status::Ok();
}

void PresenceService::Stop() {
  Impl& m = *impl_;
  std::lock_guard life(m.life_mu);
  if (!m.started) return;
  {
    std::lock_guard lock(m.q_mu);
    m.stopping = true;
  }
  m.q_not_empty.notify_all();
  m.q_not_full.notify_all();
  if (m.threads) {
    m.thread.join();
    m.threads = false;
  } else {
    m.PumpAll();
    m.SealEverything();
  }
  m.started = false;
}

// --- intake --------------------------------------------------------------------------------

Result<PresenceService::SubmitResult> PresenceService::Submit(
    core::OrgId org, const std::string& site, std::vector<presence::PositionFix> fixes,
    Duration wait) {
  Impl& m = *impl_;
  SubmitResult out;
  std::vector<Impl::Item> items;
  items.reserve(fixes.size());
  const std::size_t n = fixes.size();
  std::uint64_t bad = 0;
  for (auto& f : fixes) {
    // A malformed tag id can name no tag: refused here, the rest is the engine's.
    if (!presence::ValidId(f.tag)) {
      ++bad;
      ++out.rejected;
      if (out.rejections.size() < 100) {
        out.rejections.push_back(
            ingest::Rejection{"unknown_tag", "tag", "not a tag id: '" + f.tag.substr(0, 80) + "'"});
      }
      continue;
    }
    items.push_back(Impl::Item{org, site, std::move(f)});
  }
  {
    std::lock_guard lock(m.stats_mu);
    m.received += n;
    if (bad > 0) m.rejected["unknown_tag"] += bad;
  }
  if (items.empty()) return out;
  const std::size_t cap = std::max<std::size_t>(1, m.opt.queue_capacity);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(std::max<std::int64_t>(0, wait.micros));
  {
    std::unique_lock lock(m.q_mu);
    auto room = [&] {
      return m.stopping || m.queue.size() + items.size() <= cap ||
             (m.queue.empty() && items.size() > cap);
    };
    if (m.stopping) return Status::Unavailable("the presence service is stopping");
    if (!room() && !m.q_not_full.wait_until(lock, deadline, room)) {
      lock.unlock();
      {
        std::lock_guard s(m.stats_mu);
        m.dropped += items.size();
      }
      return Status::ResourceExhausted("the position intake queue is full (" +
                                       std::to_string(cap) + " fixes)");
    }
    if (m.stopping) return Status::Unavailable("the presence service is stopping");
    for (auto& it : items) m.queue.push_back(std::move(it));
    m.enqueued += items.size();
    out.queued = items.size();
  }
  m.q_not_empty.notify_one();
  return out;
}

Result<PresenceService::SubmitResult> PresenceService::SubmitByCode(
    const std::string& org_code, const std::string& site, std::vector<presence::PositionFix> fixes,
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
      org = o->id;
    }
  }
  if (!org) {
    SubmitResult out;
    out.rejected = fixes.size();
    out.rejections.push_back(
        ingest::Rejection{"unknown_org", "topic", "no organization " + org_code});
    std::lock_guard lock(m.stats_mu);
    m.received += fixes.size();
    m.rejected["unknown_org"] += fixes.size();
    return out;
  }
  return Submit(*org, site, std::move(fixes), wait);
}

void PresenceService::CountRejected(const std::vector<ingest::Rejection>& rejections) {
  if (rejections.empty()) return;
  std::lock_guard lock(impl_->stats_mu);
  for (const auto& r : rejections) ++impl_->rejected[r.reason.empty() ? "bad" : r.reason];
}

// --- configuration ---------------------------------------------------------------------------

Result<presence::Tag> PresenceService::PutTag(core::OrgId org, presence::Tag tag,
                                              std::int64_t expected_version, const Actor& actor) {
  Impl& m = *impl_;
  tag.org = org;
  const Json doc = Document(presence::ToJson(tag));
  WG_ASSIGN_OR_RETURN(presence::Tag checked, presence::ParseTag(org, doc));
  WG_RETURN_IF_ERROR(m.CheckSite(org, checked.site));
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(doc));
  store::PresenceObjectRow row;
  row.org_id = org;
  row.kind = "tag";
  row.id = checked.id;
  row.site = checked.site;
  row.document = core::DumpJson(doc);
  WG_ASSIGN_OR_RETURN(
      store::PresenceObjectRow saved,
      m.store.PutPresenceObject(row, expected_version,
                                {store::FactDraft{.kind = "tag.configured",
                                                  .actor = actor.name,
                                                  .subject = "tag:" + checked.id,
                                                  .site = checked.site,
                                                  .payload = std::move(body)}}));
  checked.version = saved.version;
  {
    std::lock_guard lock(m.engine_mu);
    WG_RETURN_IF_ERROR(m.engine.UpsertTag(checked).status());
  }
  // A revived tag keeps its binding history.
  WG_RETURN_IF_ERROR(m.ReloadBindings(org, checked.id));
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  return checked;
}

Status PresenceService::DeleteTag(core::OrgId org, const std::string& id, const Actor& actor) {
  Impl& m = *impl_;
  WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row, m.LiveObject(org, "tag", id));
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(Json{{"id", id}, {"site", row.site}}));
  WG_RETURN_IF_ERROR(m.store.DeletePresenceObject(
      org, "tag", id,
      {store::FactDraft{.kind = "tag.deleted", .actor = actor.name, .subject = "tag:" + id,
                        .site = row.site, .payload = std::move(body)}}));
  {
    std::lock_guard lock(m.engine_mu);
    (void)m.engine.RemoveTag(org, id);
  }
  return m.ev.SyncAfterWrite(org);
}

Result<std::vector<presence::Tag>> PresenceService::ListTags(core::OrgId org) {
  WG_ASSIGN_OR_RETURN(auto rows, impl_->store.ListPresenceObjects(org, "tag"));
  std::vector<presence::Tag> out;
  for (const auto& r : rows) {
    WG_ASSIGN_OR_RETURN(presence::Tag t, Impl::TagFromRow(r));
    out.push_back(std::move(t));
  }
  return out;
}

Result<presence::Tag> PresenceService::GetTag(core::OrgId org, const std::string& id) {
  WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row, impl_->LiveObject(org, "tag", id));
  return Impl::TagFromRow(row);
}

Result<presence::Binding> PresenceService::Bind(core::OrgId org, presence::Binding binding,
                                                const Actor& actor) {
  Impl& m = *impl_;
  // An unset start means now, as in the API's bodies.
  if (binding.valid_from.micros == 0) binding.valid_from = m.clock.Now();
  // Strict validation by the parser the API's bodies go through.
  Json doc = {{"person", binding.person.Key()},
              {"valid_from", core::FormatTimestamp(binding.valid_from)},
              {"note", binding.note}};
  if (binding.valid_until) doc["valid_until"] = core::FormatTimestamp(*binding.valid_until);
  WG_ASSIGN_OR_RETURN(presence::Binding checked,
                      presence::ParseBinding(binding.tag, doc, m.clock.Now()));
  auto tag = m.LiveObject(org, "tag", checked.tag);
  if (!tag.ok()) {
    if (tag.error().code() != core::StatusCode::kNotFound) return tag.error();
    return Status::InvalidArgument("no tag '" + checked.tag + "' in this organization", "tag");
  }
  WG_RETURN_IF_ERROR(m.CheckPerson(org, checked.person, "person"));
  Json payload = {{"tag", checked.tag},
                  {"person", checked.person.Key()},
                  {"valid_from", core::FormatTimestamp(checked.valid_from)},
                  {"note", checked.note}};
  if (checked.valid_until) payload["valid_until"] = core::FormatTimestamp(*checked.valid_until);
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(payload));
  store::TagBindingRow row;
  row.org_id = org;
  row.tag = checked.tag;
  row.person = checked.person.Key();
  row.valid_from = checked.valid_from;
  row.valid_until = checked.valid_until;
  row.note = checked.note;
  WG_ASSIGN_OR_RETURN(
      store::TagBindingRow saved,
      m.store.AddTagBinding(row, {store::FactDraft{.kind = "tag.bound",
                                                   .actor = actor.name,
                                                   .subject = "tag:" + checked.tag,
                                                   .site = tag->site,
                                                   .payload = std::move(body)}}));
  checked.id = saved.id;
  WG_RETURN_IF_ERROR(m.ReloadBindings(org, checked.tag));
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  return checked;
}

Result<presence::Binding> PresenceService::Unbind(core::OrgId org, std::int64_t binding_id,
                                                  Timestamp until, const Actor& actor) {
  Impl& m = *impl_;
  WG_ASSIGN_OR_RETURN(auto all, m.store.ListTagBindings(org, ""));
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const store::TagBindingRow& r) { return r.id == binding_id; });
  if (it == all.end()) {
    return Status::NotFound("no binding " + std::to_string(binding_id), "binding");
  }
  std::string site;
  if (auto tag = m.LiveObject(org, "tag", it->tag); tag.ok()) site = tag->site;
  WG_ASSIGN_OR_RETURN(std::string body,
                      Canonical(Json{{"binding", binding_id},
                                     {"tag", it->tag},
                                     {"person", it->person},
                                     {"valid_until", core::FormatTimestamp(until)}}));
  WG_ASSIGN_OR_RETURN(store::TagBindingRow ended,
                      m.store.EndTagBinding(org, binding_id, until,
                                            {store::FactDraft{.kind = "tag.unbound",
                                                              .actor = actor.name,
                                                              .subject = "tag:" + it->tag,
                                                              .site = site,
                                                              .payload = std::move(body)}}));
  WG_RETURN_IF_ERROR(m.ReloadBindings(org, ended.tag));
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  return Impl::BindingFromRow(ended);
}

Result<std::vector<presence::Binding>> PresenceService::ListBindings(core::OrgId org,
                                                                     const std::string& tag) {
  WG_ASSIGN_OR_RETURN(auto rows, impl_->store.ListTagBindings(org, tag));
  std::vector<presence::Binding> out;
  for (const auto& r : rows) {
    WG_ASSIGN_OR_RETURN(presence::Binding b, Impl::BindingFromRow(r));
    out.push_back(std::move(b));
  }
  return out;
}

Result<presence::Fence> PresenceService::PutFence(core::OrgId org, presence::Fence fence,
                                                  std::int64_t expected_version,
                                                  const Actor& actor) {
  Impl& m = *impl_;
  fence.org = org;
  const Json doc = Document(presence::ToJson(fence));
  WG_ASSIGN_OR_RETURN(presence::Fence checked, presence::ParseFence(org, doc));
  WG_RETURN_IF_ERROR(presence::ValidateArea(checked.area, "area"));
  WG_RETURN_IF_ERROR(m.CheckSite(org, checked.site));
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(doc));
  store::PresenceObjectRow row;
  row.org_id = org;
  row.kind = "fence";
  row.id = checked.id;
  row.site = checked.site;
  row.document = core::DumpJson(doc);
  WG_ASSIGN_OR_RETURN(
      store::PresenceObjectRow saved,
      m.store.PutPresenceObject(row, expected_version,
                                {store::FactDraft{.kind = "fence.configured",
                                                  .actor = actor.name,
                                                  .subject = "fence:" + checked.id,
                                                  .site = checked.site,
                                                  .payload = std::move(body)}}));
  checked.version = saved.version;
  {
    std::lock_guard lock(m.engine_mu);
    WG_RETURN_IF_ERROR(m.engine.UpsertFence(checked));
  }
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  return checked;
}

Status PresenceService::DeleteFence(core::OrgId org, const std::string& id, const Actor& actor) {
  Impl& m = *impl_;
  WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row, m.LiveObject(org, "fence", id));
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(Json{{"id", id}, {"site", row.site}}));
  WG_RETURN_IF_ERROR(m.store.DeletePresenceObject(
      org, "fence", id,
      {store::FactDraft{.kind = "fence.deleted", .actor = actor.name, .subject = "fence:" + id,
                        .site = row.site, .payload = std::move(body)}}));
  {
    std::lock_guard lock(m.apply_mu);
    std::lock_guard elock(m.engine_mu);
    (void)m.engine.RemoveFence(org, id);
  }
  return m.ev.SyncAfterWrite(org);
}

Result<std::vector<presence::Fence>> PresenceService::ListFences(core::OrgId org) {
  WG_ASSIGN_OR_RETURN(auto rows, impl_->store.ListPresenceObjects(org, "fence"));
  std::vector<presence::Fence> out;
  for (const auto& r : rows) {
    WG_ASSIGN_OR_RETURN(presence::Fence f, Impl::FenceFromRow(r));
    out.push_back(std::move(f));
  }
  return out;
}

Result<presence::Fence> PresenceService::GetFence(core::OrgId org, const std::string& id) {
  WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row,
                      impl_->LiveObject(org, "fence", id));
  return Impl::FenceFromRow(row);
}

Result<presence::SiteFrame> PresenceService::PutSiteFrame(core::OrgId org, const std::string& site,
                                                          presence::SiteFrame frame,
                                                          const Actor& actor) {
  Impl& m = *impl_;
  const Json doc = presence::ToJson(frame);
  WG_ASSIGN_OR_RETURN(presence::SiteFrame checked, presence::ParseSiteFrame(doc));
  WG_RETURN_IF_ERROR(m.CheckSite(org, site));
  std::int64_t version = 0;
  if (auto existing = m.LiveObject(org, "site_frame", site); existing.ok()) {
    version = existing->version;
  } else if (existing.error().code() != core::StatusCode::kNotFound) {
    return existing.error();
  }
  Json payload = doc;
  payload["site"] = site;
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(payload));
  store::PresenceObjectRow row;
  row.org_id = org;
  row.kind = "site_frame";
  row.id = site;
  row.site = site;
  row.document = core::DumpJson(doc);
  WG_RETURN_IF_ERROR(m.store
                         .PutPresenceObject(row, version,
                                            {store::FactDraft{.kind = "site_frame.configured",
                                                              .actor = actor.name,
                                                              .subject = "site:" + site,
                                                              .site = site,
                                                              .payload = std::move(body)}})
                         .status());
  {
    std::lock_guard lock(m.engine_mu);
    m.engine.SetSiteFrame(org, site, checked);
  }
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  return checked;
}

Result<presence::SiteFrame> PresenceService::GetSiteFrame(core::OrgId org,
                                                          const std::string& site) {
  WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row,
                      impl_->LiveObject(org, "site_frame", site));
  return Impl::FrameFromRow(row);
}

// --- confined-space register -------------------------------------------------------------------

Status PresenceService::RegisterEntry(core::OrgId org, std::int64_t permit_id,
                                      const presence::PersonRef& person, bool entering,
                                      std::vector<std::string> tools, const Actor& actor) {
  Impl& m = *impl_;
  if (tools.size() > kMaxTools) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxTools) + " tools", "tools");
  }
  for (std::size_t i = 0; i < tools.size(); ++i) {
    if (tools[i].empty() || tools[i].size() > kMaxToolBytes) {
      return Status::InvalidArgument("a tool is 1.." + std::to_string(kMaxToolBytes) + " bytes",
                                     "tools[" + std::to_string(i) + "]");
    }
  }
  if (person.empty()) return Status::InvalidArgument("is required", "person");
  WG_RETURN_IF_ERROR(presence::ParsePersonRef(person.Key(), "person").status());
  WG_ASSIGN_OR_RETURN(store::PermitRow row, m.store.GetPermit(org, permit_id));
  if (row.state != "active" && row.state != "suspended") {
    return Status::FailedPrecondition("permit " + row.number + " is " + row.state +
                                      ": people enter only while it is at work",
                                      "permit");
  }
  if (!m.HasRegister(row.type)) {
    return Status::FailedPrecondition(
        "permit " + row.number + " (" + row.type + ") keeps no confined-space register", "permit");
  }
  WG_RETURN_IF_ERROR(m.CheckPerson(org, person, "person"));
  Status entered = Status::Ok();
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::lock_guard apply(m.apply_mu);
      presence::Output out;
      {
        std::lock_guard lock(m.engine_mu);
        entered =
            m.engine.ManualEntry(org, row.number, person, entering, tools, m.clock.Now(), out);
      }
      if (entered.ok()) return m.Apply(out, actor.name);
      if (!out.empty()) (void)m.Apply(out);
    }
    // A permit activated since the last refresh: refresh once and retry.
    if (entered.code() != core::StatusCode::kNotFound || attempt > 0) break;
    WG_RETURN_IF_ERROR(Refresh());
  }
  if (entered.code() == core::StatusCode::kInvalidArgument) {
    return Status::FailedPrecondition(entered.message(), "permit");
  }
  return entered;
}

Result<Json> PresenceService::Register(core::OrgId org, std::int64_t permit_id) {
  Impl& m = *impl_;
  WG_ASSIGN_OR_RETURN(store::PermitRow row, m.store.GetPermit(org, permit_id));
  WG_ASSIGN_OR_RETURN(auto records, m.ReadRegister(org, row.number));
  std::map<std::string, std::string> names;
  Json entries = Json::array();
  for (const auto& r : records) {
    Json e = {{"time", core::FormatTimestamp(r.time)},
              {"direction", r.entering ? "in" : "out"},
              {"person", r.person},
              {"tag", r.tag},
              {"source", r.source},
              {"tools", StringList(r.tools)}};
    if (!r.person.empty()) {
      if (std::string n = m.NameOf(org, r.person, names); !n.empty()) e["name"] = n;
    }
    entries.push_back(std::move(e));
  }
  std::vector<presence::Occupant> occupants;
  std::map<std::string, int> tools;
  bool live = false;
  {
    std::lock_guard lock(m.life_mu);
    live = m.started;
  }
  if (live) {
    std::lock_guard lock(m.engine_mu);
    occupants = m.engine.Occupants(org, row.number);
    tools = m.engine.ToolsInside(org, row.number);
  } else {
    Replay(records, occupants, tools);
  }
  Json inside = Json::array();
  for (const auto& o : occupants) {
    Json j = {{"person", o.person.empty() ? std::string() : o.person.Key()},
              {"tag", o.tag},
              {"since", core::FormatTimestamp(o.since)},
              {"source", o.source},
              {"tools", StringList(o.tools)}};
    if (!o.person.empty()) {
      if (std::string n = m.NameOf(org, o.person.Key(), names); !n.empty()) j["name"] = n;
    }
    inside.push_back(std::move(j));
  }
  Json tools_inside = Json::object();
  for (const auto& [t, n] : tools) tools_inside[t] = n;
  return Json{{"permit", row.id},
              {"number", row.number},
              {"entries", std::move(entries)},
              {"inside", std::move(inside)},
              {"tools_inside", std::move(tools_inside)},
              {"headcount", occupants.size()}};
}

Result<std::string> PresenceService::RegisterCsv(core::OrgId org, std::int64_t permit_id) {
  WG_ASSIGN_OR_RETURN(Json reg, Register(org, permit_id));
  std::string out = "\xEF\xBB\xBF";
  out += "time,direction,person,name,tag,source,tools\r\n";
  for (const auto& e : reg["entries"]) {
    std::vector<std::string> tools;
    for (const auto& t : e["tools"]) tools.push_back(t.get<std::string>());
    const std::vector<std::string> fields = {
        e["time"].get<std::string>(),   e["direction"].get<std::string>(),
        e["person"].get<std::string>(), e.value("name", std::string()),
        e["tag"].get<std::string>(),    e["source"].get<std::string>(),
        Join(tools, ";")};
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += ',';
      out += CsvField(fields[i]);
    }
    out += "\r\n";
  }
  return out;
}

// --- queries -------------------------------------------------------------------------------

Result<std::vector<presence::TagState>> PresenceService::Positions(core::OrgId org,
                                                                   const std::string& site) {
  Impl& m = *impl_;
  std::lock_guard lock(m.engine_mu);
  return m.engine.Positions(org, site, m.clock.Now());
}

Result<TrajectoryAnswer> PresenceService::Trajectory(core::OrgId org, const std::string& tag,
                                                     Timestamp from, Timestamp to) {
  Impl& m = *impl_;
  if (to.micros <= from.micros) return Status::InvalidArgument("must be after from", "to");
  TrajectoryAnswer out;
  out.tag = tag;
  WG_ASSIGN_OR_RETURN(auto blocks, m.store.TrajectoryBlocks(org, tag, MinuteOf(from), to, 10000));
  std::vector<presence::TrackPoint> pending;
  {
    std::lock_guard lock(m.engine_mu);
    pending = m.sealer.Pending(org, tag, from, to);
  }
  WG_RETURN_IF_ERROR(internal::CollectSealed(
      blocks, from, to,
      [](const std::string& data) { return presence::DecodeTrajectory(data); },
      [](const presence::DecodedTrajectory& d) -> const std::vector<presence::TrackPoint>& {
        return d.points;
      },
      std::move(pending), out.points, out.blocks, out.unsealed));
  return out;
}

Result<Json> PresenceService::Region(core::OrgId org, presence::LatLon centre, double radius_km) {
  Impl& m = *impl_;
  if (!std::isfinite(centre.lat) || std::fabs(centre.lat) > 90) {
    return Status::InvalidArgument("latitude must be a finite number of degrees in [-90, 90]",
                                   "lat");
  }
  if (!std::isfinite(centre.lon) || std::fabs(centre.lon) > 180) {
    return Status::InvalidArgument("longitude must be a finite number of degrees in [-180, 180]",
                                   "lon");
  }
  if (!std::isfinite(radius_km) || radius_km <= 0 || radius_km > kMaxRegionKm) {
    return Status::InvalidArgument("radius must be in (0, 20000] km", "radius_km");
  }
  WG_ASSIGN_OR_RETURN(auto sites, m.store.ListSites(org));
  WG_ASSIGN_OR_RETURN(auto frames, m.store.ListPresenceObjects(org, "site_frame"));
  std::map<std::string, presence::LatLon> origins;
  for (const auto& r : frames) {
    auto f = Impl::FrameFromRow(r);
    if (f.ok() && f->origin) origins[r.site] = *f->origin;
  }
  struct Hit {
    double km = 0;
    std::string key;
    Json j;
  };
  std::vector<Hit> site_hits, permit_hits;
  for (const auto& s : sites) {
    auto it = origins.find(s.code);
    if (it == origins.end()) continue;
    const double km = presence::HaversineMetres(centre, it->second) / 1000.0;
    if (km > radius_km) continue;
    site_hits.push_back(Hit{km, s.code,
                            Json{{"code", s.code},
                                 {"name", s.name},
                                 {"distance_km", km},
                                 {"lat", it->second.lat},
                                 {"lon", it->second.lon}}});
  }
  store::PermitFilter f;
  f.states = {"approved", "active", "suspended"};
  std::int64_t before = 0;
  for (;;) {
    WG_ASSIGN_OR_RETURN(auto rows, m.store.ListPermits(org, f, before, 1000));
    for (const auto& r : rows) {
      before = before == 0 ? r.id : std::min(before, r.id);
      auto it = origins.find(r.site);
      if (it == origins.end()) continue;
      auto p = permit::ParsePermitText(r.document, true);
      if (!p.ok()) continue;
      const presence::LatLon ll = presence::LocalFrame(it->second).ToWgs84(
          presence::Vec2{p->location.point.x, p->location.point.y});
      const double km = presence::HaversineMetres(centre, ll) / 1000.0;
      if (km > radius_km) continue;
      permit_hits.push_back(Hit{km, r.number,
                                Json{{"number", r.number},
                                     {"site", r.site},
                                     {"type", r.type},
                                     {"state", r.state},
                                     {"distance_km", km},
                                     {"lat", ll.lat},
                                     {"lon", ll.lon}}});
    }
    if (rows.size() < 1000) break;
  }
  auto nearest = [](const Hit& a, const Hit& b) {
    return a.km != b.km ? a.km < b.km : a.key < b.key;
  };
  std::sort(site_hits.begin(), site_hits.end(), nearest);
  std::sort(permit_hits.begin(), permit_hits.end(), nearest);
  Json out = {{"sites", Json::array()}, {"permits", Json::array()}};
  for (auto& h : site_hits) out["sites"].push_back(std::move(h.j));
  for (auto& h : permit_hits) out["permits"].push_back(std::move(h.j));
  return out;
}

// --- permit hooks ----------------------------------------------------------------------------

std::optional<std::pair<permit::Point, Timestamp>> PresenceService::UserPosition(
    core::OrgId org, const std::string& site, const std::string& username) {
  Impl& m = *impl_;
  std::lock_guard lock(m.engine_mu);
  auto st = m.engine.LastPosition(
      org, presence::PersonRef{presence::PersonRef::Kind::kUser, username}, m.clock.Now());
  if (!st || !st->time || st->site != site) return std::nullopt;
  return std::make_pair(permit::Point{st->position.x, st->position.y}, *st->time);
}

std::optional<std::string> PresenceService::ResumeBlocker(core::OrgId org,
                                                         const permit::Permit& p) {
  Impl& m = *impl_;
  const auto rules = m.book.RulesOf(presence::Check::kGuardianPresence);
  if (rules.empty()) return std::nullopt;
  const presence::RuleDef& rule = *rules.front();
  const presence::Area fence = m.WorkFence(p, false);
  const presence::Vec2 point{p.location.point.x, p.location.point.y};
  const Timestamp now = m.clock.Now();
  bool monitored = false;
  std::vector<std::string> away;
  std::lock_guard lock(m.engine_mu);
  for (const auto& person : p.people) {
    if (person.role != "guardian") continue;
    presence::PersonRef ref;
    if (!person.worker_code.empty()) {
      ref = {presence::PersonRef::Kind::kWorker, person.worker_code};
    } else if (!person.username.empty()) {
      ref = {presence::PersonRef::Kind::kUser, person.username};
    } else {
      continue;
    }
    auto st = m.engine.LastPosition(org, ref, now);
    if (!st || !st->time) continue;  // no tag position: not monitored (unknown is not absence)
    monitored = true;
    const bool fresh = st->site == p.site && now - *st->time <= rule.stale_after;
    const presence::Vec2 at{st->position.x, st->position.y};
    const bool near = presence::Contains(fence, at) ||
                      std::hypot(at.x - point.x, at.y - point.y) <= rule.max_distance_m;
    if (fresh && near) return std::nullopt;  // one guardian on site is enough
    away.push_back(ref.Key());
  }
  if (!monitored) return std::nullopt;
  return "no guardian is at the work site (" + Join(away, ", ") + "; " + rule.id + ", " +
         rule.clause + ")";
}

std::optional<permit::Violation> PresenceService::CompletionBlocker(core::OrgId org,
                                                                    const permit::Permit& p) {
  Impl& m = *impl_;
  const presence::RuleDef* rule = m.CompletionRule(permit::PermitTypeCode(p.type));
  if (rule == nullptr) return std::nullopt;
  std::vector<presence::Occupant> occupants;
  std::map<std::string, int> tools;
  bool live = false;
  {
    std::lock_guard lock(m.life_mu);
    live = m.started;
  }
  if (live) {
    std::lock_guard lock(m.engine_mu);
    occupants = m.engine.Occupants(org, p.number);
    tools = m.engine.ToolsInside(org, p.number);
  } else {
    // Not started (a CLI process): the register from its facts.
    auto records = m.ReadRegister(org, p.number);
    if (records.ok()) Replay(*records, occupants, tools);
  }
  if (occupants.empty() && tools.empty()) return std::nullopt;
  std::map<std::string, std::string> names;
  std::vector<std::string> who;
  for (const auto& o : occupants) {
    std::string key = OccupantKey(o.person, o.tag);
    std::string name = o.person.empty() ? std::string() : m.NameOf(org, key, names);
    who.push_back(name.empty() ? key : key + " " + name);
  }
  std::vector<std::string> what;
  for (const auto& [t, n] : tools) what.push_back(t + " x" + std::to_string(n));
  permit::Violation v;
  v.rule = rule->id;
  v.clause = rule->clause;
  v.severity = permit::Severity::kBlock;
  v.field = "";
  v.message = "permit " + p.number + " cannot be completed while the confined space is not clear";
  v.message_zh = "受限空间作业票 " + p.number + " 内仍有人员或工具未撤出，不能完工";
  if (!who.empty()) {
    v.message += ": " + std::to_string(who.size()) + " person(s) still inside (" + Join(who, ", ") +
                 ")";
    v.message_zh += "：仍有 " + std::to_string(who.size()) + " 人在内（" + Join(who, "、") + "）";
  }
  if (!what.empty()) {
    v.message += (who.empty() ? ": " : "; ") + std::string("tools still inside: ") +
                 Join(what, ", ");
    v.message_zh += (who.empty() ? "：" : "；") + std::string("工具未带出：") + Join(what, "、");
  }
  return v;
}

// Reads the open permits (active and suspended: approved permits are not at work yet) from
// the store and hands each organization's set to the engine when it changed. The server
// calls it every second (like MonitorService::Refresh); the presence thread does not, so a
// CLI process or a test decides when permits are re-read.
Status PresenceService::Refresh() {
  Impl& m = *impl_;
  std::lock_guard refresh(m.refresh_mu);
  std::vector<store::PermitRow> rows;
  WG_RETURN_IF_ERROR(m.store.ScanPermits({"active", "suspended"}, [&](const store::PermitRow& r) {
    rows.push_back(r);
    return true;
  }));
  const Timestamp now = m.clock.Now();
  std::map<std::int64_t, std::vector<presence::PermitContext>> by_org;
  std::map<std::pair<std::int64_t, std::int64_t>, Impl::Seen> next;
  std::uint64_t count = 0;
  for (const auto& r : rows) {
    auto p = permit::ParsePermitText(r.document, true);
    if (!p.ok()) {
      spdlog::warn("presence: permit {} does not parse: {}", r.number, p.error().ToString());
      continue;
    }
    by_org[r.org_id.value].push_back(m.ContextOf(r, *p, now, next));
    ++count;
  }
  m.seen = std::move(next);
  for (const auto& [org, ctxs] : m.contexts) by_org.try_emplace(org);
  std::lock_guard apply(m.apply_mu);
  presence::Output out;
  {
    std::lock_guard lock(m.engine_mu);
    for (auto& [org, ctxs] : by_org) {
      auto it = m.contexts.find(org);
      if (it != m.contexts.end() && SameContexts(it->second, ctxs)) continue;
      m.engine.SetPermits(core::OrgId{org}, ctxs, now, out);
      if (ctxs.empty()) {
        m.contexts.erase(org);
      } else {
        m.contexts[org] = std::move(ctxs);
      }
    }
  }
  m.permit_count = count;
  return m.Apply(out);
}

// --- observation ---------------------------------------------------------------------------

PresenceStats PresenceService::Stats() const {
  const Impl& m = *impl_;
  PresenceStats s;
  {
    std::lock_guard lock(m.stats_mu);
    s.received = m.received;
    s.accepted = m.accepted;
    s.rejected = m.rejected;
    s.dropped = m.dropped;
    s.events = m.events;
    s.alarms_raised = m.alarms_raised;
    s.blocks_sealed = m.blocks_sealed;
    s.persist_errors = m.persist_errors;
  }
  {
    std::lock_guard lock(m.q_mu);
    s.queue_depth = m.queue.size();
  }
  s.queue_capacity = m.opt.queue_capacity;
  {
    std::lock_guard lock(m.engine_mu);
    s.tags = m.engine.tag_count();
    s.fences = m.engine.fence_count();
  }
  s.permits = m.permit_count.load();
  return s;
}

Status PresenceService::Flush(Duration timeout) {
  Impl& m = *impl_;
  if (!m.threads) {
    Pump();
    return Status::Ok();
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.micros);
  std::unique_lock lock(m.q_mu);
  const std::uint64_t target = m.enqueued;
  m.q_not_empty.notify_one();
  // Processing includes the register facts and their evidence sync (ProcessBatch).
  if (!m.q_processed.wait_until(lock, deadline, [&] { return m.processed >= target; })) {
    return Status::Unavailable("the presence service has not processed the fixes in time");
  }
  return Status::Ok();
}

void PresenceService::Pump() { impl_->PumpAll(); }

}  // namespace wg::live

// --- site plans -------------------------------------------------------------------------

namespace wg::live {

namespace {

// A fact payload is at most 1 MiB (the store's limit); say so naming the plan rather than
// failing in the store.
constexpr std::size_t kMaxPlanFactBytes = 1u << 20;

}  // namespace

core::Result<presence::SitePlan> PresenceService::PutSitePlan(core::OrgId org,
                                                              const std::string& site,
                                                              presence::SitePlan plan,
                                                              std::int64_t expected_version,
                                                              const Actor& actor) {
  Impl& m = *impl_;
  if (expected_version < 0) return Status::InvalidArgument("must be >= 0", "version");
  // The stored form is the canonical document; parsing it back validates a plan built in
  // code the same way as one read from a request.
  const Json doc = presence::ToJson(plan);
  WG_ASSIGN_OR_RETURN(presence::SitePlan checked, presence::ParseSitePlan(doc));
  WG_RETURN_IF_ERROR(m.CheckSite(org, site, /*as_resource=*/true));
  Json payload = doc;
  payload["site"] = site;
  WG_ASSIGN_OR_RETURN(std::string body, Canonical(payload));
  if (body.size() > kMaxPlanFactBytes) {
    return Status::InvalidArgument("the plan is larger than 1 MiB as a fact; draw fewer points "
                                   "or features",
                                   "plan");
  }
  store::PresenceObjectRow row;
  row.org_id = org;
  row.kind = "site_plan";
  row.id = site;
  row.site = site;
  row.document = core::DumpJson(doc);
  WG_RETURN_IF_ERROR(m.store
                         .PutPresenceObject(row, expected_version,
                                            {store::FactDraft{.kind = "site_plan.configured",
                                                              .actor = actor.name,
                                                              .subject = "site:" + site,
                                                              .site = site,
                                                              .payload = std::move(body)}})
                         .status());
  WG_RETURN_IF_ERROR(m.ev.SyncAfterWrite(org));
  return checked;
}

core::Result<std::pair<presence::SitePlan, std::int64_t>> PresenceService::GetSitePlan(
    core::OrgId org, const std::string& site) {
  WG_ASSIGN_OR_RETURN(store::PresenceObjectRow row,
                      impl_->LiveObject(org, "site_plan", site));
  WG_ASSIGN_OR_RETURN(Json doc, core::ParseJson(row.document));
  auto plan = presence::ParseSitePlan(doc);
  if (!plan.ok()) {
    return Status::Corruption("stored site plan " + row.id +
                              " does not parse: " + plan.error().ToString());
  }
  return std::pair<presence::SitePlan, std::int64_t>(std::move(*plan), row.version);
}

}  // namespace wg::live

// People-on-site routes (docs/api.md#people-on-site): tags and their bindings to people,
// zone fences, site frames, HTTP position batches, live positions and trajectories, the
// confined-space register (with its CSV export), the regional query and the service's
// counters. Handlers parse and validate, call live::PresenceService with the caller's
// organization and render; the engine and the rulebook decide what a position means.
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "service.h"
#include "wg/core/http_error.h"
#include "wg/core/strings.h"
#include "wg/ingest/decode.h"
#include "wg/live/presence_service.h"
#include "wg/presence/engine.h"
#include "wg/presence/geo.h"
#include "wg/presence/model.h"

namespace wg::api {

using core::Json;
using core::Result;
using core::Status;

namespace {

// How long POST /api/v1/sites/{id}/positions waits for room in the intake queue before
// answering 503 (the client still holds the fixes and resends them).
constexpr core::Duration kSubmitWait = core::Duration::Seconds(1);
// GET /api/v1/tags/{id}/trajectory: the widest window, and the default one.
constexpr core::Duration kMaxTrajectoryWindow = core::Duration::Hours(24);
constexpr core::Duration kDefaultTrajectoryWindow = core::Duration::Hours(1);
// The confined-space register: tools declared on one entry or exit, and their names.
constexpr std::size_t kMaxRegisterTools = 32;
constexpr std::size_t kMaxToolChars = 64;
// GET /api/v1/region: the largest radius. A regional view of one operator's sites; a
// wider circle is a mistake (degrees for kilometres), not a query.
constexpr double kMaxRegionRadiusKm = 1000;

// A site code in a query parameter: [A-Za-z0-9._-]{1,64}.
Status CheckCode(std::string_view v, std::string_view field) {
  if (!presence::ValidId(v)) {
    return Status::InvalidArgument("must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
                                   std::string(field));
  }
  return Status::Ok();
}

// The optional ?site= filter.
Result<std::string> SiteFilter(const httplib::Request& req) {
  const std::string* v = Query(req, "site");
  if (v == nullptr) return std::string();
  WG_RETURN_IF_ERROR(CheckCode(*v, "site"));
  return *v;
}

// A required decimal query parameter in [min, max] (finite; `open_min` excludes min).
// `range` spells the interval for the message.
Result<double> QueryNumber(const httplib::Request& req, const std::string& name, double min,
                           double max, std::string_view range, bool open_min = false) {
  const std::string* v = Query(req, name);
  if (v == nullptr || v->empty()) return Status::InvalidArgument("is required", name);
  double d = 0;
  const char* first = v->data();
  const char* last = v->data() + v->size();
  const auto [end, ec] = std::from_chars(first, last, d);
  if (ec != std::errc() || end != last || !std::isfinite(d)) {
    return Status::InvalidArgument("must be a decimal number", name);
  }
  if (d < min || d > max || (open_min && d == min)) {
    return Status::InvalidArgument("must be within " + std::string(range), name);
  }
  return d;
}

// The site code of the path must be one of the organization's sites (another
// organization's is 404, like any record).
Status OwnSite(store::Store& db, core::OrgId org, const std::string& code) {
  WG_ASSIGN_OR_RETURN(auto sites, db.ListSites(org));
  for (const auto& s : sites) {
    if (s.code == code) return Status::Ok();
  }
  return Status::NotFound("no site " + code + " in this organization", "id");
}

Json OrNull(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

// A tag's live position (docs/api.md#people-on-site).
Json TagStateJson(const presence::TagState& s) {
  Json fences = Json::array();
  for (const auto& f : s.fences) fences.push_back(f);
  return Json{{"tag", s.tag},
              {"kind", std::string(presence::TagKindName(s.kind))},
              {"person", s.person.empty() ? Json(nullptr) : Json(s.person.Key())},
              {"site", s.site},
              {"x", s.position.x},
              {"y", s.position.y},
              {"z", s.has_z ? Json(s.position.z) : Json(nullptr)},
              {"lat", s.wgs84 ? Json(s.wgs84->lat) : Json(nullptr)},
              {"lon", s.wgs84 ? Json(s.wgs84->lon) : Json(nullptr)},
              {"time", s.time ? Json(core::FormatTimestamp(*s.time)) : Json(nullptr)},
              {"accuracy", OrNull(s.accuracy_m)},
              {"stale", s.stale},
              {"fences", std::move(fences)}};
}

Json StatsJson(const live::PresenceStats& s) {
  Json rejected = Json::object();
  for (const auto& [reason, n] : s.rejected) rejected[reason] = n;
  return Json{{"received", s.received},
              {"accepted", s.accepted},
              {"rejected", std::move(rejected)},
              {"dropped", s.dropped},
              {"queue_depth", s.queue_depth},
              {"queue_capacity", s.queue_capacity},
              {"events", s.events},
              {"alarms_raised", s.alarms_raised},
              {"blocks_sealed", s.blocks_sealed},
              {"persist_errors", s.persist_errors},
              {"tags", s.tags},
              {"fences", s.fences},
              {"permits", s.permits}};
}

// Reads "version" (0 or absent: create) out of a configuration document and makes its
// "id" the path's: a body naming another id is refused, a missing one is filled in.
Result<std::int64_t> TakeVersionAndId(Json& doc, const std::string& key, std::string_view what) {
  WG_ASSIGN_OR_RETURN(auto version, core::GetOptionalInt(doc, "version", 0,
                                                         std::numeric_limits<std::int64_t>::max()));
  doc.erase("version");
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!it->is_string() || it->get<std::string>() != key) {
      return Status::InvalidArgument(
          "must be the " + std::string(what) + " id of the path, or left out", "id");
    }
  } else {
    doc["id"] = key;
  }
  return version.value_or(0);
}

}  // namespace

Result<live::PresenceService*> ApiService::Presence() const {
  if (presence_ == nullptr) {
    return Status::Unavailable("people on site is not enabled on this server");
  }
  return presence_;
}

// --- tags --------------------------------------------------------------------------------

Result<Reply> ApiService::ListTags(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"site"}));
  WG_ASSIGN_OR_RETURN(std::string site, SiteFilter(c.http));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(auto tags, svc->ListTags(c.session->org_id));
  Json list = Json::array();
  for (const auto& t : tags) {
    if (site.empty() || t.site == site) list.push_back(presence::ToJson(t));
  }
  return Reply::Json(200, {{"tags", std::move(list)}});
}

// The tag, its bindings (history, oldest first as the service keeps them) and its last
// accepted position (null when it has none).
Result<Reply> ApiService::GetTag(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(presence::Tag tag, svc->GetTag(c.session->org_id, c.key));
  WG_ASSIGN_OR_RETURN(auto bindings, svc->ListBindings(c.session->org_id, c.key));
  WG_ASSIGN_OR_RETURN(auto positions, svc->Positions(c.session->org_id, tag.site));
  Json position = nullptr;
  for (const auto& s : positions) {
    if (s.tag == tag.id) position = TagStateJson(s);
  }
  Json list = Json::array();
  for (const auto& b : bindings) list.push_back(presence::ToJson(b));
  return Reply::Json(200, {{"tag", presence::ToJson(tag)},
                           {"bindings", std::move(list)},
                           {"position", std::move(position)}});
}

// The body is the tag document (docs/formats/presence.md) plus "version", as for
// PUT /api/v1/points/{id}: 0 or absent creates, a stale version is 409.
Result<Reply> ApiService::PutTag(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  Json doc = *c.body;
  WG_ASSIGN_OR_RETURN(const std::int64_t expected, TakeVersionAndId(doc, c.key, "tag"));
  WG_ASSIGN_OR_RETURN(presence::Tag tag, presence::ParseTag(c.session->org_id, doc));
  tag.org = c.session->org_id;
  WG_ASSIGN_OR_RETURN(presence::Tag saved,
                      svc->PutTag(c.session->org_id, std::move(tag), expected, MonitorActor(c)));
  return Reply::Json(expected == 0 ? 201 : 200, {{"tag", presence::ToJson(saved)}});
}

Result<Reply> ApiService::DeleteTag(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_RETURN_IF_ERROR(svc->DeleteTag(c.session->org_id, c.key, MonitorActor(c)));
  return Reply{204, std::string(), "application/json"};
}

// --- bindings ----------------------------------------------------------------------------

Result<Reply> ApiService::ListTagBindings(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  // Another organization's tag is 404, not an empty list.
  WG_RETURN_IF_ERROR(svc->GetTag(c.session->org_id, c.key).status());
  WG_ASSIGN_OR_RETURN(auto bindings, svc->ListBindings(c.session->org_id, c.key));
  Json list = Json::array();
  for (const auto& b : bindings) list.push_back(presence::ToJson(b));
  return Reply::Json(200, {{"tag", c.key}, {"bindings", std::move(list)}});
}

// {"person": "worker:W001" | "user:<username>", "valid_from"?, "valid_until"?, "note"?}.
Result<Reply> ApiService::BindTag(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(presence::Binding b, presence::ParseBinding(c.key, *c.body, clock_.Now()));
  if (b.id != 0) return Status::InvalidArgument("is assigned by the server; leave it out", "id");
  WG_RETURN_IF_ERROR(svc->GetTag(c.session->org_id, c.key).status());
  WG_ASSIGN_OR_RETURN(presence::Binding saved,
                      svc->Bind(c.session->org_id, std::move(b), MonitorActor(c)));
  return Reply::Json(201, {{"binding", presence::ToJson(saved)}});
}

// {"until"?: RFC 3339, default now}: the binding ends then (exclusive).
Result<Reply> ApiService::EndBinding(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"until"}));
  WG_ASSIGN_OR_RETURN(auto text, core::GetOptionalString(b, "until", 64));
  core::Timestamp until = clock_.Now();
  if (text) {
    WG_ASSIGN_OR_RETURN(until, core::ParseTimestamp(*text, "until"));
  }
  WG_ASSIGN_OR_RETURN(presence::Binding ended,
                      svc->Unbind(c.session->org_id, c.id, until, MonitorActor(c)));
  return Reply::Json(200, {{"binding", presence::ToJson(ended)}});
}

// --- trajectory --------------------------------------------------------------------------

Result<Reply> ApiService::TagTrajectory(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"from", "to"}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  core::Timestamp to = clock_.Now();
  if (const std::string* v = Query(c.http, "to")) {
    WG_ASSIGN_OR_RETURN(to, core::ParseTimestamp(*v, "to"));
  }
  core::Timestamp from = to - kDefaultTrajectoryWindow;
  if (const std::string* v = Query(c.http, "from")) {
    WG_ASSIGN_OR_RETURN(from, core::ParseTimestamp(*v, "from"));
  }
  if (!(from < to)) return Status::InvalidArgument("must be before \"to\"", "from");
  if (to - from > kMaxTrajectoryWindow) {
    return Status::InvalidArgument("the window from \"from\" to \"to\" is at most 24 hours",
                                   "from");
  }
  // The tag must be one of the caller's (a deleted tag's sealed track stays provable
  // through the ledger, not here).
  WG_RETURN_IF_ERROR(svc->GetTag(c.session->org_id, c.key).status());
  WG_ASSIGN_OR_RETURN(live::TrajectoryAnswer a,
                      svc->Trajectory(c.session->org_id, c.key, from, to));
  Json j = live::ToJson(a);
  if (!j.is_object()) j = Json::object();
  if (!j.contains("tag")) j["tag"] = c.key;
  j["from"] = core::FormatTimestamp(from);
  j["to"] = core::FormatTimestamp(to);
  return Reply::Json(200, j);
}

// --- fences ------------------------------------------------------------------------------

Result<Reply> ApiService::ListFences(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"site"}));
  WG_ASSIGN_OR_RETURN(std::string site, SiteFilter(c.http));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(auto fences, svc->ListFences(c.session->org_id));
  Json list = Json::array();
  for (const auto& f : fences) {
    if (site.empty() || f.site == site) list.push_back(presence::ToJson(f));
  }
  return Reply::Json(200, {{"fences", std::move(list)}});
}

Result<Reply> ApiService::GetFence(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(presence::Fence f, svc->GetFence(c.session->org_id, c.key));
  return Reply::Json(200, {{"fence", presence::ToJson(f)}});
}

// The fence document plus "version" (compare-and-set, as for tags). A bad polygon is 400
// naming the member ("area.outer[1]", "area.holes[0]").
Result<Reply> ApiService::PutFence(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  Json doc = *c.body;
  WG_ASSIGN_OR_RETURN(const std::int64_t expected, TakeVersionAndId(doc, c.key, "fence"));
  WG_ASSIGN_OR_RETURN(presence::Fence fence, presence::ParseFence(c.session->org_id, doc));
  WG_RETURN_IF_ERROR(presence::ValidateArea(fence.area, "area"));
  fence.org = c.session->org_id;
  WG_ASSIGN_OR_RETURN(presence::Fence saved, svc->PutFence(c.session->org_id, std::move(fence),
                                                           expected, MonitorActor(c)));
  return Reply::Json(expected == 0 ? 201 : 200, {{"fence", presence::ToJson(saved)}});
}

Result<Reply> ApiService::DeleteFence(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_RETURN_IF_ERROR(svc->DeleteFence(c.session->org_id, c.key, MonitorActor(c)));
  return Reply{204, std::string(), "application/json"};
}

// --- site frames -------------------------------------------------------------------------

// The site {id} must be one of the caller's sites (another organization's is 404).
Result<Reply> ApiService::GetSiteFrame(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_RETURN_IF_ERROR(OwnSite(store_, c.session->org_id, c.key));
  // A site without a configured frame has the identity frame and no origin.
  auto f = svc->GetSiteFrame(c.session->org_id, c.key);
  if (!f.has_value() && f.error().code() != core::StatusCode::kNotFound) return f.error();
  const bool configured = f.has_value();
  const presence::SiteFrame frame = configured ? *f : presence::SiteFrame{};
  return Reply::Json(
      200, {{"site", c.key}, {"configured", configured}, {"frame", presence::ToJson(frame)}});
}

// {"origin"?: {"lat", "lon"}, "uwb"?: {"dx", "dy", "dz", "rotation_deg"}}; replaces the
// site's frame (fact site_frame.configured).
Result<Reply> ApiService::PutSiteFrame(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(presence::SiteFrame frame, presence::ParseSiteFrame(*c.body));
  WG_RETURN_IF_ERROR(OwnSite(store_, c.session->org_id, c.key));
  WG_ASSIGN_OR_RETURN(presence::SiteFrame saved,
                      svc->PutSiteFrame(c.session->org_id, c.key, frame, MonitorActor(c)));
  return Reply::Json(200,
                     {{"site", c.key}, {"configured", true}, {"frame", presence::ToJson(saved)}});
}

// --- site plans --------------------------------------------------------------------------

// {"site", "version", "plan": {...}} (docs/formats/site-plan.md); 404 when the site is not
// the caller's or has no plan yet (field "plan").
Result<Reply> ApiService::GetSitePlan(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_RETURN_IF_ERROR(OwnSite(store_, c.session->org_id, c.key));
  auto got = svc->GetSitePlan(c.session->org_id, c.key);
  if (!got.has_value()) {
    if (got.error().code() == core::StatusCode::kNotFound) {
      return Status::NotFound("site " + c.key + " has no plan yet", "plan");
    }
    return got.error();
  }
  return Reply::Json(200, {{"site", c.key},
                           {"version", got->second},
                           {"plan", presence::ToJson(got->first)}});
}

// The plan document plus "version" (compare-and-set, as for fences: 0 or absent creates,
// 201; the stored version replaces, 200; a stale one is 409). Fact site_plan.configured.
Result<Reply> ApiService::PutSitePlan(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  Json doc = *c.body;
  WG_ASSIGN_OR_RETURN(auto version, core::GetOptionalInt(doc, "version", 0,
                                                         std::numeric_limits<std::int64_t>::max()));
  doc.erase("version");
  const std::int64_t expected = version.value_or(0);
  WG_ASSIGN_OR_RETURN(presence::SitePlan plan, presence::ParseSitePlan(doc));
  WG_RETURN_IF_ERROR(OwnSite(store_, c.session->org_id, c.key));
  WG_ASSIGN_OR_RETURN(presence::SitePlan saved, svc->PutSitePlan(c.session->org_id, c.key,
                                                                 std::move(plan), expected,
                                                                 MonitorActor(c)));
  WG_ASSIGN_OR_RETURN(auto stored, svc->GetSitePlan(c.session->org_id, c.key));
  return Reply::Json(expected == 0 ? 201 : 200, {{"site", c.key},
                                                 {"version", stored.second},
                                                 {"plan", presence::ToJson(saved)}});
}

// --- positions ---------------------------------------------------------------------------

// A batch of fixes over HTTP for one site of the caller's organization, decoded like an
// MQTT message on wg/v1/<org>/<site>/positions: {"positions": [{"tag", "t", "x", "y",
// "z"?, "acc"?} | {"tag", "t", "lat", "lon", "alt"?, "acc"?}, ...]}.
Result<Reply> ApiService::PostPositions(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_RETURN_IF_ERROR(OwnSite(store_, c.session->org_id, c.key));
  ingest::DecodedPositions decoded;
  ingest::DecodePositionBatch(c.raw, decoded);
  if (!decoded.rejected.empty()) svc->CountRejected(decoded.rejected);
  // A message that could not be decoded at all (bad JSON, no "positions" array, too
  // large) is the client's error as a whole, not a list of bad fixes.
  if (decoded.fixes.empty() && decoded.rejected.size() == 1 &&
      !decoded.rejected.front().field.starts_with("positions[")) {
    const ingest::Rejection& r = decoded.rejected.front();
    const std::string field = r.field.empty() || r.field == "payload" ? "body" : r.field;
    if (r.reason == "too_large") return Status::ResourceExhausted(r.message, field);
    return Status::InvalidArgument(r.message, field);
  }

  live::PresenceService::SubmitResult submitted;
  if (!decoded.fixes.empty()) {
    auto result = svc->Submit(c.session->org_id, c.key, std::move(decoded.fixes), kSubmitWait);
    if (!result.has_value()) {
      if (result.error().code() != core::StatusCode::kResourceExhausted) return result.error();
      return QueueFullReply("position", "positions");
    }
    submitted = std::move(result).value();
  }
  return IntakeReply(submitted.queued, decoded.rejected, submitted.rejected, submitted.rejections);
}

Result<Reply> ApiService::ListPositions(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"site"}));
  WG_ASSIGN_OR_RETURN(std::string site, SiteFilter(c.http));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(auto states, svc->Positions(c.session->org_id, site));
  Json list = Json::array();
  for (const auto& s : states) list.push_back(TagStateJson(s));
  return Reply::Json(
      200, {{"positions", std::move(list)}, {"time", core::FormatTimestamp(clock_.Now())}});
}

// --- confined-space register -------------------------------------------------------------

// ?format=json (default) or csv (a download: UTF-8 with BOM, header row).
Result<Reply> ApiService::PermitRegister(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"format"}));
  std::string format = "json";
  if (const std::string* v = Query(c.http, "format")) format = *v;
  if (format != "json" && format != "csv") {
    return Status::InvalidArgument("must be json or csv", "format");
  }
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  if (format == "csv") {
    WG_ASSIGN_OR_RETURN(std::string csv, svc->RegisterCsv(c.session->org_id, c.id));
    Reply r;
    r.status = 200;
    r.body = std::move(csv);
    r.download_type = "text/csv; charset=utf-8";
    r.download_name = "permit-" + std::to_string(c.id) + "-register.csv";
    return r;
  }
  WG_ASSIGN_OR_RETURN(Json reg, svc->Register(c.session->org_id, c.id));
  return Reply::Json(200, reg);
}

// {"person": "worker:W001" | "user:<username>", "direction": "in" | "out",
//  "tools"?: ["gas detector", ...]}: a manual entry or exit (the guardian's phone, for
// people without a tag). Answers the register as it now stands.
Result<Reply> ApiService::PermitRegisterEntry(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"person", "direction", "tools"}));
  WG_ASSIGN_OR_RETURN(std::string person_text, core::GetString(b, "person", 80));
  WG_ASSIGN_OR_RETURN(presence::PersonRef person, presence::ParsePersonRef(person_text, "person"));
  WG_ASSIGN_OR_RETURN(std::string direction, core::GetString(b, "direction", 8));
  if (direction != "in" && direction != "out") {
    return Status::InvalidArgument("must be \"in\" or \"out\"", "direction");
  }
  std::vector<std::string> tools;
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) return Status::InvalidArgument("expected an array of strings", "tools");
    if (it->size() > kMaxRegisterTools) {
      return Status::InvalidArgument(
          "at most " + std::to_string(kMaxRegisterTools) + " tools an entry", "tools");
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string field = "tools[" + std::to_string(i) + "]";
      const Json& t = (*it)[i];
      if (!t.is_string()) return Status::InvalidArgument("expected a string", field);
      const auto& name = t.get_ref<const std::string&>();
      WG_RETURN_IF_ERROR(core::CheckText(name, field, kMaxToolChars));
      tools.push_back(name);
    }
  }
  WG_RETURN_IF_ERROR(svc->RegisterEntry(c.session->org_id, c.id, person, direction == "in",
                                        std::move(tools), MonitorActor(c)));
  WG_ASSIGN_OR_RETURN(Json reg, svc->Register(c.session->org_id, c.id));
  return Reply::Json(200, reg);
}

// --- region ------------------------------------------------------------------------------

// ?lat=&lon=&radius_km=: the caller's sites (with a WGS-84 origin) and open permits
// within the circle, nearest first.
Result<Reply> ApiService::Region(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"lat", "lon", "radius_km"}));
  WG_ASSIGN_OR_RETURN(const double lat, QueryNumber(c.http, "lat", -90, 90, "[-90, 90] degrees"));
  WG_ASSIGN_OR_RETURN(const double lon,
                      QueryNumber(c.http, "lon", -180, 180, "[-180, 180] degrees"));
  WG_ASSIGN_OR_RETURN(const double radius, QueryNumber(c.http, "radius_km", 0, kMaxRegionRadiusKm,
                                                       "(0, 1000] kilometres", /*open_min=*/true));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(Json j, svc->Region(c.session->org_id, presence::LatLon{lat, lon}, radius));
  if (!j.is_object()) j = Json::object();
  j["centre"] = Json{{"lat", lat}, {"lon", lon}};
  j["radius_km"] = radius;
  return Reply::Json(200, j);
}

// --- status ------------------------------------------------------------------------------

// The service's counters (installation-wide, the figures /metrics serves) and the
// caller's organization's tags and fences.
Result<Reply> ApiService::PresenceStatus(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::PresenceService * svc, Presence());
  WG_ASSIGN_OR_RETURN(auto tags, svc->ListTags(c.session->org_id));
  WG_ASSIGN_OR_RETURN(auto fences, svc->ListFences(c.session->org_id));
  return Reply::Json(200, {{"installation", StatsJson(svc->Stats())},
                           {"organization", {{"tags", tags.size()}, {"fences", fences.size()}}},
                           {"rulebook", svc->rulebook().version()}});
}

}  // namespace wg::api

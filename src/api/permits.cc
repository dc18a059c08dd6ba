// Permit routes (docs/api.md#permits): the lifecycle over HTTP. Handlers parse and
// validate, call the PermitService with the caller's organization and render; a refused
// action answers 422 with the decision that names every rule and clause.
#include <algorithm>

#include "service.h"
#include "wg/core/http_error.h"
#include "wg/core/strings.h"
#include "wg/permit/print.h"

namespace wg::api {

using core::Json;
using core::Result;
using core::Status;

namespace {

Json OutcomeJson(const permit::Outcome& o) {
  Json j = {{"applied", o.applied}, {"fact", o.fact_kind}, {"permit", permit::ToJson(o.permit)}};
  if (o.decision) j["decision"] = permit::ToJson(*o.decision);
  return j;
}

Reply OutcomeReply(const permit::Outcome& o, int ok_status = 200) {
  if (o.applied) return Reply::Json(ok_status, OutcomeJson(o));
  Json j = core::ErrorJson("BLOCKED",
                           "the rulebook blocks this action; the decision names every rule", "");
  if (o.decision) j["decision"] = permit::ToJson(*o.decision);
  j["permit"] = permit::ToJson(o.permit);
  return Reply::Json(422, j);
}

Result<std::optional<core::Timestamp>> OptionalTimeQuery(const httplib::Request& req,
                                                         const std::string& name) {
  const std::string* v = Query(req, name);
  if (v == nullptr) return std::optional<core::Timestamp>();
  WG_ASSIGN_OR_RETURN(core::Timestamp t, core::ParseTimestamp(*v, name));
  return std::optional<core::Timestamp>(t);
}

Result<std::string> ReasonMember(const Json& b, std::string_view key, bool required) {
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {key}));
  if (required) return core::GetString(b, key, 2000);
  WG_ASSIGN_OR_RETURN(auto v, core::GetOptionalString(b, key, 2000));
  return v.value_or("");
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace

Result<permit::PermitService*> ApiService::Permits() const {
  if (permits_ == nullptr) return Status::Unavailable("permits are not enabled on this server");
  return permits_;
}

permit::Actor ApiService::PermitActor(const Call& c) const {
  permit::Actor a;
  a.name = Actor(c);
  if (c.session != nullptr) {
    a.user_id = c.session->user_id;
    a.username = c.session->username;
    a.role = std::string(domain::RoleName(c.session->role));
  }
  return a;
}

Result<Reply> ApiService::CheckPermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"at", "stage"}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(auto at, OptionalTimeQuery(c.http, "at"));
  std::optional<permit::Stage> stage;
  if (const std::string* s = Query(c.http, "stage"); s != nullptr && *s != "auto") {
    WG_ASSIGN_OR_RETURN(permit::Stage st, permit::ParseStage(*s, "stage"));
    stage = st;
  }
  WG_ASSIGN_OR_RETURN(permit::Permit doc, permit::ParsePermit(*c.body));
  WG_ASSIGN_OR_RETURN(permit::Decision d, svc->CheckDocument(c.session->org_id, doc, at, stage));
  return Reply::Json(200, permit::ToJson(d));
}

Result<Reply> ApiService::ListPermits(const Call& c) {
  WG_RETURN_IF_ERROR(
      CheckQuery(c.http, {"state", "site", "type", "grade", "from", "to", "before", "limit"}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  permit::ListQuery q;
  if (const std::string* v = Query(c.http, "state")) {
    for (const auto& part : core::Split(*v, ',')) {
      WG_ASSIGN_OR_RETURN(permit::State st, permit::ParseState(part, "state"));
      q.filter.states.emplace_back(permit::StateCode(st));
    }
  }
  if (const std::string* v = Query(c.http, "site")) q.filter.site = *v;
  if (const std::string* v = Query(c.http, "type")) {
    WG_ASSIGN_OR_RETURN(permit::PermitType t, permit::ParsePermitType(*v, "type"));
    q.filter.type = std::string(permit::PermitTypeCode(t));
  }
  if (const std::string* v = Query(c.http, "grade")) q.filter.grade = *v;
  WG_ASSIGN_OR_RETURN(q.filter.from, OptionalTimeQuery(c.http, "from"));
  WG_ASSIGN_OR_RETURN(q.filter.to, OptionalTimeQuery(c.http, "to"));
  if (const std::string* v = Query(c.http, "before")) {
    WG_ASSIGN_OR_RETURN(q.before_id, core::ParseInt(*v, 1, std::numeric_limits<std::int64_t>::max(),
                                                    "before"));
  }
  if (const std::string* v = Query(c.http, "limit")) {
    WG_ASSIGN_OR_RETURN(std::int64_t l, core::ParseInt(*v, 1, 1000, "limit"));
    q.limit = static_cast<int>(l);
  }
  WG_ASSIGN_OR_RETURN(auto permits, svc->List(c.session->org_id, q));
  Json list = Json::array();
  for (const auto& p : permits) {
    list.push_back({{"id", p.id},
                    {"number", p.number},
                    {"type", permit::PermitTypeCode(p.type)},
                    {"grade", p.grade},
                    {"state", permit::StateCode(p.state)},
                    {"site", p.site},
                    {"zone", p.location.zone},
                    {"title", p.title},
                    {"planned_start", core::FormatTimestamp(p.planned_start)},
                    {"planned_end", core::FormatTimestamp(p.planned_end)},
                    {"version", p.version}});
  }
  Json j = {{"permits", list}};
  if (static_cast<int>(permits.size()) == q.limit && !permits.empty()) {
    j["next_before"] = permits.back().id;
  }
  return Reply::Json(200, j);
}

Result<Reply> ApiService::CreatePermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(permit::Permit doc, permit::ParsePermit(*c.body));
  WG_ASSIGN_OR_RETURN(permit::Outcome o, svc->Create(c.session->org_id, doc, PermitActor(c)));
  return OutcomeReply(o, 201);
}

Result<Reply> ApiService::GetPermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(permit::Permit p, svc->Get(c.session->org_id, c.id));
  return Reply::Json(200, {{"permit", permit::ToJson(p)}});
}

Result<Reply> ApiService::EditPermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"version", "document"}));
  WG_ASSIGN_OR_RETURN(std::int64_t version,
                      core::GetInt(b, "version", 1, std::numeric_limits<std::int64_t>::max()));
  auto it = b.find("document");
  if (it == b.end()) return Status::InvalidArgument("is required", "document");
  auto doc = permit::ParsePermit(*it);
  if (!doc.ok()) {
    const Status& e = doc.error();
    return Status::InvalidArgument(e.message(), "document." + e.field());
  }
  WG_ASSIGN_OR_RETURN(permit::Outcome o,
                      svc->Edit(c.session->org_id, c.id, *doc, version, PermitActor(c)));
  return OutcomeReply(o);
}

Result<Reply> ApiService::Lifecycle(const Call& c, permit::Action action) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  const Json& b = *c.body;
  const core::OrgId org = c.session->org_id;
  const permit::Actor actor = PermitActor(c);
  permit::Outcome o;
  switch (action) {
    case permit::Action::kSubmit: {
      WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {}));
      WG_ASSIGN_OR_RETURN(o, svc->Submit(org, c.id, actor));
      break;
    }
    case permit::Action::kActivate: {
      WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {}));
      WG_ASSIGN_OR_RETURN(o, svc->Activate(org, c.id, actor));
      break;
    }
    case permit::Action::kResume: {
      WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {}));
      WG_ASSIGN_OR_RETURN(o, svc->Resume(org, c.id, actor));
      break;
    }
    case permit::Action::kSuspend: {
      WG_ASSIGN_OR_RETURN(std::string reason, ReasonMember(b, "reason", true));
      WG_ASSIGN_OR_RETURN(o, svc->Suspend(org, c.id, reason, actor));
      break;
    }
    case permit::Action::kCancel: {
      WG_ASSIGN_OR_RETURN(std::string reason, ReasonMember(b, "reason", true));
      WG_ASSIGN_OR_RETURN(o, svc->Cancel(org, c.id, reason, actor));
      break;
    }
    case permit::Action::kComplete: {
      WG_ASSIGN_OR_RETURN(std::string note, ReasonMember(b, "note", false));
      WG_ASSIGN_OR_RETURN(o, svc->Complete(org, c.id, note, actor));
      break;
    }
    case permit::Action::kIncident: {
      WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"description"}));
      WG_ASSIGN_OR_RETURN(std::string d, core::GetString(b, "description", 4000));
      WG_ASSIGN_OR_RETURN(o, svc->RecordIncident(org, c.id, d, actor));
      break;
    }
    default:
      return Status::Internal("unhandled action");
  }
  return OutcomeReply(o);
}

Result<Reply> ApiService::SubmitPermit(const Call& c) { return Lifecycle(c, permit::Action::kSubmit); }
Result<Reply> ApiService::ActivatePermit(const Call& c) {
  return Lifecycle(c, permit::Action::kActivate);
}
Result<Reply> ApiService::SuspendPermit(const Call& c) {
  return Lifecycle(c, permit::Action::kSuspend);
}
Result<Reply> ApiService::ResumePermit(const Call& c) { return Lifecycle(c, permit::Action::kResume); }
Result<Reply> ApiService::CompletePermit(const Call& c) {
  return Lifecycle(c, permit::Action::kComplete);
}
Result<Reply> ApiService::CancelPermit(const Call& c) { return Lifecycle(c, permit::Action::kCancel); }
Result<Reply> ApiService::PermitIncident(const Call& c) {
  return Lifecycle(c, permit::Action::kIncident);
}

Result<Reply> ApiService::ConfirmPermitMeasure(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"measure"}));
  WG_ASSIGN_OR_RETURN(std::string code, core::GetString(b, "measure", 64));
  WG_ASSIGN_OR_RETURN(permit::Outcome o,
                      svc->ConfirmMeasure(c.session->org_id, c.id, code, PermitActor(c)));
  return OutcomeReply(o);
}

Result<Reply> ApiService::RecordPermitGas(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"readings"}));
  auto it = b.find("readings");
  if (it == b.end()) return Status::InvalidArgument("is required", "readings");
  WG_ASSIGN_OR_RETURN(auto readings, permit::ParseGasReadings(*it, "readings"));
  WG_ASSIGN_OR_RETURN(permit::Outcome o,
                      svc->RecordGas(c.session->org_id, c.id, readings, PermitActor(c)));
  return OutcomeReply(o);
}

Result<Reply> ApiService::SignPermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"role", "password", "opinion", "position"}));
  permit::SignRequest r;
  WG_ASSIGN_OR_RETURN(r.role, core::GetString(b, "role", 64));
  WG_ASSIGN_OR_RETURN(r.password, core::GetString(b, "password", 1024));
  WG_ASSIGN_OR_RETURN(auto opinion, core::GetOptionalString(b, "opinion", 2000));
  r.opinion = opinion.value_or("");
  if (auto pos = b.find("position"); pos != b.end()) {
    WG_RETURN_IF_ERROR(core::RequireObject(*pos, "position"));
    WG_RETURN_IF_ERROR(core::RejectUnknownMembers(*pos, {"x", "y"}, "position"));
    permit::Point p;
    for (const char* axis : {"x", "y"}) {
      auto v = pos->find(axis);
      if (v == pos->end() || !v->is_number() || !std::isfinite(v->get<double>()) ||
          std::abs(v->get<double>()) > 1e7) {
        return Status::InvalidArgument("must be a number of metres within ±10,000 km",
                                       std::string("position.") + axis);
      }
      (axis[0] == 'x' ? p.x : p.y) = v->get<double>();
    }
    r.position = p;
  }
  WG_ASSIGN_OR_RETURN(permit::Outcome o, svc->Sign(c.session->org_id, c.id, r, PermitActor(c)));
  return OutcomeReply(o);
}

Result<Reply> ApiService::PermitHistory(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(permit::Permit p, svc->Get(c.session->org_id, c.id));
  WG_ASSIGN_OR_RETURN(auto events, svc->History(c.session->org_id, c.id));
  Json list = Json::array();
  for (const auto& e : events) list.push_back(permit::ToJson(e));
  return Reply::Json(200, {{"number", p.number}, {"state", permit::StateCode(p.state)},
                           {"events", list}});
}

Result<Reply> ApiService::PrintPermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"format", "lang"}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  std::string format = "html";
  if (const std::string* v = Query(c.http, "format")) format = *v;
  if (format != "html" && format != "pdf") {
    return Status::InvalidArgument("must be html or pdf", "format");
  }
  permit::PrintOptions opt;
  if (const std::string* v = Query(c.http, "lang")) {
    if (*v != "zh" && *v != "en") return Status::InvalidArgument("must be zh or en", "lang");
    opt.language = *v;
  }
  WG_ASSIGN_OR_RETURN(permit::Permit p, svc->Get(c.session->org_id, c.id));
  WG_ASSIGN_OR_RETURN(auto org, store_.GetOrganization(c.session->org_id));
  WG_ASSIGN_OR_RETURN(auto sites, store_.ListSites(c.session->org_id));
  for (const auto& s : sites) {
    if (s.code == p.site) opt.site_name = s.name;
  }
  opt.org_name = org.name;
  opt.printed_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(permit::PermitVerification v, svc->Verify(c.session->org_id, p.number, ""));
  opt.signature_valid = v.signature_valid;
  std::string host = c.http.get_header_value("Host");
  if (host.empty() || host.size() > 255) host = "localhost";
  opt.verify_url = "http://" + host + "/api/v1/permits/verify?org=" + org.code + "&n=" + p.number +
                   "&d=" + v.content_digest.substr(0, 16);
  if (format == "pdf") {
    WG_ASSIGN_OR_RETURN(std::string pdf, permit::RenderPdf(svc->rulebook(), p, opt));
    Reply r;
    r.status = 200;
    r.body = std::move(pdf);
    r.download_type = "application/pdf";
    r.download_name = p.number + ".pdf";
    return r;
  }
  WG_ASSIGN_OR_RETURN(std::string html, permit::RenderHtml(svc->rulebook(), p, opt));
  Reply r;
  r.status = 200;
  r.body = std::move(html);
  r.content_type = "text/html; charset=utf-8";
  return r;
}

Result<Reply> ApiService::VerifyPermit(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"org", "n", "d", "format"}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  const std::string* org = Query(c.http, "org");
  const std::string* number = Query(c.http, "n");
  if (org == nullptr) return Status::InvalidArgument("is required", "org");
  if (number == nullptr || number->empty() || number->size() > 64) {
    return Status::InvalidArgument("is required (the permit number)", "n");
  }
  std::string digest;
  if (const std::string* d = Query(c.http, "d")) {
    if (d->size() > 64 || !std::all_of(d->begin(), d->end(), [](char ch) {
          return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        })) {
      return Status::InvalidArgument("must be lowercase hex, at most 64 characters", "d");
    }
    digest = *d;
  }
  WG_ASSIGN_OR_RETURN(auto mine, store_.GetOrganization(c.session->org_id));
  permit::PermitVerification v;
  // Another organization's permit is indistinguishable from a missing one.
  if (*org == mine.code) {
    WG_ASSIGN_OR_RETURN(v, svc->Verify(c.session->org_id, *number, digest));
  }
  const std::string* format = Query(c.http, "format");
  if (format != nullptr && *format != "json" && *format != "html") {
    return Status::InvalidArgument("must be json or html", "format");
  }
  if (format != nullptr && *format == "html") {
    std::string html =
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>作业票核验</title></head>"
        "<body style=\"font-family:sans-serif;max-width:40em;margin:1em auto\">";
    if (!v.found) {
      html += "<h1>未找到作业票 / Permit not found</h1>";
    } else {
      const bool good = v.digest_matches && v.signatures_valid;
      html += std::string("<h1 style=\"color:") + (good ? "#060" : "#b00") + "\">" +
              (good ? "核验通过 / Verified" : "核验未通过 / NOT verified") + "</h1>";
      html += "<p>" + HtmlEscape(v.permit.number) + " · " +
              HtmlEscape(std::string(permit::PermitTypeNameZh(v.permit.type))) + " " +
              HtmlEscape(std::string(permit::GradeNameZh(v.permit.type, v.permit.grade))) +
              " · " + HtmlEscape(std::string(permit::StateNameZh(v.permit.state))) + "</p>";
      html += "<p>" + HtmlEscape(v.permit.title) + "</p>";
      html += std::string("<p>内容摘要 ") + (v.digest_matches ? "一致" : "不一致") +
              " · SM3 " + HtmlEscape(v.content_digest) + "</p><ul>";
      for (std::size_t i = 0; i < v.permit.signatures.size(); ++i) {
        const auto& s = v.permit.signatures[i];
        html += "<li>" + HtmlEscape(s.role) + " · " + HtmlEscape(s.username) + " · " +
                HtmlEscape(core::FormatShanghai(s.signed_at)) + " · " +
                (i < v.signature_valid.size() && v.signature_valid[i] ? "SM2 ✓" : "SM2 ✗") +
                "</li>";
      }
      html += "</ul>";
    }
    html += "</body></html>";
    Reply r;
    r.status = v.found ? 200 : 404;
    r.body = std::move(html);
    r.content_type = "text/html; charset=utf-8";
    return r;
  }
  return Reply::Json(v.found ? 200 : 404, permit::ToJson(v));
}

Result<Reply> ApiService::PermitRulebook(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  return Reply::Json(200, svc->rulebook().ToJson());
}

Result<Reply> ApiService::GetAuthorization(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(domain::User u, store_.GetUser(c.session->org_id, core::UserId{c.id}));
  WG_ASSIGN_OR_RETURN(auto scopes, svc->GetAuthorization(c.session->org_id, u.username));
  Json j = permit::ScopesToJson(scopes);
  j["username"] = u.username;
  return Reply::Json(200, j);
}

Result<Reply> ApiService::PutAuthorization(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(domain::User u, store_.GetUser(c.session->org_id, core::UserId{c.id}));
  WG_ASSIGN_OR_RETURN(auto scopes, permit::ParseScopes(svc->rulebook(), *c.body));
  WG_RETURN_IF_ERROR(svc->PutAuthorization(c.session->org_id, u.username, scopes, PermitActor(c)));
  Json j = permit::ScopesToJson(scopes);
  j["username"] = u.username;
  return Reply::Json(200, j);
}

Result<Reply> ApiService::MySigningKey(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(auto key,
                      svc->EnsureUserKey(c.session->org_id, c.session->username, PermitActor(c)));
  return Reply::Json(200, {{"key_id", key.key_id}, {"public_key", key.public_pem},
                           {"created", key.created}});
}

}  // namespace wg::api

#include "service.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <limits>
#include <optional>

#include "embedded.h"
#include "render.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/ledger/merkle.h"
#include "wg/live/presence_service.h"

#ifndef WG_VERSION
#define WG_VERSION "0.0.0"
#endif

namespace wg::api {

using core::Json;
using core::Result;
using core::Status;
using domain::Role;

namespace {

// Role groups of the route table (docs/api.md#roles). Workers have no link to their
// worker record yet, so a `worker` account may only see itself and the API description.
constexpr RoleMask kPublic = 0;
// Every account of a person (every role but the `gateway` device account).
constexpr RoleMask kPeople = RoleBit(Role::kWorker) | RoleBit(Role::kGuardian) |
                             RoleBit(Role::kTeamLeader) | RoleBit(Role::kApprover) |
                             RoleBit(Role::kSafetyManager) | RoleBit(Role::kSupervisor) |
                             RoleBit(Role::kRegulator) | RoleBit(Role::kAdmin);
// A `gateway` account (a sensor gateway or other device) may post readings, and see
// itself, the API description and log out; nothing else.
constexpr RoleMask kAnyRole = kPeople | RoleBit(Role::kGateway);
constexpr RoleMask kReaders = kPeople & ~RoleBit(Role::kWorker);
constexpr RoleMask kExpiringReaders = RoleBit(Role::kTeamLeader) | RoleBit(Role::kApprover) |
                                      RoleBit(Role::kSafetyManager) | RoleBit(Role::kSupervisor) |
                                      RoleBit(Role::kAdmin);
constexpr RoleMask kCertWriters = RoleBit(Role::kSafetyManager) | RoleBit(Role::kAdmin);
constexpr RoleMask kAdmins = RoleBit(Role::kAdmin);
// The evidence log: safety managers, supervisors, the regulator and admins.
constexpr RoleMask kLedgerReaders = RoleBit(Role::kSafetyManager) | RoleBit(Role::kSupervisor) |
                                    RoleBit(Role::kRegulator) | RoleBit(Role::kAdmin);
constexpr RoleMask kCosigners = RoleBit(Role::kRegulator) | RoleBit(Role::kAdmin);
// Permits (docs/api.md#permits). Authors draft, edit, submit; the people on site record
// gas, start, suspend, resume and complete; every party of the chain signs (the step's
// own account roles are checked by the rulebook); the regulator only reads.
constexpr RoleMask kPermitAuthors = RoleBit(Role::kTeamLeader) | RoleBit(Role::kSafetyManager) |
                                    RoleBit(Role::kAdmin);
constexpr RoleMask kGasRecorders = RoleBit(Role::kTeamLeader) | RoleBit(Role::kGuardian) |
                                   RoleBit(Role::kSafetyManager) | RoleBit(Role::kAdmin);
constexpr RoleMask kSigners = kReaders & ~RoleBit(Role::kRegulator);
constexpr RoleMask kSiteLeaders = RoleBit(Role::kTeamLeader) | RoleBit(Role::kGuardian) |
                                  RoleBit(Role::kSafetyManager) | RoleBit(Role::kAdmin);
constexpr RoleMask kSuspenders = kSigners;
constexpr RoleMask kCancellers = kPermitAuthors | RoleBit(Role::kApprover);
constexpr RoleMask kIncidentRecorders = RoleBit(Role::kSafetyManager) |
                                        RoleBit(Role::kSupervisor) | RoleBit(Role::kAdmin);
constexpr RoleMask kAuthorizationReaders = RoleBit(Role::kApprover) |
                                           RoleBit(Role::kSafetyManager) |
                                           RoleBit(Role::kSupervisor) | RoleBit(Role::kAdmin);

// Live monitoring (docs/api.md#live-monitoring): points are configured by safety
// managers and admins; readings are posted by gateways (and those two roles); any person
// of the organization may try to acknowledge an alarm: the SOP of the alarm's level
// decides who may (the engine answers 403 naming the allowed roles).
constexpr RoleMask kPointWriters = RoleBit(Role::kSafetyManager) | RoleBit(Role::kAdmin);
constexpr RoleMask kReadingWriters = kPointWriters | RoleBit(Role::kGateway);
constexpr RoleMask kAlarmAckers = kPeople;

// People on site (docs/api.md#people-on-site): tags, bindings, fences and site frames are
// configured like monitoring points; positions are posted like readings; the
// confined-space register is kept at the manhole by the guardian, the team leader or a
// safety manager (an admin account is not a person on site, so it may not declare who
// went in).
constexpr RoleMask kPresenceWriters = kPointWriters;
constexpr RoleMask kPositionWriters = kReadingWriters;
constexpr RoleMask kRegisterKeepers = RoleBit(Role::kGuardian) | RoleBit(Role::kTeamLeader) |
                                      RoleBit(Role::kSafetyManager);

using M = Method;
using I = IdKind;
using B = BodyKind;
using S = ApiService;

constexpr RouteSpec kRoutes[] = {
    {M::kGet, "/healthz", kPublic, B::kNone, &S::Healthz},
    {M::kGet, "/metrics", kPublic, B::kNone, &S::Metrics},
    {M::kGet, "/api/v1/openapi.json", kAnyRole, B::kNone, &S::OpenApi},
    {M::kPost, "/api/v1/auth/login", kPublic, B::kJson, &S::Login},
    {M::kPost, "/api/v1/auth/logout", kAnyRole, B::kNone, &S::Logout},
    {M::kGet, "/api/v1/me", kAnyRole, B::kNone, &S::Me},
    {M::kGet, "/api/v1/organization", kReaders, B::kNone, &S::GetOrganization},
    {M::kGet, "/api/v1/sites", kReaders, B::kNone, &S::ListSites},
    {M::kPost, "/api/v1/sites", kAdmins, B::kJson, &S::CreateSite},
    {M::kGet, "/api/v1/users", kAdmins, B::kNone, &S::ListUsers},
    {M::kPost, "/api/v1/users", kAdmins, B::kJson, &S::CreateUser},
    {M::kGet, "/api/v1/workers", kReaders, B::kNone, &S::ListWorkers},
    {M::kPost, "/api/v1/workers", kCertWriters, B::kJson, &S::CreateWorker},
    {M::kGet, "/api/v1/workers/{id}", kReaders, B::kNone, &S::GetWorker},
    {M::kPut, "/api/v1/workers/{id}/status", kCertWriters, B::kJson, &S::SetWorkerStatus},
    {M::kGet, "/api/v1/workers/{id}/verify", kReaders, B::kNone, &S::VerifyByQuery},
    {M::kPost, "/api/v1/workers/{id}/verify", kReaders, B::kJson, &S::VerifyByBody},
    {M::kPost, "/api/v1/certificates", kCertWriters, B::kJson, &S::CreateCertificate},
    {M::kGet, "/api/v1/certificates/expiring", kExpiringReaders, B::kNone,
     &S::ExpiringCertificates},
    {M::kPost, "/api/v1/certificates/import", kCertWriters, B::kCsv, &S::ImportCertificates},
    {M::kGet, "/api/v1/certificates/{id}", kReaders, B::kNone, &S::GetCertificate},
    {M::kPost, "/api/v1/certificates/{id}/revoke", kCertWriters, B::kJson, &S::RevokeCertificate},
    {M::kPost, "/api/v1/certificates/{id}/review", kCertWriters, B::kJson, &S::ReviewCertificate},
    {M::kGet, "/api/v1/certificates/{id}/qr", kReaders, B::kNone, &S::CertificateQr},
    {M::kPost, "/api/v1/qr/verify", kReaders, B::kJson, &S::VerifyQr},
    {M::kGet, "/api/v1/catalog", kReaders, B::kNone, &S::Catalog},
    {M::kGet, "/api/v1/operations", kReaders, B::kNone, &S::Operations},
    {M::kGet, "/api/v1/ledger/checkpoint", kLedgerReaders, B::kNone, &S::LedgerCheckpoint},
    {M::kGet, "/api/v1/ledger/proof", kLedgerReaders, B::kNone, &S::LedgerProof},
    {M::kGet, "/api/v1/ledger/consistency", kLedgerReaders, B::kNone, &S::LedgerConsistency},
    {M::kGet, "/api/v1/ledger/leaves", kLedgerReaders, B::kNone, &S::LedgerLeaves},
    {M::kPost, "/api/v1/ledger/cosignatures", kCosigners, B::kJson, &S::LedgerCosign},
    {M::kGet, "/api/v1/certificates/{id}/evidence", kLedgerReaders, B::kNone,
     &S::CertificateEvidence},
    {M::kGet, "/api/v1/permits/{id}/evidence", kLedgerReaders, B::kNone, &S::PermitEvidence},
    {M::kPost, "/api/v1/evidence/verify", kReaders, B::kJson, &S::VerifyEvidence},
    {M::kPost, "/api/v1/attachments", kReaders, B::kUpload, &S::UploadAttachment},
    {M::kGet, "/api/v1/attachments", kReaders, B::kNone, &S::ListAttachments},
    {M::kGet, "/api/v1/attachments/content", kReaders, B::kNone, &S::AttachmentContent},
    {M::kPost, "/api/v1/permits/check", kReaders, B::kJson, &S::CheckPermit},
    {M::kGet, "/api/v1/permits/rulebook", kReaders, B::kNone, &S::PermitRulebook},
    {M::kGet, "/api/v1/permits/verify", kReaders, B::kNone, &S::VerifyPermit},
    {M::kGet, "/api/v1/permits", kReaders, B::kNone, &S::ListPermits},
    {M::kPost, "/api/v1/permits", kPermitAuthors, B::kJson, &S::CreatePermit},
    {M::kGet, "/api/v1/permits/{id}", kReaders, B::kNone, &S::GetPermit},
    {M::kPut, "/api/v1/permits/{id}", kPermitAuthors, B::kJson, &S::EditPermit},
    {M::kPost, "/api/v1/permits/{id}/submit", kPermitAuthors, B::kJson, &S::SubmitPermit},
    {M::kPost, "/api/v1/permits/{id}/measures/confirm", kSigners, B::kJson,
     &S::ConfirmPermitMeasure},
    {M::kPost, "/api/v1/permits/{id}/gas", kGasRecorders, B::kJson, &S::RecordPermitGas},
    {M::kPost, "/api/v1/permits/{id}/sign", kSigners, B::kJson, &S::SignPermit},
    {M::kPost, "/api/v1/permits/{id}/activate", kSiteLeaders, B::kJson, &S::ActivatePermit},
    {M::kPost, "/api/v1/permits/{id}/suspend", kSuspenders, B::kJson, &S::SuspendPermit},
    {M::kPost, "/api/v1/permits/{id}/resume", kSiteLeaders, B::kJson, &S::ResumePermit},
    {M::kPost, "/api/v1/permits/{id}/complete", kSiteLeaders, B::kJson, &S::CompletePermit},
    {M::kPost, "/api/v1/permits/{id}/cancel", kCancellers, B::kJson, &S::CancelPermit},
    {M::kPost, "/api/v1/permits/{id}/incidents", kIncidentRecorders, B::kJson,
     &S::PermitIncident},
    {M::kGet, "/api/v1/permits/{id}/history", kReaders, B::kNone, &S::PermitHistory},
    {M::kGet, "/api/v1/permits/{id}/print", kReaders, B::kNone, &S::PrintPermit},
    {M::kGet, "/api/v1/users/{id}/authorization", kAuthorizationReaders, B::kNone,
     &S::GetAuthorization},
    {M::kPut, "/api/v1/users/{id}/authorization", kCertWriters, B::kJson, &S::PutAuthorization},
    {M::kGet, "/api/v1/me/signing-key", kReaders, B::kNone, &S::MySigningKey},
    {M::kGet, "/api/v1/points", kReaders, B::kNone, &S::ListPoints},
    {M::kGet, "/api/v1/points/{id}", kReaders, B::kNone, &S::GetPoint, I::kText},
    {M::kPut, "/api/v1/points/{id}", kPointWriters, B::kJson, &S::PutPoint, I::kText},
    {M::kDelete, "/api/v1/points/{id}", kPointWriters, B::kNone, &S::DeletePoint, I::kText},
    {M::kGet, "/api/v1/points/{id}/readings", kReaders, B::kNone, &S::PointReadings, I::kText},
    {M::kPost, "/api/v1/readings", kReadingWriters, B::kRaw, &S::PostReadings},
    {M::kGet, "/api/v1/alarms", kReaders, B::kNone, &S::ListAlarms},
    {M::kGet, "/api/v1/alarms/{id}", kReaders, B::kNone, &S::GetAlarm},
    {M::kPost, "/api/v1/alarms/{id}/ack", kAlarmAckers, B::kJson, &S::AckAlarm},
    {M::kGet, "/api/v1/stream", kReaders, B::kNone, &S::Stream},
    {M::kGet, "/api/v1/monitor/status", kReaders, B::kNone, &S::MonitorStatus},
    {M::kGet, "/api/v1/tags", kReaders, B::kNone, &S::ListTags},
    {M::kGet, "/api/v1/tags/{id}", kReaders, B::kNone, &S::GetTag, I::kText},
    {M::kPut, "/api/v1/tags/{id}", kPresenceWriters, B::kJson, &S::PutTag, I::kText},
    {M::kDelete, "/api/v1/tags/{id}", kPresenceWriters, B::kNone, &S::DeleteTag, I::kText},
    {M::kGet, "/api/v1/tags/{id}/bindings", kReaders, B::kNone, &S::ListTagBindings, I::kText},
    {M::kPost, "/api/v1/tags/{id}/bindings", kPresenceWriters, B::kJson, &S::BindTag, I::kText},
    {M::kPost, "/api/v1/bindings/{id}/end", kPresenceWriters, B::kJson, &S::EndBinding},
    {M::kGet, "/api/v1/tags/{id}/trajectory", kReaders, B::kNone, &S::TagTrajectory, I::kText},
    {M::kGet, "/api/v1/fences", kReaders, B::kNone, &S::ListFences},
    {M::kGet, "/api/v1/fences/{id}", kReaders, B::kNone, &S::GetFence, I::kText},
    {M::kPut, "/api/v1/fences/{id}", kPresenceWriters, B::kJson, &S::PutFence, I::kText},
    {M::kDelete, "/api/v1/fences/{id}", kPresenceWriters, B::kNone, &S::DeleteFence, I::kText},
    {M::kGet, "/api/v1/sites/{id}/frame", kReaders, B::kNone, &S::GetSiteFrame, I::kText},
    {M::kPut, "/api/v1/sites/{id}/frame", kPresenceWriters, B::kJson, &S::PutSiteFrame, I::kText},
    {M::kGet, "/api/v1/sites/{id}/plan", kReaders, B::kNone, &S::GetSitePlan, I::kText},
    {M::kPut, "/api/v1/sites/{id}/plan", kPresenceWriters, B::kJson, &S::PutSitePlan, I::kText},
    {M::kPost, "/api/v1/sites/{id}/positions", kPositionWriters, B::kRaw, &S::PostPositions,
     I::kText},
    {M::kGet, "/api/v1/positions", kReaders, B::kNone, &S::ListPositions},
    {M::kGet, "/api/v1/permits/{id}/register", kReaders, B::kNone, &S::PermitRegister},
    {M::kPost, "/api/v1/permits/{id}/register", kRegisterKeepers, B::kJson,
     &S::PermitRegisterEntry},
    {M::kGet, "/api/v1/region", kReaders, B::kNone, &S::Region},
    {M::kGet, "/api/v1/presence/status", kReaders, B::kNone, &S::PresenceStatus},
    {M::kGet, "/api/v1/predict/forecasts", kReaders, B::kNone, &S::PredictForecasts},
    {M::kGet, "/api/v1/predict/model", kReaders, B::kNone, &S::PredictModel},
};

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

Result<std::optional<core::Date>> OptionalDate(const Json& body, std::string_view key) {
  WG_ASSIGN_OR_RETURN(auto text, core::GetOptionalString(body, key, 32));
  if (!text) return std::optional<core::Date>();
  WG_ASSIGN_OR_RETURN(core::Date d, core::ParseDate(*text, key));
  return std::optional<core::Date>(d);
}

Result<core::Date> RequiredDate(const Json& body, std::string_view key) {
  WG_ASSIGN_OR_RETURN(std::string text, core::GetString(body, key, 32));
  return core::ParseDate(text, key);
}

Status CheckUsername(std::string_view u) {
  if (u.size() < 3 || u.size() > 64) {
    return Status::InvalidArgument("must be 3 to 64 characters", "username");
  }
  for (char ch : u) {
    const bool ok =
        (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok)
      return Status::InvalidArgument("may contain only a-z, 0-9, '.', '_' and '-'", "username");
  }
  return Status::Ok();
}

// An operation code the rulebook knows, or 400 naming "operation".
Status CheckOperation(const registry::Rulebook& book, std::string_view operation) {
  if (operation.empty()) return Status::InvalidArgument("is required", "operation");
  if (book.FindOperation(operation) == nullptr) {
    return Status::InvalidArgument("unknown operation; GET /api/v1/operations lists them",
                                   "operation");
  }
  return Status::Ok();
}

// A worker as `role` may see it: the regulator verifies certificates and receives digests,
// not the plant's contact data, so the phone number is left out for that role.
Json WorkerView(const domain::Worker& w, domain::Role role) {
  Json out = WorkerJson(w);
  if (role == domain::Role::kRegulator) out.erase("phone");
  return out;
}

}  // namespace

// Rejects query parameters the route does not define, and repeated ones.
Status CheckQuery(const httplib::Request& req, std::initializer_list<std::string_view> allowed) {
  for (auto it = req.params.begin(); it != req.params.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it->first) == allowed.end()) {
      return Status::InvalidArgument("unknown query parameter", it->first);
    }
    if (req.params.count(it->first) > 1) {
      return Status::InvalidArgument("given more than once", it->first);
    }
  }
  return Status::Ok();
}

const std::string* Query(const httplib::Request& req, const std::string& name) {
  auto it = req.params.find(name);
  return it == req.params.end() ? nullptr : &it->second;
}

std::span<const RouteSpec> RouteTable() { return kRoutes; }

Reply Reply::Json(int status, const core::Json& j) {
  return Reply{status, core::DumpJson(j), "application/json"};
}

ApiService::ApiService(store::Store& store, registry::Registry& registry, const core::Clock& clock,
                       const ServerOptions& options, Authenticator& auth, ApiMetrics& metrics)
    : store_(store),
      registry_(registry),
      clock_(clock),
      options_(options),
      auth_(auth),
      metrics_(metrics) {}

core::Date ApiService::Today() const { return core::ShanghaiDate(clock_.Now()); }

std::string ApiService::Actor(const Call& c) {
  return c.session != nullptr ? "user:" + c.session->username : "system";
}


namespace {

Result<std::uint64_t> QueryU64(const httplib::Request& req, const std::string& name,
                               bool required, std::uint64_t fallback = 0) {
  const std::string* v = Query(req, name);
  if (v == nullptr) {
    if (required) return Status::InvalidArgument("is required", name);
    return fallback;
  }
  WG_ASSIGN_OR_RETURN(std::int64_t n, core::ParseInt(*v, 0, kMaxId, name));
  return static_cast<std::uint64_t>(n);
}

Json HashesJson(const std::vector<ledger::Hash>& hs) {
  Json a = Json::array();
  for (const auto& h : hs) a.push_back(core::ToHex(h));
  return a;
}

Result<Json> CheckpointJson(const std::string& note) {
  WG_ASSIGN_OR_RETURN(ledger::SignedNote n, ledger::ParseNote(note));
  WG_ASSIGN_OR_RETURN(ledger::Checkpoint cp, ledger::ParseCheckpointBody(n.text));
  Json sigs = Json::array();
  for (const auto& sg : n.signatures) sigs.push_back(sg.key_name);
  return Json{{"checkpoint", note}, {"origin", cp.origin}, {"size", cp.size},
              {"root", core::ToHex(cp.root)}, {"signed_by", sigs}};
}

}  // namespace

// --- service -----------------------------------------------------------------------------

Result<Reply> ApiService::Healthz(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  return Reply::Json(200, {{"status", "ok"}, {"version", WG_VERSION}});
}

Result<Reply> ApiService::Metrics(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  metrics_.SetGauges(registry_.indexed_workers(), registry_.indexed_certificates(),
                     auth_.cached_sessions());
  if (monitor_ != nullptr) metrics_.SetMonitor(monitor_->Stats());
  if (presence_ != nullptr) metrics_.SetPresence(presence_->Stats());
  return Reply{200, metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8"};
}

Result<Reply> ApiService::OpenApi(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  std::string_view doc = embedded::EmbeddedFile("openapi.json");
  if (doc.empty()) return Status::Internal("openapi.json is not embedded in this binary");
  return Reply{200, std::string(doc), "application/json"};
}

// --- authentication ----------------------------------------------------------------------

Result<Reply> ApiService::Login(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"username", "password"}));
  WG_ASSIGN_OR_RETURN(std::string username, core::GetString(b, "username", 64));
  WG_ASSIGN_OR_RETURN(std::string password, core::GetString(b, "password", 1024));
  WG_ASSIGN_OR_RETURN(LoginResult login, auth_.Login(username, password));
  return Reply::Json(200, {{"token", login.token},
                           {"token_type", "Bearer"},
                           {"expires_at", core::FormatTimestamp(login.expires_at)},
                           {"user", UserJson(login.user)}});
}

Result<Reply> ApiService::Logout(const Call& c) {
  WG_RETURN_IF_ERROR(auth_.Logout(c.http.get_header_value("Authorization")));
  return Reply{204, std::string(), "application/json"};
}

Result<Reply> ApiService::Me(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(domain::User user, store_.GetUser(c.session->org_id, c.session->user_id));
  WG_ASSIGN_OR_RETURN(domain::Organization org, store_.GetOrganization(c.session->org_id));
  return Reply::Json(200, {{"user", UserJson(user)},
                           {"organization", OrganizationJson(org)},
                           {"session_expires_at", core::FormatTimestamp(c.session->expires_at)}});
}

// --- organization, sites, users --------------------------------------------------------------

Result<Reply> ApiService::GetOrganization(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(domain::Organization org, store_.GetOrganization(c.session->org_id));
  return Reply::Json(200, OrganizationJson(org));
}

Result<Reply> ApiService::ListSites(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(auto sites, store_.ListSites(c.session->org_id));
  Json out = Json::array();
  for (const auto& s : sites) {
    Json j = SiteJson(s);
    // Whether the risk board can draw the site (GET /api/v1/sites/{id}/plan) and place
    // people on it (a configured frame); false while people on site is not wired.
    bool has_plan = false, has_frame = false;
    if (presence_ != nullptr) {
      auto plan = presence_->GetSitePlan(c.session->org_id, s.code);
      if (!plan.ok() && plan.error().code() != core::StatusCode::kNotFound) return plan.error();
      has_plan = plan.ok();
      auto frame = presence_->GetSiteFrame(c.session->org_id, s.code);
      if (!frame.ok() && frame.error().code() != core::StatusCode::kNotFound) {
        return frame.error();
      }
      has_frame = frame.ok();
    }
    j["has_plan"] = has_plan;
    j["has_frame"] = has_frame;
    out.push_back(std::move(j));
  }
  return Reply::Json(200, {{"sites", std::move(out)}});
}

Result<Reply> ApiService::CreateSite(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"code", "name", "address"}));
  store::NewSite site;
  WG_ASSIGN_OR_RETURN(site.code, core::GetString(b, "code", 32));
  WG_ASSIGN_OR_RETURN(site.name, core::GetString(b, "name", 100));
  WG_ASSIGN_OR_RETURN(auto address, core::GetOptionalString(b, "address", 200));
  site.address = address.value_or("");
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, evidence::SiteCreatedFact(site, Actor(c)));
  WG_ASSIGN_OR_RETURN(domain::Site created, store_.CreateSite(c.session->org_id, site, {fact}));
  WG_RETURN_IF_ERROR(registry_.evidence().SyncAfterWrite(c.session->org_id));
  return Reply::Json(201, SiteJson(created));
}

Result<Reply> ApiService::ListUsers(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(auto users, store_.ListUsers(c.session->org_id));
  Json out = Json::array();
  for (const auto& u : users) out.push_back(UserJson(u));
  return Reply::Json(200, {{"users", std::move(out)}});
}

Result<Reply> ApiService::CreateUser(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(
      core::RejectUnknownMembers(b, {"username", "display_name", "role", "password"}));
  domain::User user;
  WG_ASSIGN_OR_RETURN(user.username, core::GetString(b, "username", 64));
  WG_RETURN_IF_ERROR(CheckUsername(user.username));
  WG_ASSIGN_OR_RETURN(user.display_name, core::GetString(b, "display_name", 100));
  WG_ASSIGN_OR_RETURN(std::string role, core::GetString(b, "role", 32));
  WG_ASSIGN_OR_RETURN(user.role, domain::ParseRole(role, "role"));
  WG_ASSIGN_OR_RETURN(std::string password, core::GetString(b, "password", 1024));
  if (core::Utf8Length(password) < 10) {
    return Status::InvalidArgument("must be at least 10 characters", "password");
  }
  WG_ASSIGN_OR_RETURN(user.password_hash, crypto::HashPassword(password));
  user.org_id = c.session->org_id;
  user.active = true;
  user.created_at = clock_.Now();
  WG_ASSIGN_OR_RETURN(store::FactDraft fact, evidence::UserCreatedFact(user, Actor(c)));
  WG_ASSIGN_OR_RETURN(domain::User created, store_.CreateUser(user, {fact}));
  WG_RETURN_IF_ERROR(registry_.evidence().SyncAfterWrite(c.session->org_id));
  return Reply::Json(201, UserJson(created));
}

// --- workers -----------------------------------------------------------------------------

Result<Reply> ApiService::ListWorkers(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"after_id", "limit"}));
  store::Page page;
  if (const std::string* v = Query(c.http, "after_id")) {
    WG_ASSIGN_OR_RETURN(page.after_id, core::ParseInt(*v, 0, kMaxId, "after_id"));
  }
  if (const std::string* v = Query(c.http, "limit")) {
    WG_ASSIGN_OR_RETURN(std::int64_t limit, core::ParseInt(*v, 1, 1000, "limit"));
    page.limit = static_cast<int>(limit);
  }
  WG_ASSIGN_OR_RETURN(auto workers, store_.ListWorkers(c.session->org_id, page));
  Json out = Json::array();
  for (const auto& w : workers) out.push_back(WorkerView(w, c.session->role));
  Json next = nullptr;
  if (!workers.empty() && workers.size() == static_cast<std::size_t>(page.limit)) {
    next = workers.back().id.value;
  }
  return Reply::Json(200, {{"workers", std::move(out)}, {"next_after_id", std::move(next)}});
}

Result<Reply> ApiService::CreateWorker(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(
      b, {"code", "name", "employer", "national_id", "phone", "photo_ref"}));
  registry::NewWorker w;
  WG_ASSIGN_OR_RETURN(w.code, core::GetString(b, "code", 64));
  WG_ASSIGN_OR_RETURN(w.name, core::GetString(b, "name", 100));
  WG_ASSIGN_OR_RETURN(w.employer, core::GetString(b, "employer", 200));
  WG_ASSIGN_OR_RETURN(w.national_id, core::GetString(b, "national_id", 32));
  WG_ASSIGN_OR_RETURN(auto phone, core::GetOptionalString(b, "phone", 32));
  w.phone = phone.value_or("");
  WG_ASSIGN_OR_RETURN(auto photo, core::GetOptionalString(b, "photo_ref", 500));
  w.photo_ref = photo.value_or("");
  WG_ASSIGN_OR_RETURN(domain::Worker worker, registry_.CreateWorker(c.session->org_id, w, Actor(c)));
  return Reply::Json(201, WorkerJson(worker));
}

Result<Reply> ApiService::GetWorker(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  const core::WorkerId id{c.id};
  WG_ASSIGN_OR_RETURN(domain::Worker worker, store_.GetWorker(c.session->org_id, id));
  WG_ASSIGN_OR_RETURN(auto certs, store_.ListCertificatesOfWorker(c.session->org_id, id));
  const core::Date today = Today();
  const registry::Rulebook& book = registry_.rulebook();
  Json list = Json::array();
  for (const auto& cert : certs) list.push_back(CertificateJson(cert, book, today));
  Json out = WorkerView(worker, c.session->role);
  out["certificates"] = std::move(list);
  return Reply::Json(200, out);
}

Result<Reply> ApiService::SetWorkerStatus(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"status"}));
  WG_ASSIGN_OR_RETURN(std::string text, core::GetString(b, "status", 32));
  WG_ASSIGN_OR_RETURN(domain::WorkerStatus status, domain::ParseWorkerStatus(text, "status"));
  const core::WorkerId id{c.id};
  WG_RETURN_IF_ERROR(registry_.SetWorkerStatus(c.session->org_id, id, status, Actor(c)));
  WG_ASSIGN_OR_RETURN(domain::Worker worker, store_.GetWorker(c.session->org_id, id));
  return Reply::Json(200, WorkerJson(worker));
}

// --- verification (the hot path: no store access, no logging) ---------------------------

Result<Reply> ApiService::Verify(const Call& c, const std::string& operation,
                                 std::optional<core::Timestamp> at,
                                 std::optional<std::string> presented_id) {
  WG_RETURN_IF_ERROR(CheckOperation(registry_.rulebook(), operation));
  WG_ASSIGN_OR_RETURN(registry::Verification v,
                      registry_.Verify(c.session->org_id, core::WorkerId{c.id}, operation, at,
                                       std::move(presented_id)));
  metrics_.CountVerification(v.verdict);
  // A worker of another organization is indistinguishable from one that does not exist.
  // An unknown worker — including another organization's — is a verdict, not an error:
  // the gate asks "may this id work?" and the answer is no, with the reason. The reply is
  // identical for both cases, so it reveals nothing about other tenants.
  return Reply::Json(200, registry::ToJson(v));
}

Result<Reply> ApiService::VerifyByQuery(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"operation", "at"}));
  static const std::string kOperation = "operation", kAt = "at";
  const std::string* operation = Query(c.http, kOperation);
  if (operation == nullptr) return Status::InvalidArgument("is required", "operation");
  std::optional<core::Timestamp> at;
  if (const std::string* text = Query(c.http, kAt)) {
    WG_ASSIGN_OR_RETURN(at, core::ParseTimestamp(*text, "at"));
  }
  return Verify(c, *operation, at, std::nullopt);
}

Result<Reply> ApiService::VerifyByBody(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"operation", "at", "national_id"}));
  WG_ASSIGN_OR_RETURN(std::string operation, core::GetString(b, "operation", 64));
  WG_ASSIGN_OR_RETURN(auto at_text, core::GetOptionalString(b, "at", 64));
  std::optional<core::Timestamp> at;
  if (at_text) {
    WG_ASSIGN_OR_RETURN(at, core::ParseTimestamp(*at_text, "at"));
  }
  WG_ASSIGN_OR_RETURN(auto presented, core::GetOptionalString(b, "national_id", 32));
  return Verify(c, operation, at, std::move(presented));
}

// --- certificates ------------------------------------------------------------------------

Result<Reply> ApiService::CreateCertificate(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(
      b,
      {"worker_id", "kind", "category", "item", "number", "authority", "issue_date", "expiry_date",
       "last_review_date", "practice_since", "review_extension_granted", "violations"}));
  registry::NewCertificate n;
  WG_ASSIGN_OR_RETURN(n.worker_id.value, core::GetInt(b, "worker_id", 1, kMaxId));
  WG_ASSIGN_OR_RETURN(std::string kind, core::GetString(b, "kind", 32));
  WG_ASSIGN_OR_RETURN(n.kind, domain::ParseCertKind(kind, "kind"));
  WG_ASSIGN_OR_RETURN(n.category, core::GetString(b, "category", 100));
  WG_ASSIGN_OR_RETURN(n.item, core::GetString(b, "item", 100));
  WG_ASSIGN_OR_RETURN(n.number, core::GetString(b, "number", 64));
  WG_ASSIGN_OR_RETURN(n.authority, core::GetString(b, "authority", 200));
  WG_ASSIGN_OR_RETURN(n.issue_date, RequiredDate(b, "issue_date"));
  WG_ASSIGN_OR_RETURN(n.expiry_date, OptionalDate(b, "expiry_date"));
  WG_ASSIGN_OR_RETURN(n.last_review_date, OptionalDate(b, "last_review_date"));
  WG_ASSIGN_OR_RETURN(n.practice_since, OptionalDate(b, "practice_since"));
  WG_ASSIGN_OR_RETURN(auto extension, core::GetOptionalBool(b, "review_extension_granted"));
  n.review_extension_granted = extension.value_or(false);
  WG_ASSIGN_OR_RETURN(auto violations, core::GetOptionalInt(b, "violations", 0, 1000));
  n.violations = static_cast<int>(violations.value_or(0));
  WG_ASSIGN_OR_RETURN(domain::Certificate cert, registry_.AddCertificate(c.session->org_id, n, Actor(c)));
  return Reply::Json(201, CertificateJson(cert, registry_.rulebook(), Today()));
}

Result<Reply> ApiService::GetCertificate(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(domain::Certificate cert,
                      store_.GetCertificate(c.session->org_id, core::CertificateId{c.id}));
  return Reply::Json(200, CertificateJson(cert, registry_.rulebook(), Today()));
}

Result<Reply> ApiService::RevokeCertificate(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"reason"}));
  WG_ASSIGN_OR_RETURN(std::string reason, core::GetString(b, "reason", 64));
  WG_ASSIGN_OR_RETURN(
      domain::Certificate cert,
      registry_.RevokeCertificate(c.session->org_id, core::CertificateId{c.id}, reason, Actor(c)));
  return Reply::Json(200, CertificateJson(cert, registry_.rulebook(), Today()));
}

Result<Reply> ApiService::ReviewCertificate(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"review_date"}));
  WG_ASSIGN_OR_RETURN(core::Date date, RequiredDate(b, "review_date"));
  WG_ASSIGN_OR_RETURN(domain::Certificate cert,
                      registry_.RecordReview(c.session->org_id, core::CertificateId{c.id}, date, Actor(c)));
  return Reply::Json(200, CertificateJson(cert, registry_.rulebook(), Today()));
}

Result<Reply> ApiService::ExpiringCertificates(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"days"}));
  std::int64_t days = 30;
  if (const std::string* v = Query(c.http, "days")) {
    WG_ASSIGN_OR_RETURN(days, core::ParseInt(*v, 1, 366, "days"));
  }
  const core::Timestamp now = clock_.Now();
  WG_ASSIGN_OR_RETURN(auto reminders,
                      registry_.Expiring(c.session->org_id, static_cast<int>(days), now));
  Json list = Json::array();
  for (const auto& r : reminders) list.push_back(registry::ToJson(r));
  return Reply::Json(200, {{"days", days},
                           {"as_of", core::FormatDate(core::ShanghaiDate(now))},
                           {"reminders", std::move(list)}});
}

Result<Reply> ApiService::ImportCertificates(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"skip_invalid"}));
  registry::ImportOptions opts;
  if (const std::string* v = Query(c.http, "skip_invalid")) {
    if (*v == "true") {
      opts.skip_invalid = true;
    } else if (*v != "false") {
      return Status::InvalidArgument("must be true or false", "skip_invalid");
    }
  }
  WG_ASSIGN_OR_RETURN(registry::ImportReport report,
                      registry_.ImportCsv(c.session->org_id, c.spool_path, opts));
  // The report is the body either way; 422 says nothing was imported because of rows.
  return Reply::Json(report.imported ? 200 : 422, registry::ToJson(report));
}

Result<Reply> ApiService::CertificateQr(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"format"}));
  std::string_view format = "json";
  if (const std::string* v = Query(c.http, "format")) format = *v;
  if (format != "json" && format != "png" && format != "svg") {
    return Status::InvalidArgument("must be png, svg or json", "format");
  }
  WG_ASSIGN_OR_RETURN(registry::CertificateQr qr,
                      registry_.MakeQr(c.session->org_id, core::CertificateId{c.id}));
  if (format == "png") return Reply{200, std::move(qr.png), "image/png"};
  if (format == "svg") return Reply{200, std::move(qr.svg), "image/svg+xml"};
  return Reply::Json(200, {{"certificate_id", c.id}, {"payload", qr.payload}});
}

Result<Reply> ApiService::VerifyQr(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"payload", "operation"}));
  WG_ASSIGN_OR_RETURN(std::string payload, core::GetString(b, "payload", 4096));
  WG_ASSIGN_OR_RETURN(auto operation, core::GetOptionalString(b, "operation", 64));
  if (operation) {
    WG_RETURN_IF_ERROR(CheckOperation(registry_.rulebook(), *operation));
  }
  WG_ASSIGN_OR_RETURN(registry::QrCheck check,
                      registry_.CheckQr(c.session->org_id, payload, std::move(operation)));
  if (check.verification) metrics_.CountVerification(check.verification->verdict);
  return Reply::Json(200, QrCheckJson(check));
}

// --- rule data ---------------------------------------------------------------------------

Result<Reply> ApiService::Catalog(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  return Reply::Json(200, CatalogJson(registry_.rulebook()));
}

Result<Reply> ApiService::Operations(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  return Reply::Json(200, OperationsJson(registry_.rulebook()));
}

}  // namespace wg::api

namespace wg::api {

// --- evidence log -------------------------------------------------------------------------

Result<Reply> ApiService::LedgerCheckpoint(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"size"}));
  evidence::Evidence& ev = registry_.evidence();
  std::string note;
  if (Query(c.http, "size") != nullptr) {
    WG_ASSIGN_OR_RETURN(std::uint64_t size, QueryU64(c.http, "size", true));
    WG_ASSIGN_OR_RETURN(note, ev.CheckpointAt(c.session->org_id, size));
  } else {
    WG_ASSIGN_OR_RETURN(note, ev.Checkpoint(c.session->org_id));
  }
  WG_ASSIGN_OR_RETURN(Json j, CheckpointJson(note));
  WG_ASSIGN_OR_RETURN(evidence::OrgKey key, ev.EnsureKey(c.session->org_id));
  j["verifier_key"] = key.vkey;
  j["hash"] = ledger::HashAlgName(ev.alg());
  return Reply::Json(200, j);
}

Result<Reply> ApiService::LedgerProof(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"seq", "size"}));
  WG_ASSIGN_OR_RETURN(std::uint64_t seq, QueryU64(c.http, "seq", true));
  std::optional<std::uint64_t> size;
  if (Query(c.http, "size") != nullptr) {
    WG_ASSIGN_OR_RETURN(size, QueryU64(c.http, "size", true));
  }
  WG_ASSIGN_OR_RETURN(evidence::FactProof p, registry_.evidence().Prove(c.session->org_id, seq, size));
  return Reply::Json(200, {{"fact", evidence::FactToJson(p.fact)},
                           {"entry", core::Base64UrlEncode(p.entry)},
                           {"leaf_hash", core::ToHex(ledger::HashLeaf(registry_.evidence().alg(), p.entry))},
                           {"tree_size", p.tree_size},
                           {"proof", HashesJson(p.proof)},
                           {"checkpoint", p.checkpoint}});
}

Result<Reply> ApiService::LedgerConsistency(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"from", "to"}));
  WG_ASSIGN_OR_RETURN(std::uint64_t from, QueryU64(c.http, "from", true));
  WG_ASSIGN_OR_RETURN(std::uint64_t to, QueryU64(c.http, "to", true));
  if (from > to) return Status::InvalidArgument("must not exceed \"to\"", "from");
  WG_ASSIGN_OR_RETURN(auto proof, registry_.evidence().Consistency(c.session->org_id, from, to));
  return Reply::Json(200, {{"from", from}, {"to", to}, {"proof", HashesJson(proof)}});
}

Result<Reply> ApiService::LedgerLeaves(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"from", "count"}));
  WG_ASSIGN_OR_RETURN(std::uint64_t from, QueryU64(c.http, "from", false, 0));
  WG_ASSIGN_OR_RETURN(std::uint64_t count, QueryU64(c.http, "count", false, 1000));
  if (count < 1 || count > 10000) return Status::InvalidArgument("must be in 1..10000", "count");
  WG_ASSIGN_OR_RETURN(auto leaves, registry_.evidence().LeafHashes(c.session->org_id, from, count));
  return Reply::Json(200, {{"from", from}, {"leaf_hashes", HashesJson(leaves)}});
}

Result<Reply> ApiService::LedgerCosign(const Call& c) {
  const Json& b = *c.body;
  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(b, {"checkpoint"}));
  // A signed note spans lines: read it raw; ParseNote checks it strictly.
  if (!b.contains("checkpoint") || !b["checkpoint"].is_string()) {
    return Status::InvalidArgument("expected a string", "checkpoint");
  }
  const std::string note = b["checkpoint"].get<std::string>();
  WG_RETURN_IF_ERROR(registry_.evidence().AddCosignatures(c.session->org_id, note));
  WG_ASSIGN_OR_RETURN(ledger::SignedNote parsed, ledger::ParseNote(note));
  WG_ASSIGN_OR_RETURN(ledger::Checkpoint cp, ledger::ParseCheckpointBody(parsed.text));
  WG_ASSIGN_OR_RETURN(std::string stored, registry_.evidence().CheckpointAt(c.session->org_id, cp.size));
  WG_ASSIGN_OR_RETURN(Json j, CheckpointJson(stored));
  return Reply::Json(200, j);
}

Result<Reply> ApiService::CertificateEvidence(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(domain::Certificate cert,
                      store_.GetCertificate(c.session->org_id, core::CertificateId{c.id}));
  WG_ASSIGN_OR_RETURN(
      evidence::Bundle bundle,
      evidence::ExportSubject(registry_.evidence(), c.session->org_id,
                              evidence::CertificateSubject(domain::CertKindName(cert.kind), cert.number)));
  return Reply::Json(200, evidence::BundleToJson(bundle));
}

// Every fact about the permit (subject "permit:<number>", the permit service's), proven
// against a fresh checkpoint. Another organization's permit is 404.
Result<Reply> ApiService::PermitEvidence(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(permit::PermitService * svc, Permits());
  WG_ASSIGN_OR_RETURN(permit::Permit p, svc->Get(c.session->org_id, c.id));
  WG_ASSIGN_OR_RETURN(evidence::Bundle bundle,
                      evidence::ExportSubject(registry_.evidence(), c.session->org_id,
                                              "permit:" + p.number));
  return Reply::Json(200, evidence::BundleToJson(bundle));
}

namespace {

std::string KeyId(std::uint32_t key_hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[key_hash & 0xf];
    key_hash >>= 4;
  }
  return out;
}

Json CheckJson(std::string_view name, bool ok, const std::string& message) {
  return Json{{"check", name}, {"ok", ok}, {"message", message}};
}

}  // namespace

// An uploaded bundle (docs/formats/evidence-bundle.md) checked against the caller
// organization's own log identity and keys, never against keys the bundle brings for its
// own log: origin, checkpoint, its signature by one of the organization's key versions,
// and every fact (decodes, seq, subject, inclusion proof). Co-signature lines are listed;
// one verifies only against a key of another signer the bundle carries. A malformed
// bundle is 400 naming the member; a bundle that does not verify is 200 with "ok": false
// and the failing checks.
Result<Reply> ApiService::VerifyEvidence(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(evidence::Bundle b, evidence::ParseBundle(core::DumpJson(*c.body)));
  evidence::Evidence& ev = registry_.evidence();
  WG_ASSIGN_OR_RETURN(std::string org_code, ev.OrgCode(c.session->org_id));
  const std::string origin = ev.Origin(org_code);
  WG_ASSIGN_OR_RETURN(std::vector<evidence::OrgKey> keys, ev.keys().All(org_code));

  Json checks = Json::array();
  bool ok = true;
  auto add = [&](std::string_view name, bool passed, const std::string& message) {
    ok = ok && passed;
    checks.push_back(CheckJson(name, passed, message));
  };

  add("origin", b.origin == origin,
      b.origin == origin ? "the bundle is from this organization's evidence log " + origin
                         : "the bundle is from log \"" + b.origin + "\", not this organization's \"" +
                               origin + "\"");

  // The checkpoint.
  std::optional<ledger::SignedNote> note;
  std::optional<ledger::Checkpoint> cp;
  if (auto n = ledger::ParseNote(b.checkpoint); n.ok()) {
    note = std::move(*n);
    if (auto body = ledger::ParseCheckpointBody(note->text); body.ok()) {
      cp = std::move(*body);
    } else {
      add("checkpoint", false, "the checkpoint does not parse: " + body.error().ToString());
    }
  } else {
    add("checkpoint", false, "the signed note does not parse: " + n.error().ToString());
  }
  if (cp) {
    const bool same = cp->origin == b.origin;
    add("checkpoint", same,
        same ? "tree size " + std::to_string(cp->size) + ", root " + core::ToHex(cp->root)
             : "the checkpoint is of log \"" + cp->origin + "\", the bundle says \"" + b.origin +
                   "\"");
  }

  // Its signature by one of this organization's keys (any version: an old bundle was
  // signed before a rotation).
  std::string signed_by, signer_vkey, signer_id;
  if (note) {
    for (const auto& k : keys) {
      auto nk = ledger::NoteKey::FromVerifierKey(k.vkey);
      if (!nk.ok()) continue;
      if (nk->Verify(*note).ok()) {
        signed_by = nk->name();
        signer_vkey = k.vkey;
        signer_id = KeyId(nk->key_hash());
        break;
      }
    }
    add("signature", !signed_by.empty(),
        !signed_by.empty()
            ? "signed by " + signed_by + " (key " + signer_id + ")"
            : "the checkpoint carries no valid signature by a key of this organization");
  }

  // Every fact.
  Json facts = Json::array();
  std::string first_bad;
  std::uint64_t last_seq = 0;
  for (std::size_t i = 0; i < b.items.size(); ++i) {
    const auto& it = b.items[i];
    std::string problem;
    std::optional<evidence::Fact> fact;
    if (i > 0 && it.seq <= last_seq) problem = "facts are not in increasing seq order";
    last_seq = it.seq;
    if (problem.empty()) {
      auto f = evidence::DecodeFact(it.entry);
      if (!f.ok()) {
        problem = "the entry does not decode: " + f.error().message();
      } else {
        fact = std::move(*f);
        if (fact->seq != it.seq) {
          problem = "the entry says seq " + std::to_string(fact->seq);
        } else if (fact->subject != b.subject) {
          problem = "about \"" + fact->subject + "\", not \"" + b.subject + "\"";
        }
      }
    }
    if (problem.empty() && !cp) problem = "no checkpoint to prove it against";
    if (problem.empty() && it.seq >= cp->size) {
      problem = "beyond the checkpoint size " + std::to_string(cp->size);
    }
    if (problem.empty()) {
      Status s = ledger::VerifyInclusion(b.alg, it.seq, cp->size,
                                         ledger::HashLeaf(b.alg, it.entry), it.proof, cp->root);
      if (!s.ok()) problem = s.message();
    }
    if (!problem.empty() && first_bad.empty()) {
      first_bad = "fact " + std::to_string(it.seq) + ": " + problem;
    }
    facts.push_back(Json{{"seq", it.seq},
                         {"ok", problem.empty()},
                         {"message",
                          problem.empty() ? "included in the checkpoint's tree" : problem},
                         {"fact", fact ? evidence::FactToJson(*fact) : Json(nullptr)}});
  }
  if (b.items.empty()) first_bad = "the bundle holds no facts";
  add("facts", first_bad.empty(),
      first_bad.empty() ? std::to_string(b.items.size()) + " facts about " + b.subject +
                              " are included in the checkpoint's tree"
                        : first_bad);

  // The library's verdict with the organization's key pinned: it must agree.
  if (ok) {
    auto verdict = evidence::VerifyBundle(b, signer_vkey);
    if (!verdict.ok()) add("bundle", false, verdict.error().message());
  }

  Json checkpoints = Json::array();
  Json cosignatures = Json::array();
  if (note && cp) {
    // Checkpoints carry no clock: their time is that of the last fact they cover, known
    // for this organization's own log only.
    Json time = nullptr;
    if (cp->origin == origin && cp->size > 0) {
      auto last = store_.FactsFrom(c.session->org_id, static_cast<std::int64_t>(cp->size - 1), 1);
      if (last.ok() && !last->empty() &&
          last->front().seq == static_cast<std::int64_t>(cp->size - 1)) {
        time = core::FormatTimestamp(last->front().time);
      }
    }
    checkpoints.push_back(Json{{"origin", cp->origin},
                               {"size", cp->size},
                               {"root", core::ToHex(cp->root)},
                               {"time", time},
                               {"signed_by", signed_by.empty() ? Json(nullptr) : Json(signed_by)},
                               {"key_id", signer_id.empty() ? Json(nullptr) : Json(signer_id)},
                               {"signature_ok", !signed_by.empty()}});
    const std::string own = cp->origin + "/k";
    for (const auto& sig : note->signatures) {
      if (sig.key_name.rfind(own, 0) == 0) continue;  // the organization's own lines
      std::string status = "unknown_key";
      std::string message = "no key of " + sig.key_name + " is known here; verify it with the "
                            "co-signer's published key";
      for (const auto& vk : b.verifier_keys) {
        auto nk = ledger::NoteKey::FromVerifierKey(vk);
        if (!nk.ok() || nk->name() != sig.key_name || nk->key_hash() != sig.key_hash) continue;
        const Status s = nk->Verify(*note);
        status = s.ok() ? "verified" : "invalid";
        message = s.ok() ? "valid co-signature" : s.message();
        break;
      }
      cosignatures.push_back(Json{{"checkpoint_size", cp->size},
                                  {"signer", sig.key_name},
                                  {"key_id", KeyId(sig.key_hash)},
                                  {"verified", status == "verified"},
                                  {"status", status},
                                  {"message", message}});
    }
  }
  Json out{{"ok", ok},
           {"origin", b.origin},
           {"subject", b.subject},
           {"hash", std::string(ledger::HashAlgName(b.alg))},
           {"checks", std::move(checks)},
           {"checkpoints", std::move(checkpoints)},
           {"cosignatures", std::move(cosignatures)},
           {"facts", std::move(facts)}};
  if (!ok) {
    for (const auto& ch : out["checks"]) {
      if (!ch["ok"].get<bool>()) {
        out["error"] = ch["check"].get<std::string>() + ": " + ch["message"].get<std::string>();
        break;
      }
    }
  }
  return Reply::Json(200, out);
}

}  // namespace wg::api

namespace wg::api {

// --- attachments (SM4 vault) ------------------------------------------------------------

namespace {

Json AttachmentJson(const vault::ObjectInfo& o) {
  Json j = vault::ToJson(o);
  j["subject"] = "attachment:" + o.id;  // the subject of its facts
  return j;
}

}  // namespace

Result<Reply> ApiService::UploadAttachment(const Call& c) {
  if (attachments_ == nullptr) return Status::Unavailable("attachments are not configured");
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"class", "name"}));
  const std::string* cls = Query(c.http, "class");
  if (cls == nullptr) return Status::InvalidArgument("is required", "class");
  const std::string* name = Query(c.http, "name");
  if (name == nullptr) return Status::InvalidArgument("is required", "name");
  std::string media_type = c.http.get_header_value("Content-Type");
  if (auto semi = media_type.find(';'); semi != std::string::npos) media_type.resize(semi);
  while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  std::transform(media_type.begin(), media_type.end(), media_type.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  WG_ASSIGN_OR_RETURN(domain::Organization org, store_.GetOrganization(c.session->org_id));
  std::ifstream in(c.spool_path, std::ios::binary);
  if (!in) return Status::IoError("cannot reopen the uploaded body");
  WG_ASSIGN_OR_RETURN(vault::ObjectInfo info,
                      attachments_->Store(c.session->org_id,
                                          {.org = org.code, .media_type = media_type,
                                           .file_name = *name, .retention_class = *cls},
                                          in, Actor(c)));
  return Reply::Json(201, AttachmentJson(info));
}

Result<Reply> ApiService::ListAttachments(const Call& c) {
  if (attachments_ == nullptr) return Status::Unavailable("attachments are not configured");
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(domain::Organization org, store_.GetOrganization(c.session->org_id));
  WG_ASSIGN_OR_RETURN(auto list, attachments_->vault().List(org.code));
  Json out = Json::array();
  for (const auto& o : list) out.push_back(AttachmentJson(o));
  return Reply::Json(200, {{"attachments", std::move(out)}});
}

Result<Reply> ApiService::AttachmentContent(const Call& c) {
  if (attachments_ == nullptr) return Status::Unavailable("attachments are not configured");
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"id"}));
  const std::string* id = Query(c.http, "id");
  if (id == nullptr) return Status::InvalidArgument("is required", "id");
  WG_ASSIGN_OR_RETURN(domain::Organization org, store_.GetOrganization(c.session->org_id));
  WG_ASSIGN_OR_RETURN(vault::ObjectInfo info, attachments_->vault().Stat(org.code, *id));
  if (info.size > options_.max_import_bytes) {
    return Status::ResourceExhausted("the attachment is larger than this server serves in one reply",
                                     "id");
  }
  std::ostringstream out;
  WG_RETURN_IF_ERROR(attachments_->vault().Get(org.code, *id, out));
  Reply r;
  r.status = 200;
  r.body = std::move(out).str();
  r.content_type = "application/octet-stream";
  // The stored media type is validated ("type/subtype", lower case) at upload; it is
  // served as a download so a browser never renders uploaded HTML in the API's origin.
  r.download_type = info.media_type;
  r.download_name = info.file_name;
  return r;
}

}  // namespace wg::api

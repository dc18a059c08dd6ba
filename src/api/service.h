#pragma once
// ApiService: the route handlers and the route table (docs/api.md).
//
// The transport (server.cc) has already matched the route, authenticated the caller,
// checked the role against the table below, parsed the {id} path parameter and read the
// body (a parsed JSON object, or a CSV upload spooled to a file) before a handler runs.
// A handler validates its own members and query parameters, calls the Registry or the
// Store with the caller's organization and renders the reply. It never reads an
// organization from the request.

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth.h"
#include "metrics.h"
#include "router.h"
#include "session_cache.h"
#include "wg/api/server.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/evidence/attachments.h"
#include "wg/evidence/bundle.h"
#include "wg/live/service.h"
#include "wg/permit/service.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::api {

// Roles allowed on a route, one bit per domain::Role; 0 marks a public route.
using RoleMask = std::uint32_t;
constexpr RoleMask RoleBit(domain::Role r) { return RoleMask{1} << static_cast<unsigned>(r); }

enum class BodyKind {
  kNone,  // any body is read and discarded
  kJson,  // a JSON object, at most max_body_bytes
  kCsv,   // text/csv, at most max_import_bytes, spooled to a temporary file
  kUpload,  // any single-part body (an attachment), at most max_import_bytes, spooled
  kRaw,     // any single-part body as text, at most kMaxRawBodyBytes (sensor batches,
            // decoded by the handler with wg/ingest/decode.h)
};

// The limit of BodyKind::kRaw bodies: the sensor payload limit (256 KiB).
inline constexpr std::size_t kMaxRawBodyBytes = ingest::kMaxPayloadBytes;

// How a route's {id} path parameter is read.
enum class IdKind {
  kInt,   // a positive 64-bit integer (Call::id); anything else is 400 naming "id"
  kText,  // a text key [A-Za-z0-9._-]{1,64} (Call::key), e.g. a monitoring point id
};

// One request as a handler sees it.
struct Call {
  const httplib::Request& http;
  const Session* session = nullptr;  // null on public routes
  std::int64_t id = 0;               // the {id} path parameter (> 0) when the route has one
  const core::Json* body = nullptr;  // BodyKind::kJson: the parsed object
  std::string spool_path;            // BodyKind::kCsv / kUpload: the uploaded file
  std::string raw;                   // BodyKind::kRaw: the body as received
  std::string key;                   // IdKind::kText routes: the {id} path parameter
};

struct Reply {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  // Set for attachment downloads: served with this Content-Type and
  // "Content-Disposition: attachment", plus X-Content-Type-Options: nosniff.
  std::string download_type;
  std::string download_name;
  // Extra response headers (Retry-After, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for streams (Server-Sent Events): the reply is served chunked with content_type;
  // `stream` is called until it returns false or calls sink.done(); `stream_done` runs
  // once when the response is gone (whether or not the stream ever started).
  std::function<bool(std::size_t offset, httplib::DataSink& sink)> stream;
  std::function<void(bool success)> stream_done;

  static Reply Json(int status, const core::Json& j);
};

class ApiService;
using Handler = core::Result<Reply> (ApiService::*)(const Call&);

struct RouteSpec {
  Method method;
  std::string_view pattern;
  RoleMask roles;
  BodyKind body;
  Handler handler;
  IdKind id_kind = IdKind::kInt;
};

// Rejects query parameters the route does not define, and repeated ones.
core::Status CheckQuery(const httplib::Request& req,
                        std::initializer_list<std::string_view> allowed);
// The query parameter `name`, or nullptr.
const std::string* Query(const httplib::Request& req, const std::string& name);
// A site code or point id in a query parameter: [A-Za-z0-9._-]{1,64}; the error names
// `field`.
core::Status CheckCode(std::string_view v, std::string_view field);

// Intake routes (readings, positions; monitor.cc): the 503 answer when the intake queue
// stayed full (nothing of the batch queued: resend after Retry-After), and the 202 answer
// with what was queued and the first 100 rejections, decoder's and service's.
Reply QueueFullReply(std::string_view what, std::string_view field);
Reply IntakeReply(std::size_t queued, const std::vector<ingest::Rejection>& decoded,
                  std::size_t rejected_later, const std::vector<ingest::Rejection>& later);

// The route table: every route, the roles allowed on it and its handler.
std::span<const RouteSpec> RouteTable();

class ApiService {
 public:
  ApiService(store::Store& store, registry::Registry& registry, const core::Clock& clock,
             const ServerOptions& options, Authenticator& auth, ApiMetrics& metrics);

  core::Result<Reply> Healthz(const Call& c);
  core::Result<Reply> Metrics(const Call& c);
  core::Result<Reply> OpenApi(const Call& c);
  core::Result<Reply> Login(const Call& c);
  core::Result<Reply> Logout(const Call& c);
  core::Result<Reply> Me(const Call& c);
  core::Result<Reply> GetOrganization(const Call& c);
  core::Result<Reply> ListSites(const Call& c);
  core::Result<Reply> CreateSite(const Call& c);
  core::Result<Reply> ListUsers(const Call& c);
  core::Result<Reply> CreateUser(const Call& c);
  core::Result<Reply> ListWorkers(const Call& c);
  core::Result<Reply> CreateWorker(const Call& c);
  core::Result<Reply> GetWorker(const Call& c);
  core::Result<Reply> SetWorkerStatus(const Call& c);
  core::Result<Reply> VerifyByQuery(const Call& c);
  core::Result<Reply> VerifyByBody(const Call& c);
  core::Result<Reply> CreateCertificate(const Call& c);
  core::Result<Reply> GetCertificate(const Call& c);
  core::Result<Reply> RevokeCertificate(const Call& c);
  core::Result<Reply> ReviewCertificate(const Call& c);
  core::Result<Reply> ExpiringCertificates(const Call& c);
  core::Result<Reply> ImportCertificates(const Call& c);
  core::Result<Reply> CertificateQr(const Call& c);
  core::Result<Reply> VerifyQr(const Call& c);
  core::Result<Reply> Catalog(const Call& c);
  core::Result<Reply> Operations(const Call& c);
  core::Result<Reply> LedgerCheckpoint(const Call& c);
  core::Result<Reply> LedgerProof(const Call& c);
  core::Result<Reply> LedgerConsistency(const Call& c);
  core::Result<Reply> LedgerLeaves(const Call& c);
  core::Result<Reply> LedgerCosign(const Call& c);
  core::Result<Reply> CertificateEvidence(const Call& c);
  core::Result<Reply> PermitEvidence(const Call& c);
  core::Result<Reply> VerifyEvidence(const Call& c);
  core::Result<Reply> UploadAttachment(const Call& c);
  core::Result<Reply> ListAttachments(const Call& c);
  core::Result<Reply> AttachmentContent(const Call& c);
  // Permits (permits.cc).
  core::Result<Reply> CheckPermit(const Call& c);
  core::Result<Reply> ListPermits(const Call& c);
  core::Result<Reply> CreatePermit(const Call& c);
  core::Result<Reply> GetPermit(const Call& c);
  core::Result<Reply> EditPermit(const Call& c);
  core::Result<Reply> SubmitPermit(const Call& c);
  core::Result<Reply> ConfirmPermitMeasure(const Call& c);
  core::Result<Reply> RecordPermitGas(const Call& c);
  core::Result<Reply> SignPermit(const Call& c);
  core::Result<Reply> ActivatePermit(const Call& c);
  core::Result<Reply> SuspendPermit(const Call& c);
  core::Result<Reply> ResumePermit(const Call& c);
  core::Result<Reply> CompletePermit(const Call& c);
  core::Result<Reply> CancelPermit(const Call& c);
  core::Result<Reply> PermitIncident(const Call& c);
  core::Result<Reply> PermitHistory(const Call& c);
  core::Result<Reply> PrintPermit(const Call& c);
  core::Result<Reply> VerifyPermit(const Call& c);
  core::Result<Reply> PermitRulebook(const Call& c);
  core::Result<Reply> GetAuthorization(const Call& c);
  core::Result<Reply> PutAuthorization(const Call& c);
  core::Result<Reply> MySigningKey(const Call& c);
  // Live monitoring (monitor.cc).
  core::Result<Reply> ListPoints(const Call& c);
  core::Result<Reply> GetPoint(const Call& c);
  core::Result<Reply> PutPoint(const Call& c);
  core::Result<Reply> DeletePoint(const Call& c);
  core::Result<Reply> PostReadings(const Call& c);
  core::Result<Reply> PointReadings(const Call& c);
  core::Result<Reply> ListAlarms(const Call& c);
  core::Result<Reply> GetAlarm(const Call& c);
  core::Result<Reply> AckAlarm(const Call& c);
  core::Result<Reply> Stream(const Call& c);
  core::Result<Reply> MonitorStatus(const Call& c);
  // People on site (presence.cc).
  core::Result<Reply> ListTags(const Call& c);
  core::Result<Reply> GetTag(const Call& c);
  core::Result<Reply> PutTag(const Call& c);
  core::Result<Reply> DeleteTag(const Call& c);
  core::Result<Reply> ListTagBindings(const Call& c);
  core::Result<Reply> BindTag(const Call& c);
  core::Result<Reply> EndBinding(const Call& c);
  core::Result<Reply> TagTrajectory(const Call& c);
  core::Result<Reply> ListFences(const Call& c);
  core::Result<Reply> GetFence(const Call& c);
  core::Result<Reply> PutFence(const Call& c);
  core::Result<Reply> DeleteFence(const Call& c);
  core::Result<Reply> GetSiteFrame(const Call& c);
  core::Result<Reply> PutSiteFrame(const Call& c);
  core::Result<Reply> GetSitePlan(const Call& c);
  core::Result<Reply> PutSitePlan(const Call& c);
  core::Result<Reply> PostPositions(const Call& c);
  core::Result<Reply> ListPositions(const Call& c);
  core::Result<Reply> PermitRegister(const Call& c);
  core::Result<Reply> PermitRegisterEntry(const Call& c);
  core::Result<Reply> Region(const Call& c);
  core::Result<Reply> PresenceStatus(const Call& c);
  // Early warning (predict.cc).
  core::Result<Reply> PredictForecasts(const Call& c);
  core::Result<Reply> PredictModel(const Call& c);

  // Attachment routes answer 503 until set (the server wires the installation's vault).
  void set_attachments(evidence::Attachments* a) { attachments_ = a; }
  // Permit routes answer 503 until set.
  void set_permits(permit::PermitService* p) { permits_ = p; }
  // Live-monitoring routes answer 503 until set.
  void set_monitor(live::MonitorService* m) { monitor_ = m; }
  // People-on-site routes answer 503 until set.
  void set_presence(live::PresenceService* p) { presence_ = p; }
  // The most Server-Sent-Event streams open at once (ServerOptions::max_streams, or a
  // quarter of the thread pool), and how many are open.
  int max_streams() const;
  int open_streams() const { return streams_open_->load(); }

 private:
  core::Result<Reply> Verify(const Call& c, const std::string& operation,
                             std::optional<core::Timestamp> at,
                             std::optional<std::string> presented_id);
  core::Date Today() const;
  // "user:<username>": the actor recorded in the caller's facts.
  static std::string Actor(const Call& c);

  store::Store& store_;
  registry::Registry& registry_;
  const core::Clock& clock_;
  const ServerOptions& options_;
  Authenticator& auth_;
  ApiMetrics& metrics_;
  evidence::Attachments* attachments_ = nullptr;
  permit::PermitService* permits_ = nullptr;
  core::Result<permit::PermitService*> Permits() const;
  permit::Actor PermitActor(const Call& c) const;
  core::Result<Reply> Lifecycle(const Call& c, permit::Action action);
  live::MonitorService* monitor_ = nullptr;
  live::PresenceService* presence_ = nullptr;
  core::Result<live::PresenceService*> Presence() const;
  core::Result<live::MonitorService*> Monitor() const;
  live::Actor MonitorActor(const Call& c) const;
  // Open streams; shared with each stream's release callback.
  std::shared_ptr<std::atomic<int>> streams_open_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace wg::api

// End-to-end tests of the HTTP API: a real ApiServer on port 0 over a real SQLite store,
// a Registry with the embedded rulebook, a FakeClock and an httplib client.

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <set>
#include <stdexcept>

#include "service.h"
#include "wg/api/server.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/registry/id_number.h"
#include "wg/evidence/attachments.h"
#include "wg/evidence/bundle.h"
#include "wg/ledger/checkpoint.h"
#include "wg/permit/service.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::api {
namespace {

using core::Json;

constexpr const char* kPassword = "correct horse battery";
constexpr core::Duration kTtl = core::Duration::Hours(12);
const crypto::PasswordParams kFastHash{1, 1024, 1};

const registry::Rulebook& Book() {
  static const registry::Rulebook* book = [] {
    auto b = registry::Rulebook::LoadEmbedded();
    if (!b.has_value()) {
      ADD_FAILURE() << b.error().ToString();
      std::abort();
    }
    return new registry::Rulebook(std::move(b).value());
  }();
  return *book;
}

std::string ResidentId(const std::string& first17) {
  return first17 + registry::ResidentIdCheckChar(first17);
}

core::Timestamp Noon(const char* date) {
  return core::ShanghaiStartOfDay(core::ParseDate(date).value()) + core::Duration::Hours(12);
}

// What a test sees of a response.
struct Reply {
  int status = 0;
  std::string raw;
  Json json;
  httplib::Headers headers;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string ErrorCode() const { return json.value("/error/code"_json_pointer, ""); }
  std::string ErrorField() const { return json.value("/error/field"_json_pointer, ""); }
};

// A Store that forwards to a real one, except that ListSites throws: an unexpected
// exception inside a handler.
class ThrowingStore final : public store::Store {
 public:
  explicit ThrowingStore(store::Store& inner) : s_(inner) {}

  // Live monitoring: forwarded.
  store::Result<store::PointRow> PutPoint(const store::PointRow& r, std::int64_t v, const store::FactDrafts& f) override { return s_.PutPoint(r, v, f); }
  store::Status DeletePoint(core::OrgId o, const std::string& id, const store::FactDrafts& f) override { return s_.DeletePoint(o, id, f); }
  store::Result<store::PointRow> GetPoint(core::OrgId o, const std::string& id) override { return s_.GetPoint(o, id); }
  store::Result<std::vector<store::PointRow>> ListPoints(core::OrgId o) override { return s_.ListPoints(o); }
  store::Status ScanPoints(const std::function<bool(const store::PointRow&)>& f) override { return s_.ScanPoints(f); }
  store::Status RecordAlarms(const std::vector<store::AlarmRow>& a, const std::vector<store::NotificationRow>& n, core::OrgId o, const store::FactDrafts& f) override { return s_.RecordAlarms(a, n, o, f); }
  store::Result<store::AlarmRow> GetAlarm(core::OrgId o, std::int64_t id) override { return s_.GetAlarm(o, id); }
  store::Result<std::vector<store::AlarmRow>> ListAlarms(core::OrgId o, const store::AlarmFilter& f, std::int64_t b, int l) override { return s_.ListAlarms(o, f, b, l); }
  store::Result<std::vector<store::AlarmRow>> OpenAlarms() override { return s_.OpenAlarms(); }
  store::Result<std::int64_t> MaxAlarmId() override { return s_.MaxAlarmId(); }
  store::Status AppendReadingBlocks(core::OrgId o, const std::vector<store::ReadingBlockRow>& b, const std::vector<int>& i, const store::FactDrafts& f) override { return s_.AppendReadingBlocks(o, b, i, f); }
  store::Result<std::vector<store::ReadingBlockRow>> ReadingBlocks(core::OrgId o, const std::string& p, core::Timestamp a, core::Timestamp b, int l) override { return s_.ReadingBlocks(o, p, a, b, l); }
  store::Result<std::vector<store::NotificationRow>> DueNotifications(core::Timestamp n, int m, int l) override { return s_.DueNotifications(n, m, l); }
  store::Status MarkNotification(std::int64_t id, bool d, core::Timestamp n, core::Timestamp x, const std::string& e) override { return s_.MarkNotification(id, d, n, x, e); }
  store::Result<std::vector<store::NotificationRow>> ListNotifications(core::OrgId o, std::int64_t a, int l) override { return s_.ListNotifications(o, a, l); }
  store::Result<std::int64_t> CountPendingNotifications() override { return s_.CountPendingNotifications(); }
  store::Result<store::PresenceObjectRow> PutPresenceObject(const store::PresenceObjectRow& r, std::int64_t v, const store::FactDrafts& f) override { return s_.PutPresenceObject(r, v, f); }
  store::Status DeletePresenceObject(core::OrgId o, const std::string& k, const std::string& id, const store::FactDrafts& f) override { return s_.DeletePresenceObject(o, k, id, f); }
  store::Result<store::PresenceObjectRow> GetPresenceObject(core::OrgId o, const std::string& k, const std::string& id) override { return s_.GetPresenceObject(o, k, id); }
  store::Result<std::vector<store::PresenceObjectRow>> ListPresenceObjects(core::OrgId o, const std::string& k) override { return s_.ListPresenceObjects(o, k); }
  store::Status ScanPresenceObjects(const std::function<bool(const store::PresenceObjectRow&)>& f) override { return s_.ScanPresenceObjects(f); }
  store::Result<store::TagBindingRow> AddTagBinding(const store::TagBindingRow& r, const store::FactDrafts& f) override { return s_.AddTagBinding(r, f); }
  store::Result<store::TagBindingRow> EndTagBinding(core::OrgId o, std::int64_t id, core::Timestamp u, const store::FactDrafts& f) override { return s_.EndTagBinding(o, id, u, f); }
  store::Result<std::vector<store::TagBindingRow>> ListTagBindings(core::OrgId o, const std::string& t) override { return s_.ListTagBindings(o, t); }
  store::Status ScanTagBindings(const std::function<bool(const store::TagBindingRow&)>& f) override { return s_.ScanTagBindings(f); }
  store::Status AppendTrajectoryBlocks(core::OrgId o, const std::vector<store::TrajectoryBlockRow>& b, const std::vector<int>& i, const store::FactDrafts& f) override { return s_.AppendTrajectoryBlocks(o, b, i, f); }
  store::Result<std::vector<store::TrajectoryBlockRow>> TrajectoryBlocks(core::OrgId o, const std::string& t, core::Timestamp a, core::Timestamp b, int l) override { return s_.TrajectoryBlocks(o, t, a, b, l); }
  int SchemaVersion() const override { return s_.SchemaVersion(); }
  store::Result<std::optional<std::string>> GetSetting(const std::string& k) override {
    return s_.GetSetting(k);
  }
  store::Status PutSetting(const std::string& k, const std::string& v) override {
    return s_.PutSetting(k, v);
  }
  store::Result<domain::Organization> CreateOrganization(const store::NewOrganization& o,
                                                         const store::FactDrafts& f) override {
    return s_.CreateOrganization(o, f);
  }
  store::Result<domain::Organization> GetOrganization(core::OrgId id) override {
    return s_.GetOrganization(id);
  }
  store::Result<domain::Organization> FindOrganizationByCode(const std::string& c) override {
    return s_.FindOrganizationByCode(c);
  }
  store::Result<std::vector<domain::Organization>> ListOrganizations() override {
    return s_.ListOrganizations();
  }
  store::Result<domain::Site> CreateSite(core::OrgId o, const store::NewSite& s,
                                         const store::FactDrafts& f) override {
    return s_.CreateSite(o, s, f);
  }
  store::Result<std::vector<domain::Site>> ListSites(core::OrgId) override {
    throw std::runtime_error("injected failure");
  }
  store::Result<domain::User> CreateUser(const domain::User& u,
                                         const store::FactDrafts& f) override {
    return s_.CreateUser(u, f);
  }
  store::Result<domain::User> GetUser(core::OrgId o, core::UserId id) override {
    return s_.GetUser(o, id);
  }
  store::Result<domain::User> FindUserByUsername(const std::string& u) override {
    return s_.FindUserByUsername(u);
  }
  store::Result<std::vector<domain::User>> ListUsers(core::OrgId o) override {
    return s_.ListUsers(o);
  }
  store::Status SaveToken(const store::TokenRecord& t) override { return s_.SaveToken(t); }
  store::Result<store::TokenRecord> FindToken(const std::string& d) override {
    return s_.FindToken(d);
  }
  store::Status DeleteToken(const std::string& d) override { return s_.DeleteToken(d); }
  store::Result<std::int64_t> DeleteExpiredTokens(core::Timestamp now) override {
    return s_.DeleteExpiredTokens(now);
  }
  store::Result<domain::Worker> CreateWorker(const domain::Worker& w,
                                             const store::FactDrafts& f) override {
    return s_.CreateWorker(w, f);
  }
  store::Result<domain::Worker> GetWorker(core::OrgId o, core::WorkerId id) override {
    return s_.GetWorker(o, id);
  }
  store::Result<domain::Worker> FindWorkerByIdLookup(core::OrgId o,
                                                     const std::string& l) override {
    return s_.FindWorkerByIdLookup(o, l);
  }
  store::Result<domain::Worker> FindWorkerByCode(core::OrgId o, const std::string& c) override {
    return s_.FindWorkerByCode(o, c);
  }
  store::Result<std::vector<domain::Worker>> ListWorkers(core::OrgId o,
                                                         const store::Page& p) override {
    return s_.ListWorkers(o, p);
  }
  store::Status UpdateWorkerStatus(core::OrgId o, core::WorkerId id, domain::WorkerStatus st,
                                   const store::FactDrafts& f) override {
    return s_.UpdateWorkerStatus(o, id, st, f);
  }
  store::Result<domain::Certificate> CreateCertificate(const domain::Certificate& c,
                                                       const store::FactDrafts& f) override {
    return s_.CreateCertificate(c, f);
  }
  store::Result<domain::Certificate> GetCertificate(core::OrgId o,
                                                    core::CertificateId id) override {
    return s_.GetCertificate(o, id);
  }
  store::Result<std::vector<domain::Certificate>> ListCertificatesOfWorker(
      core::OrgId o, core::WorkerId w) override {
    return s_.ListCertificatesOfWorker(o, w);
  }
  store::Result<domain::Certificate> UpdateCertificate(const domain::Certificate& c,
                                                       const store::FactDrafts& f) override {
    return s_.UpdateCertificate(c, f);
  }
  store::Result<std::unique_ptr<store::ImportSession>> BeginImport(core::OrgId o) override {
    return s_.BeginImport(o);
  }
  store::Result<store::ImportSummary> ImportBatch(
      core::OrgId o, const std::vector<store::ImportWorker>& w,
      const std::vector<store::ImportCertificate>& c) override {
    return s_.ImportBatch(o, w, c);
  }
  store::Result<std::int64_t> ScanAll(
      const std::function<bool(const domain::Worker&)>& w,
      const std::function<bool(const domain::Certificate&)>& c) override {
    return s_.ScanAll(w, c);
  }
  store::Result<std::vector<store::Change>> ChangesSince(std::int64_t r, int limit) override {
    return s_.ChangesSince(r, limit);
  }
  store::Result<std::int64_t> CurrentRevision() override { return s_.CurrentRevision(); }
  store::Result<std::int64_t> CountWorkers() override { return s_.CountWorkers(); }
  store::Result<std::int64_t> CountCertificates() override { return s_.CountCertificates(); }
  store::Status AppendFacts(core::OrgId o, const store::FactDrafts& f) override {
    return s_.AppendFacts(o, f);
  }
  store::Result<std::vector<store::StoredFact>> FactsFrom(core::OrgId o, std::int64_t from,
                                                          int limit) override {
    return s_.FactsFrom(o, from, limit);
  }
  store::Result<std::vector<store::StoredFact>> FactsAbout(core::OrgId o, const std::string& s,
                                                           std::int64_t from, int limit) override {
    return s_.FactsAbout(o, s, from, limit);
  }
  store::Result<std::int64_t> FactCount(core::OrgId o) override { return s_.FactCount(o); }
  store::Result<std::vector<store::StoredFact>> FactsOfKinds(core::OrgId o,
                                                             const std::vector<std::string>& k,
                                                             std::int64_t f, int l) override {
    return s_.FactsOfKinds(o, k, f, l);
  }
  store::Result<store::PermitRow> CreatePermit(const store::PermitRow& r, const std::string& p,
                                               const store::FactDrafts& f) override {
    return s_.CreatePermit(r, p, f);
  }
  store::Result<store::PermitRow> CreatePermitWith(const store::PermitRow& r,
                                                   const std::string& p,
                                                   const PermitFinisher& f) override {
    return s_.CreatePermitWith(r, p, f);
  }
  store::Result<store::PermitRow> UpdatePermit(const store::PermitRow& r, std::int64_t v,
                                               const store::FactDrafts& f) override {
    return s_.UpdatePermit(r, v, f);
  }
  store::Result<store::PermitRow> GetPermit(core::OrgId o, std::int64_t id) override {
    return s_.GetPermit(o, id);
  }
  store::Result<store::PermitRow> FindPermitByNumber(core::OrgId o,
                                                     const std::string& n) override {
    return s_.FindPermitByNumber(o, n);
  }
  store::Result<std::vector<store::PermitRow>> ListPermits(core::OrgId o,
                                                           const store::PermitFilter& f,
                                                           std::int64_t b, int l) override {
    return s_.ListPermits(o, f, b, l);
  }
  store::Status ScanPermits(const std::vector<std::string>& st,
                            const std::function<bool(const store::PermitRow&)>& cb) override {
    return s_.ScanPermits(st, cb);
  }
  store::Result<std::vector<PermitChange>> PermitChangesSince(std::int64_t r, int l) override {
    return s_.PermitChangesSince(r, l);
  }
  store::Status AddUserKey(const store::UserKeyRow& k, const store::FactDrafts& f) override {
    return s_.AddUserKey(k, f);
  }
  store::Result<std::vector<store::UserKeyRow>> ListUserKeys(core::OrgId o,
                                                             core::UserId u) override {
    return s_.ListUserKeys(o, u);
  }
  store::Status PutAuthorization(core::OrgId o, core::UserId u, const std::string& j,
                                 const store::FactDrafts& f) override {
    return s_.PutAuthorization(o, u, j, f);
  }
  store::Result<std::optional<std::string>> GetAuthorization(core::OrgId o,
                                                             core::UserId u) override {
    return s_.GetAuthorization(o, u);
  }

 private:
  store::Store& s_;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto opened = store::OpenSqliteStore({.path = dir_ + "/wg.db", .clock = &clock_});
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(opened).value();
    auto a = store_->CreateOrganization({"plant-a", "A 石化"});
    auto b = store_->CreateOrganization({"plant-b", "B 化工"});
    ASSERT_TRUE(a.has_value() && b.has_value());
    org_a_ = a->id;
    org_b_ = b->id;
    AddUser(org_a_, "admin-a", domain::Role::kAdmin);
    AddUser(org_a_, "mgr-a", domain::Role::kSafetyManager);
    AddUser(org_a_, "guard-a", domain::Role::kGuardian);
    AddUser(org_a_, "worker-a", domain::Role::kWorker);
    AddUser(org_a_, "regulator-a", domain::Role::kRegulator);
    AddUser(org_a_, "gone-a", domain::Role::kGuardian, /*active=*/false);
    AddUser(org_b_, "mgr-b", domain::Role::kSafetyManager);

    auto keys = evidence::KeyRing::Open(dir_ + "/keys", "workguard.test/api");
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    keys_ = std::move(keys).value();
    auto ev = evidence::Evidence::Open({.ledger_dir = dir_ + "/ledger", .sync = false}, *store_,
                                       *keys_, clock_);
    ASSERT_TRUE(ev.has_value()) << ev.error().ToString();
    evidence_ = std::move(ev).value();
    registry_ = std::make_unique<registry::Registry>(*store_, clock_, Book(),
                                                     registry::IdDigester(std::string(32, 'k')),
                                                     *evidence_);
    auto retention = vault::RetentionBook::LoadEmbedded();
    ASSERT_TRUE(retention.has_value());
    auto v = vault::Vault::Open(dir_ + "/vault", clock_, std::string(32, 'v'), *retention);
    ASSERT_TRUE(v.has_value()) << v.error().ToString();
    vault_ = std::move(v).value();
    attachments_ = std::make_unique<evidence::Attachments>(*store_, *evidence_, *vault_, clock_);
    auto permit_book = permit::PermitRulebook::LoadEmbedded();
    ASSERT_TRUE(permit_book.has_value()) << permit_book.error().ToString();
    permit_book_ = std::make_unique<permit::PermitRulebook>(std::move(*permit_book));
    permits_ = std::make_unique<permit::PermitService>(*store_, *registry_, *evidence_,
                                                       *permit_book_, clock_, std::string(32, 'm'));
    ASSERT_TRUE(registry_->LoadIndex().ok());
    ASSERT_TRUE(permits_->LoadIndex().ok());
    StartServer(*store_);
  }

  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    server_.reset();
    permits_.reset();
    registry_.reset();
    attachments_.reset();
    vault_.reset();
    evidence_.reset();
    keys_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer(store::Store& store) {
    client_.reset();
    server_.reset();
    ServerOptions options;
    options.port = 0;
    options.threads = 8;
    options.max_body_bytes = 16 * 1024;
    options.max_import_bytes = 64 * 1024;
    options.token_ttl = kTtl;
    options.import_tmp_dir = dir_ + "/tmp";
    server_ = std::make_unique<ApiServer>(store, *registry_, clock_, options);
    server_->SetAttachments(attachments_.get());
    server_->SetPermits(permits_.get());
    core::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  void AddUser(core::OrgId org, const std::string& name, domain::Role role, bool active = true) {
    domain::User u;
    u.org_id = org;
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.active = active;
    auto hash = crypto::HashPassword(kPassword, kFastHash);
    ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
    u.password_hash = *hash;
    auto created = store_->CreateUser(u);
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
  }

  static Reply Wrap(const httplib::Result& r) {
    Reply out;
    if (!r) {
      ADD_FAILURE() << "no response: " << httplib::to_string(r.error());
      return out;
    }
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    if (r->get_header_value("Content-Type").starts_with("application/json") && !r->body.empty()) {
      out.json = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(out.json.is_discarded()) << r->body;
    }
    return out;
  }

  static httplib::Headers Auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  Reply Get(const std::string& path, const std::string& token = "") {
    return Wrap(client_->Get(path.c_str(), Auth(token)));
  }
  Reply Post(const std::string& path, const std::string& body, const std::string& token = "",
             const char* content_type = "application/json") {
    return Wrap(client_->Post(path.c_str(), Auth(token), body, content_type));
  }
  Reply PostJson(const std::string& path, const Json& body, const std::string& token) {
    return Post(path, body.dump(), token);
  }
  Reply Put(const std::string& path, const Json& body, const std::string& token) {
    return Wrap(client_->Put(path.c_str(), Auth(token), body.dump(), "application/json"));
  }

  std::string Login(const std::string& user, const std::string& password = kPassword) {
    Reply r = PostJson("/api/v1/auth/login", {{"username", user}, {"password", password}}, "");
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.json.value("token", "");
  }

  // Creates a worker through the API and returns its id.
  std::int64_t CreateWorker(const std::string& token, const std::string& code,
                            const std::string& national_id) {
    Reply r = PostJson("/api/v1/workers",
                       {{"code", code},
                        {"name", "张三"},
                        {"employer", "A 检修"},
                        {"national_id", national_id},
                        {"phone", "13800000000"}},
                       token);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.json.value("id", std::int64_t{0});
  }

  std::int64_t CreateWeldingCert(const std::string& token, std::int64_t worker,
                                 const std::string& number) {
    Reply r = PostJson("/api/v1/certificates",
                       {{"worker_id", worker},
                        {"kind", "special_operation"},
                        {"category", "welding"},
                        {"item", "fusion_welding"},
                        {"number", number},
                        {"authority", "南京市应急管理局"},
                        {"issue_date", "2025-06-01"}},
                       token);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.json.value("id", std::int64_t{0});
  }

  std::string dir_;
  core::FakeClock clock_{Noon("2026-11-28")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<evidence::KeyRing> keys_;
  std::unique_ptr<evidence::Evidence> evidence_;
  std::unique_ptr<vault::Vault> vault_;
  std::unique_ptr<evidence::Attachments> attachments_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<permit::PermitRulebook> permit_book_;
  std::unique_ptr<permit::PermitService> permits_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  core::OrgId org_a_, org_b_;
};

// --- authentication ----------------------------------------------------------------------

TEST_F(ApiTest, LoginReturnsATokenWhoseDigestAloneIsStored) {
  Reply r = PostJson("/api/v1/auth/login", {{"username", "mgr-a"}, {"password", kPassword}}, "");
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string token = r.json.value("token", "");
  ASSERT_EQ(token.size(), 64u);
  EXPECT_EQ(r.json["expires_at"], core::FormatTimestamp(clock_.Now() + kTtl));
  EXPECT_EQ(r.json["user"]["username"], "mgr-a");
  EXPECT_EQ(r.json["user"]["role"], "safety_manager");
  EXPECT_EQ(r.raw.find("argon2"), std::string::npos) << "no password hash in the reply";
  EXPECT_FALSE(r.json["user"].contains("password_hash"));

  auto stored = store_->FindToken(core::ToHex(crypto::Sha256(token)));
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_EQ(stored->expires_at, clock_.Now() + kTtl);
  EXPECT_FALSE(store_->FindToken(token).has_value()) << "the token itself is never stored";

  Reply me = Get("/api/v1/me", token);
  ASSERT_EQ(me.status, 200) << me.raw;
  EXPECT_EQ(me.json["user"]["username"], "mgr-a");
  EXPECT_EQ(me.json["organization"]["code"], "plant-a");
}

TEST_F(ApiTest, WrongPasswordAndUnknownUserGetTheSame401) {
  Reply wrong =
      PostJson("/api/v1/auth/login", {{"username", "mgr-a"}, {"password", "not the password"}}, "");
  Reply unknown = PostJson("/api/v1/auth/login",
                           {{"username", "nobody"}, {"password", "not the password"}}, "");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.ErrorCode(), "UNAUTHENTICATED");
  EXPECT_EQ(wrong.raw, unknown.raw);
}

TEST_F(ApiTest, InactiveUserCannotLogIn) {
  Reply r = PostJson("/api/v1/auth/login", {{"username", "gone-a"}, {"password", kPassword}}, "");
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_EQ(r.ErrorCode(), "UNAUTHENTICATED");
}

TEST_F(ApiTest, LoginValidatesItsBody) {
  Reply r = PostJson("/api/v1/auth/login", {{"username", "mgr-a"}}, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "password");
  r = PostJson("/api/v1/auth/login", {{"username", "mgr-a"}, {"password", kPassword}, {"org", 2}},
               "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "org");
}

TEST_F(ApiTest, MissingMalformedAndUnknownTokensAre401) {
  Reply missing = Get("/api/v1/me");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.ErrorCode(), "UNAUTHENTICATED");
  EXPECT_EQ(missing.Header("WWW-Authenticate"), "Bearer");

  for (const char* header :
       {"Bearer", "Bearer abc", "Basic dXNlcjpwYXNz", "bearer ZZZ",
        "Bearer 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"}) {
    Reply r = Wrap(client_->Get("/api/v1/me", {{"Authorization", header}}));
    EXPECT_EQ(r.status, 401) << header;
    EXPECT_EQ(r.ErrorCode(), "UNAUTHENTICATED") << header;
  }
  Reply unknown = Get("/api/v1/me", std::string(64, 'a'));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.ErrorCode(), "UNAUTHENTICATED");
}

TEST_F(ApiTest, ExpiredTokenIsRejectedEvenWhenCached) {
  const std::string token = Login("guard-a");
  ASSERT_EQ(Get("/api/v1/me", token).status, 200);  // now in the session cache
  clock_.Advance(core::Duration{kTtl.micros - 1});
  EXPECT_EQ(Get("/api/v1/me", token).status, 200) << "valid until the last microsecond";
  clock_.Advance(core::Duration{1});
  Reply r = Get("/api/v1/me", token);
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_EQ(r.ErrorCode(), "UNAUTHENTICATED");
}

TEST_F(ApiTest, LogoutEndsTheSession) {
  const std::string token = Login("guard-a");
  ASSERT_EQ(Get("/api/v1/me", token).status, 200);
  Reply out = Post("/api/v1/auth/logout", "", token);
  EXPECT_EQ(out.status, 204) << out.raw;
  EXPECT_EQ(Get("/api/v1/me", token).status, 401);
  EXPECT_FALSE(store_->FindToken(core::ToHex(crypto::Sha256(token))).has_value());
}

TEST_F(ApiTest, TokenDeletedBehindTheCacheStopsWorkingOnRevalidation) {
  const std::string token = Login("guard-a");
  ASSERT_EQ(Get("/api/v1/me", token).status, 200);
  // Another process (the CLI) deletes the token; the cache notices within a minute.
  ASSERT_TRUE(store_->DeleteToken(core::ToHex(crypto::Sha256(token))).ok());
  clock_.Advance(core::Duration::Seconds(61));
  EXPECT_EQ(Get("/api/v1/me", token).status, 401);
}

// --- roles and organizations -------------------------------------------------------------

TEST_F(ApiTest, RolesAreEnforcedPerRoute) {
  const std::string guard = Login("guard-a");
  Reply r = PostJson(
      "/api/v1/workers",
      {{"code", "W1"}, {"name", "张三"}, {"national_id", ResidentId("32010219900101123")}}, guard);
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(r.ErrorCode(), "PERMISSION_DENIED");
  EXPECT_FALSE(store_->FindWorkerByCode(org_a_, "W1").has_value()) << "nothing was written";
  EXPECT_EQ(Get("/api/v1/workers", guard).status, 200) << "guardians may read";

  const std::string worker = Login("worker-a");
  EXPECT_EQ(Get("/api/v1/me", worker).status, 200);
  EXPECT_EQ(Get("/api/v1/openapi.json", worker).status, 200);
  EXPECT_EQ(Get("/api/v1/workers", worker).status, 403);
  EXPECT_EQ(Get("/api/v1/workers/1/verify?operation=hot_work", worker).status, 403);

  const std::string regulator = Login("regulator-a");
  EXPECT_EQ(Get("/api/v1/certificates/expiring?days=30", regulator).status, 403);
  EXPECT_EQ(Get("/api/v1/certificates/expiring?days=30", guard).status, 403);
  // The regulator reads workers without the plant's contact data; the plant's roles see it.
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W-PHONE", ResidentId("11010119900307447"));
  const std::string wp = "/api/v1/workers/" + std::to_string(w);
  Reply seen_by_mgr = Get(wp, mgr);
  ASSERT_EQ(seen_by_mgr.status, 200) << seen_by_mgr.raw;
  EXPECT_EQ(seen_by_mgr.json.value("phone", ""), "13800000000");
  Reply seen_by_reg = Get(wp, regulator);
  ASSERT_EQ(seen_by_reg.status, 200) << seen_by_reg.raw;
  EXPECT_FALSE(seen_by_reg.json.contains("phone")) << seen_by_reg.raw;
  EXPECT_EQ(seen_by_reg.raw.find("13800000000"), std::string::npos);
  Reply list_by_reg = Get("/api/v1/workers", regulator);
  ASSERT_EQ(list_by_reg.status, 200);
  EXPECT_EQ(list_by_reg.raw.find("13800000000"), std::string::npos) << list_by_reg.raw;
  EXPECT_EQ(Get("/api/v1/users", Login("mgr-a")).status, 403);
  EXPECT_EQ(Get("/api/v1/users", Login("admin-a")).status, 200);
}

TEST_F(ApiTest, AnotherOrganizationsRecordsAre404AndStayUnchanged) {
  const std::string mgr_b = Login("mgr-b");
  const std::string id_b = ResidentId("32010219851111123");
  const std::int64_t worker_b = CreateWorker(mgr_b, "WB", id_b);
  const std::int64_t cert_b = CreateWeldingCert(mgr_b, worker_b, "TB-1");
  ASSERT_GT(worker_b, 0);
  ASSERT_GT(cert_b, 0);

  const std::string mgr_a = Login("mgr-a");
  const std::string w = "/api/v1/workers/" + std::to_string(worker_b);
  const std::string c = "/api/v1/certificates/" + std::to_string(cert_b);
  EXPECT_EQ(Get(w, mgr_a).status, 404);
  // Verification answers with the verdict unknown_worker, exactly as for a missing id.
  Reply cross = Get(w + "/verify?operation=hot_work", mgr_a);
  EXPECT_EQ(cross.status, 200);
  EXPECT_EQ(cross.json["verdict"], "unknown_worker");
  EXPECT_EQ(cross.json["may_work"], false);
  EXPECT_EQ(cross.json["certificate"], nullptr);
  Reply cross_post =
      PostJson(w + "/verify", {{"operation", "hot_work"}, {"national_id", id_b}}, mgr_a);
  EXPECT_EQ(cross_post.status, 200);
  EXPECT_EQ(cross_post.json["verdict"], "unknown_worker");
  EXPECT_EQ(Put(w + "/status", {{"status", "suspended"}}, mgr_a).status, 404);
  EXPECT_EQ(Get(c, mgr_a).status, 404);
  EXPECT_EQ(Get(c + "/qr?format=json", mgr_a).status, 404);
  Reply revoke = PostJson(c + "/revoke", {{"reason", "accident_responsibility"}}, mgr_a);
  EXPECT_EQ(revoke.status, 404) << revoke.raw;
  EXPECT_EQ(revoke.ErrorCode(), "NOT_FOUND");
  EXPECT_EQ(PostJson(c + "/review", {{"review_date", "2026-11-01"}}, mgr_a).status, 404);
  Reply list = Get("/api/v1/workers", mgr_a);
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.json["workers"].empty());

  // Org B's records are untouched.
  auto cert = store_->GetCertificate(org_b_, core::CertificateId{cert_b});
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->status, domain::CertStatus::kActive);
  auto worker = store_->GetWorker(org_b_, core::WorkerId{worker_b});
  ASSERT_TRUE(worker.has_value());
  EXPECT_EQ(worker->status, domain::WorkerStatus::kActive);
  Reply v = Get(w + "/verify?operation=hot_work", mgr_b);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_EQ(v.json["may_work"], true);
}

// --- input validation --------------------------------------------------------------------

TEST_F(ApiTest, OversizedBodyIs413AndTheConnectionStaysUsable) {
  const std::string mgr = Login("mgr-a");
  client_->set_keep_alive(true);
  Json big = {{"code", "W1"}, {"name", std::string(20 * 1024, 'x')}};
  Reply r = PostJson("/api/v1/workers", big, mgr);
  EXPECT_EQ(r.status, 413) << r.raw;
  EXPECT_EQ(r.ErrorCode(), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(r.ErrorField(), "body");
  // Same connection: the rest of the body was read and dropped, not taken as a request.
  Reply next = Get("/api/v1/me", mgr);
  EXPECT_EQ(next.status, 200) << next.raw;
}

TEST_F(ApiTest, MalformedJsonIs400NamingTheBody) {
  const std::string mgr = Login("mgr-a");
  for (const char* body : {"{\"code\": ", "", "not json", "[1,2]", "\"text\""}) {
    Reply r = Post("/api/v1/workers", body, mgr);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_ARGUMENT") << body;
    EXPECT_EQ(r.ErrorField(), "body") << body;
  }
}

TEST_F(ApiTest, WrongTypeIs400NamingTheField) {
  const std::string mgr = Login("mgr-a");
  Reply r = PostJson("/api/v1/workers", {{"code", 5}, {"name", "张三"}}, mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "code");
  r = PostJson("/api/v1/certificates", {{"worker_id", "1"}, {"kind", "special_operation"}}, mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "worker_id");
  r = PostJson("/api/v1/certificates",
               {{"worker_id", 1},
                {"kind", "special_operation"},
                {"category", "welding"},
                {"item", "fusion_welding"},
                {"number", "N"},
                {"authority", "X"},
                {"issue_date", "2024-02-30"}},
               mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "issue_date");
}

TEST_F(ApiTest, UnknownMemberIs400NamingIt) {
  const std::string mgr = Login("mgr-a");
  Reply r = PostJson(
      "/api/v1/workers",
      {{"code", "W1"}, {"nmae", "typo"}, {"national_id", ResidentId("32010219900101123")}}, mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "nmae");
}

TEST_F(ApiTest, DeepJsonIs400) {
  const std::string mgr = Login("mgr-a");
  std::string deep = "{\"code\":" + std::string(40, '[') + std::string(40, ']') + "}";
  Reply r = Post("/api/v1/workers", deep, mgr);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.ErrorField(), "body");
}

TEST_F(ApiTest, PathIdsAndQueryParametersAreValidated) {
  const std::string mgr = Login("mgr-a");
  for (const char* path : {"/api/v1/workers/abc", "/api/v1/workers/-1", "/api/v1/workers/0",
                           "/api/v1/workers/99999999999999999999", "/api/v1/certificates/1x"}) {
    Reply r = Get(path, mgr);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.ErrorField(), "id") << path;
  }
  Reply r = Get("/api/v1/workers?limit=0", mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "limit");
  r = Get("/api/v1/workers?org_id=2", mgr);
  EXPECT_EQ(r.status, 400) << "there is no organization parameter";
  EXPECT_EQ(r.ErrorField(), "org_id");
  r = Get("/api/v1/certificates/expiring?days=367", mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "days");
}

TEST_F(ApiTest, VerifyRejectsUnknownOperationAndBadTime) {
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W1", ResidentId("32010219900101123"));
  const std::string base = "/api/v1/workers/" + std::to_string(w) + "/verify";
  Reply r = Get(base + "?operation=flying", mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "operation");
  r = Get(base, mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "operation");
  r = PostJson(base, {{"operation", "flying"}}, mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "operation");
  r = Get(base + "?operation=hot_work&at=yesterday", mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "at");
  r = PostJson(base, {{"operation", "hot_work"}, {"at", "2026-13-01T00:00:00Z"}}, mgr);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorField(), "at");
}

// --- workers, certificates, verification ---------------------------------------------------

TEST_F(ApiTest, WorkerRepliesNeverContainTheNationalId) {
  const std::string mgr = Login("mgr-a");
  const std::string id = ResidentId("32010219900101123");
  Reply r = PostJson(
      "/api/v1/workers",
      {{"code", "W1"}, {"name", "张三"}, {"employer", "A 检修"}, {"national_id", id}}, mgr);
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.raw.find(id), std::string::npos);
  EXPECT_EQ(r.raw.find(id.substr(0, 14)), std::string::npos);
  EXPECT_FALSE(r.json.contains("id_salt"));
  EXPECT_FALSE(r.json.contains("id_digest"));
  EXPECT_FALSE(r.json.contains("national_id"));
  EXPECT_EQ(r.json["id_last4"], id.substr(14));

  Reply got = Get("/api/v1/workers/" + std::to_string(r.json["id"].get<std::int64_t>()), mgr);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.raw.find(id), std::string::npos);
  EXPECT_FALSE(got.json.contains("id_digest"));

  // A malformed ID is refused without being echoed.
  const std::string bad = "32010219900101129X";
  Reply invalid = PostJson(
      "/api/v1/workers",
      {{"code", "W2"}, {"name", "李四"}, {"employer", "A 检修"}, {"national_id", bad}}, mgr);
  EXPECT_EQ(invalid.status, 400) << invalid.raw;
  EXPECT_EQ(invalid.ErrorField(), "national_id");
  EXPECT_EQ(invalid.raw.find(bad), std::string::npos) << invalid.raw;

  Reply dup =
      PostJson("/api/v1/workers",
               {{"code", "W1"}, {"name", "张三"}, {"employer", "B"}, {"national_id", id}}, mgr);
  EXPECT_EQ(dup.status, 409) << dup.raw;
  EXPECT_EQ(dup.ErrorCode(), "ALREADY_EXISTS");
}

TEST_F(ApiTest, VerifyHappyPathThenRevokedCertificate) {
  const std::string mgr = Login("mgr-a");
  const std::string id = ResidentId("32010219900101123");
  const std::int64_t w = CreateWorker(mgr, "W1", id);
  const std::int64_t cert = CreateWeldingCert(mgr, w, "T-1");
  const std::string base = "/api/v1/workers/" + std::to_string(w) + "/verify";

  const std::string guard = Login("guard-a");
  Reply ok = Get(base + "?operation=hot_work", guard);
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.json["verdict"], "valid");
  EXPECT_EQ(ok.json["may_work"], true);
  EXPECT_EQ(ok.json["certificate"]["id"], cert);

  Reply with_id = PostJson(base, {{"operation", "hot_work"}, {"national_id", id}}, guard);
  ASSERT_EQ(with_id.status, 200) << with_id.raw;
  EXPECT_EQ(with_id.json["verdict"], "valid");
  Reply other_person = PostJson(
      base, {{"operation", "hot_work"}, {"national_id", ResidentId("32010219851111123")}}, guard);
  ASSERT_EQ(other_person.status, 200) << other_person.raw;
  EXPECT_EQ(other_person.json["verdict"], "id_mismatch");
  EXPECT_EQ(other_person.json["may_work"], false);

  Reply wrong_trade = Get(base + "?operation=crane_driving", guard);
  ASSERT_EQ(wrong_trade.status, 200) << "the verdict is data, not an HTTP error";
  EXPECT_EQ(wrong_trade.json["may_work"], false);

  Reply revoked = PostJson("/api/v1/certificates/" + std::to_string(cert) + "/revoke",
                           {{"reason", "accident_responsibility"}}, mgr);
  ASSERT_EQ(revoked.status, 200) << revoked.raw;
  EXPECT_EQ(revoked.json["status"], "revoked");

  Reply after = Get(base + "?operation=hot_work", guard);
  ASSERT_EQ(after.status, 200) << after.raw;
  EXPECT_EQ(after.json["verdict"], "revoked");
  EXPECT_EQ(after.json["may_work"], false);
  ASSERT_FALSE(after.json["reasons"].empty());

  Reply missing = Get("/api/v1/workers/999999/verify?operation=hot_work", guard);
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(missing.json["verdict"], "unknown_worker");
}

TEST_F(ApiTest, WorkerStatusAndCertificateLifecycle) {
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W1", ResidentId("32010219900101123"));
  const std::int64_t cert = CreateWeldingCert(mgr, w, "T-1");
  const std::string wp = "/api/v1/workers/" + std::to_string(w);

  Reply worker = Get(wp, mgr);
  ASSERT_EQ(worker.status, 200) << worker.raw;
  ASSERT_EQ(worker.json["certificates"].size(), 1u);
  EXPECT_EQ(worker.json["certificates"][0]["number"], "T-1");
  EXPECT_EQ(worker.json["certificates"][0]["issue_date"], "2025-06-01");
  EXPECT_TRUE(worker.json["certificates"][0]["standing"].contains("verdict"));

  Reply review = PostJson("/api/v1/certificates/" + std::to_string(cert) + "/review",
                          {{"review_date", "2026-11-20"}}, mgr);
  ASSERT_EQ(review.status, 200) << review.raw;
  EXPECT_EQ(review.json["last_review_date"], "2026-11-20");

  Reply bad_status = Put(wp + "/status", {{"status", "retired"}}, mgr);
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_EQ(bad_status.ErrorField(), "status");
  Reply suspended = Put(wp + "/status", {{"status", "suspended"}}, mgr);
  ASSERT_EQ(suspended.status, 200) << suspended.raw;
  EXPECT_EQ(suspended.json["status"], "suspended");
  Reply v = Get(wp + "/verify?operation=hot_work", mgr);
  ASSERT_EQ(v.status, 200);
  EXPECT_EQ(v.json["verdict"], "worker_inactive");

  Reply page = Get("/api/v1/workers?limit=1", mgr);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.json["workers"].size(), 1u);
  EXPECT_EQ(page.json["next_after_id"], w);
  Reply rest = Get("/api/v1/workers?limit=1&after_id=" + std::to_string(w), mgr);
  ASSERT_EQ(rest.status, 200);
  EXPECT_TRUE(rest.json["workers"].empty());
  EXPECT_TRUE(rest.json["next_after_id"].is_null());
}

// The evidence routes: writes are facts with the caller as actor; checkpoint, proof,
// consistency, leaves, bundle and co-signature, with roles and organizations enforced.
TEST_F(ApiTest, EvidenceRoutesProveWhatTheCallerWrote) {
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W1", ResidentId("32010219900101123"));
  const std::int64_t cert = CreateWeldingCert(mgr, w, "T-1");
  ASSERT_EQ(PostJson("/api/v1/certificates/" + std::to_string(cert) + "/revoke",
                     {{"reason", "accident_responsibility"}}, mgr)
                .status,
            200);
  Reply cp = Get("/api/v1/ledger/checkpoint", mgr);
  ASSERT_EQ(cp.status, 200) << cp.raw;
  const std::int64_t size = cp.json["size"];
  EXPECT_GE(size, 3);  // worker.registered, cert.issued, cert.revoked (+ key.created)
  EXPECT_EQ(cp.json["hash"], "sm3");
  const std::string note = cp.json["checkpoint"];
  auto parsed = ledger::ParseNote(note);
  ASSERT_TRUE(parsed.has_value());
  auto verifier = ledger::NoteKey::FromVerifierKey(cp.json["verifier_key"].get<std::string>());
  ASSERT_TRUE(verifier.has_value());
  EXPECT_TRUE(verifier->Verify(*parsed).ok());

  // Spot check of fact 0 by the regulator role: the entry hashes into the signed root.
  const std::string regulator = Login("regulator-a");
  Reply proof = Get("/api/v1/ledger/proof?seq=0&size=" + std::to_string(size), regulator);
  ASSERT_EQ(proof.status, 200) << proof.raw;
  EXPECT_EQ(proof.json["fact"]["kind"], "worker.registered");
  EXPECT_EQ(proof.json["fact"]["actor"], "user:mgr-a");
  auto entry = core::Base64UrlDecode(proof.json["entry"].get<std::string>());
  ASSERT_TRUE(entry.has_value());
  std::vector<ledger::Hash> hashes;
  for (const auto& h : proof.json["proof"]) {
    auto raw = core::FromHex(h.get<std::string>());
    ledger::Hash x{};
    std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(x.data()));
    hashes.push_back(x);
  }
  auto cp_body = ledger::ParseCheckpointBody(parsed->text);
  ASSERT_TRUE(cp_body.has_value());
  EXPECT_TRUE(ledger::VerifyInclusion(ledger::HashAlg::kSm3, 0, static_cast<std::uint64_t>(size),
                                      ledger::HashLeaf(ledger::HashAlg::kSm3, *entry), hashes,
                                      cp_body->root)
                  .ok());
  EXPECT_EQ(Get("/api/v1/ledger/proof?seq=0&size=99999", regulator).status, 404);
  EXPECT_EQ(Get("/api/v1/ledger/proof", regulator).ErrorField(), "seq");
  EXPECT_EQ(Get("/api/v1/ledger/proof?seq=-1", regulator).status, 400);

  Reply leaves = Get("/api/v1/ledger/leaves?from=0&count=2", regulator);
  ASSERT_EQ(leaves.status, 200) << leaves.raw;
  EXPECT_EQ(leaves.json["leaf_hashes"].size(), 2u);
  EXPECT_EQ(leaves.json["leaf_hashes"][0],
            core::ToHex(ledger::HashLeaf(ledger::HashAlg::kSm3, *entry)));
  EXPECT_EQ(Get("/api/v1/ledger/leaves?count=0", regulator).status, 400);
  Reply cons = Get("/api/v1/ledger/consistency?from=1&to=" + std::to_string(size), regulator);
  EXPECT_EQ(cons.status, 200) << cons.raw;
  EXPECT_EQ(Get("/api/v1/ledger/consistency?from=5&to=1", regulator).ErrorField(), "from");

  // The certificate's evidence bundle verifies offline, pinned to the organization's key.
  Reply bundle = Get("/api/v1/certificates/" + std::to_string(cert) + "/evidence", mgr);
  ASSERT_EQ(bundle.status, 200) << bundle.raw;
  auto b = evidence::ParseBundle(bundle.raw);
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  auto checked = evidence::VerifyBundle(*b, cp.json["verifier_key"].get<std::string>());
  ASSERT_TRUE(checked.has_value()) << checked.error().ToString();
  ASSERT_EQ(checked->facts.size(), 2u);
  EXPECT_EQ(checked->facts[1].kind, "cert.revoked");

  // The regulator co-signs; the enterprise's own line cannot be replaced.
  auto reg_key = crypto::Sm2PrivateKey::Generate();
  auto reg_note_key = ledger::NoteKey::ForSigning("regulator.test/js", *reg_key);
  ledger::SignedNote cosigned = *parsed;
  ASSERT_TRUE(reg_note_key->Sign(&cosigned).ok());
  Reply co = PostJson("/api/v1/ledger/cosignatures", {{"checkpoint", ledger::FormatNote(cosigned)}},
                      regulator);
  ASSERT_EQ(co.status, 200) << co.raw;
  EXPECT_EQ(co.json["signed_by"].size(), 2u);
  EXPECT_EQ(PostJson("/api/v1/ledger/cosignatures", {{"checkpoint", "garbage"}}, regulator).status,
            400);

  // Roles and organizations.
  EXPECT_EQ(Get("/api/v1/ledger/checkpoint", Login("worker-a")).status, 403);
  EXPECT_EQ(Get("/api/v1/ledger/checkpoint", Login("guard-a")).status, 403);
  EXPECT_EQ(PostJson("/api/v1/ledger/cosignatures", {{"checkpoint", note}}, mgr).status, 403);
  EXPECT_EQ(Get("/api/v1/ledger/checkpoint").status, 401);
  const std::string mgr_b = Login("mgr-b");
  EXPECT_EQ(Get("/api/v1/certificates/" + std::to_string(cert) + "/evidence", mgr_b).status, 404);
  // B's log is its own: its fact 0 is the creation of its own key, never A's worker.
  Reply b_proof = Get("/api/v1/ledger/proof?seq=0", mgr_b);
  ASSERT_EQ(b_proof.status, 200) << b_proof.raw;
  EXPECT_EQ(b_proof.json["fact"]["org"], "plant-b");
  EXPECT_EQ(b_proof.json["fact"]["kind"], "key.created");
  EXPECT_EQ(Get("/api/v1/ledger/proof?seq=3", mgr_b).status, 404);
}

TEST_F(ApiTest, AttachmentsUploadListDownloadAndTheirFacts) {
  const std::string guard = Login("guard-a");
  const std::string jpeg = std::string("\xff\xd8\xff\xe0", 4) + std::string(5000, 'j');
  Reply up = Wrap(client_->Post("/api/v1/attachments?class=photo&name=%E5%8A%A8%E7%81%AB.jpg",
                                Auth(guard), jpeg, "image/jpeg"));
  ASSERT_EQ(up.status, 201) << up.raw;
  const std::string id = up.json["id"];
  EXPECT_EQ(up.json["file_name"], "动火.jpg");
  EXPECT_EQ(up.json["media_type"], "image/jpeg");
  EXPECT_EQ(up.json["size"], jpeg.size());
  EXPECT_EQ(up.json["plaintext_sm3"], core::ToHex(crypto::Sm3(jpeg)));
  EXPECT_FALSE(up.json["expires_at"].is_null());

  auto down = client_->Get(("/api/v1/attachments/content?id=" + id).c_str(), Auth(guard));
  ASSERT_TRUE(down);
  ASSERT_EQ(down->status, 200) << down->body;
  EXPECT_EQ(down->body, jpeg);
  EXPECT_EQ(down->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(down->get_header_value("X-Content-Type-Options"), "nosniff");
  // Sent as filename*=UTF-8''%E5%8A%A8%E7%81%AB.jpg (RFC 5987); httplib's client decodes
  // percent-escapes in header values, so the test sees the name itself.
  EXPECT_EQ(down->get_header_value("Content-Disposition"), "attachment; filename*=UTF-8''动火.jpg");

  Reply list = Get("/api/v1/attachments", guard);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json["attachments"].size(), 1u);
  // The upload is a fact by the uploader, proven in the organization's log.
  auto facts = store_->FactsAbout(org_a_, "attachment:" + id, 0, 10);
  ASSERT_TRUE(facts.has_value());
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ((*facts)[0].kind, "vault.stored");
  EXPECT_EQ((*facts)[0].actor, "user:guard-a");

  // Bad input names the field and stores nothing.
  Reply no_class = Wrap(client_->Post("/api/v1/attachments?name=a.jpg", Auth(guard), jpeg,
                                      "image/jpeg"));
  EXPECT_EQ(no_class.status, 400);
  EXPECT_EQ(no_class.ErrorField(), "class");
  Reply bad_class = Wrap(client_->Post("/api/v1/attachments?class=forever&name=a.jpg",
                                       Auth(guard), jpeg, "image/jpeg"));
  EXPECT_EQ(bad_class.status, 400) << bad_class.raw;
  EXPECT_EQ(bad_class.ErrorField(), "retention_class");
  Reply bad_name = Wrap(client_->Post("/api/v1/attachments?class=photo&name=..%2Fx.jpg",
                                      Auth(guard), jpeg, "image/jpeg"));
  EXPECT_EQ(bad_name.status, 400) << bad_name.raw;
  Reply empty = Wrap(client_->Post("/api/v1/attachments?class=photo&name=a.jpg", Auth(guard), "",
                                   "image/jpeg"));
  EXPECT_EQ(empty.status, 400) << empty.raw;
  Reply too_big = Wrap(client_->Post("/api/v1/attachments?class=photo&name=a.jpg", Auth(guard),
                                     std::string(80 * 1024, 'x'), "image/jpeg"));
  EXPECT_EQ(too_big.status, 413) << too_big.raw;
  EXPECT_EQ(Get("/api/v1/attachments", guard).json["attachments"].size(), 1u);

  // Roles and organizations.
  EXPECT_EQ(Get("/api/v1/attachments", Login("worker-a")).status, 403);
  EXPECT_EQ(Get("/api/v1/attachments/content?id=" + id, Login("mgr-b")).status, 404);
  EXPECT_EQ(Get("/api/v1/attachments", Login("mgr-b")).json["attachments"].size(), 0u);
  EXPECT_EQ(Get("/api/v1/attachments/content?id=" + id).status, 401);
}

TEST_F(ApiTest, ExpiringListsDueCertificates) {
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W1", ResidentId("32010219900101123"));
  // Issued 2020-12-10: 6-year validity ends 2026-12-10, within 30 days of 2026-11-28.
  Reply c = PostJson("/api/v1/certificates",
                     {{"worker_id", w},
                      {"kind", "special_operation"},
                      {"category", "welding"},
                      {"item", "fusion_welding"},
                      {"number", "T-OLD"},
                      {"authority", "X"},
                      {"issue_date", "2020-12-10"},
                      {"last_review_date", "2023-12-01"}},
                     mgr);
  ASSERT_EQ(c.status, 201) << c.raw;
  Reply r = Get("/api/v1/certificates/expiring?days=30", mgr);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.json["days"], 30);
  ASSERT_FALSE(r.json["reminders"].empty()) << r.raw;
  EXPECT_NE(r.raw.find("T-OLD"), std::string::npos);
}

TEST_F(ApiTest, QrCodesRenderAndVerify) {
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W1", ResidentId("32010219900101123"));
  const std::int64_t cert = CreateWeldingCert(mgr, w, "T-1");
  const std::string qr = "/api/v1/certificates/" + std::to_string(cert) + "/qr";

  Reply json = Get(qr, mgr);
  ASSERT_EQ(json.status, 200) << json.raw;
  const std::string payload = json.json.value("payload", "");
  ASSERT_FALSE(payload.empty());
  Reply png = Get(qr + "?format=png", mgr);
  ASSERT_EQ(png.status, 200);
  EXPECT_EQ(png.Header("Content-Type"), "image/png");
  EXPECT_EQ(png.raw.substr(0, 4), "\x89PNG");
  Reply svg = Get(qr + "?format=svg", mgr);
  ASSERT_EQ(svg.status, 200);
  EXPECT_EQ(svg.Header("Content-Type"), "image/svg+xml");
  EXPECT_EQ(Get(qr + "?format=gif", mgr).ErrorField(), "format");

  Reply checked =
      PostJson("/api/v1/qr/verify", {{"payload", payload}, {"operation", "hot_work"}}, mgr);
  ASSERT_EQ(checked.status, 200) << checked.raw;
  EXPECT_EQ(checked.json["signature_valid"], true);
  EXPECT_EQ(checked.json["verification"]["may_work"], true);

  std::string tampered = payload;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  Reply bad = PostJson("/api/v1/qr/verify", {{"payload", tampered}}, mgr);
  if (bad.status == 200) {
    EXPECT_EQ(bad.json["signature_valid"], false) << bad.raw;
  } else {
    EXPECT_EQ(bad.status, 400) << bad.raw;
  }
}

// --- CSV import --------------------------------------------------------------------------

const char* kCsvHeader =
    "worker_code,worker_name,national_id,employer,phone,cert_kind,category,item,cert_number,"
    "authority,issue_date,expiry_date,last_review_date,practice_since,review_extension_granted,"
    "violations,status,status_reason\n";

std::string CsvRow(const std::string& code, const std::string& id, const std::string& number) {
  return code + ",张三," + id + ",A 检修,13800000000,special_operation,welding,fusion_welding," +
         number + ",南京市应急管理局,2025-06-01,,,,,,,\n";
}

TEST_F(ApiTest, CsvImportThroughTheApi) {
  const std::string mgr = Login("mgr-a");
  const std::string good = std::string(kCsvHeader) +
                           CsvRow("W1", ResidentId("32010219900101123"), "T-1") +
                           CsvRow("W2", ResidentId("32010219851111123"), "T-2");
  Reply ok = Post("/api/v1/certificates/import", good, mgr, "text/csv");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.json["imported"], true);
  EXPECT_EQ(ok.json["rows"], 2);
  EXPECT_EQ(ok.json["certificates_created"], 2);
  auto w1 = store_->FindWorkerByCode(org_a_, "W1");
  ASSERT_TRUE(w1.has_value());
  EXPECT_FALSE(store_->FindWorkerByCode(org_b_, "W1").has_value()) << "imported into org A only";
  Reply v =
      Get("/api/v1/workers/" + std::to_string(w1->id.value) + "/verify?operation=hot_work", mgr);
  EXPECT_EQ(v.json["verdict"], "valid") << v.raw;

  const std::string bad = std::string(kCsvHeader) +
                          CsvRow("W3", ResidentId("32010219700101123"), "T-3") +
                          CsvRow("W4", "123", "T-4");
  Reply refused = Post("/api/v1/certificates/import", bad, mgr, "text/csv");
  EXPECT_EQ(refused.status, 422) << refused.raw;
  EXPECT_EQ(refused.json["imported"], false);
  EXPECT_EQ(refused.json["invalid_rows"], 1);
  ASSERT_FALSE(refused.json["errors"].empty());
  EXPECT_EQ(refused.json["errors"][0]["row"], 2);
  EXPECT_FALSE(store_->FindWorkerByCode(org_a_, "W3").has_value()) << "all or nothing";

  Reply skipped = Post("/api/v1/certificates/import?skip_invalid=true", bad, mgr, "text/csv");
  EXPECT_EQ(skipped.status, 200) << skipped.raw;
  EXPECT_TRUE(store_->FindWorkerByCode(org_a_, "W3").has_value());

  EXPECT_EQ(Post("/api/v1/certificates/import", good, mgr, "application/json").ErrorField(),
            "Content-Type");
  EXPECT_EQ(
      Post("/api/v1/certificates/import?skip_invalid=yes", good, mgr, "text/csv").ErrorField(),
      "skip_invalid");
  EXPECT_EQ(Post("/api/v1/certificates/import", good, Login("guard-a"), "text/csv").status, 403);

  std::string huge = std::string(kCsvHeader);
  while (huge.size() <= 64 * 1024) huge += CsvRow("W9", ResidentId("32010219700101123"), "T-9");
  Reply too_big = Post("/api/v1/certificates/import", huge, mgr, "text/csv");
  EXPECT_EQ(too_big.status, 413) << too_big.raw;
  EXPECT_EQ(too_big.ErrorField(), "body");

  // Spool files are removed.
  std::size_t left = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_ + "/tmp")) ++left;
  EXPECT_EQ(left, 0u);
}

// --- administration ----------------------------------------------------------------------

TEST_F(ApiTest, AdminCreatesUsersAndSites) {
  const std::string admin = Login("admin-a");
  Reply short_pw = PostJson("/api/v1/users",
                            {{"username", "new-user"},
                             {"display_name", "N"},
                             {"role", "guardian"},
                             {"password", "short"}},
                            admin);
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_EQ(short_pw.ErrorField(), "password");
  Reply bad_role = PostJson("/api/v1/users",
                            {{"username", "new-user"},
                             {"display_name", "N"},
                             {"role", "boss"},
                             {"password", "long enough password"}},
                            admin);
  EXPECT_EQ(bad_role.ErrorField(), "role");
  Reply created = PostJson("/api/v1/users",
                           {{"username", "new-user"},
                            {"display_name", "N"},
                            {"role", "guardian"},
                            {"password", "long enough password"}},
                           admin);
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_FALSE(created.json.contains("password_hash"));
  EXPECT_EQ(created.raw.find("argon2"), std::string::npos);
  EXPECT_FALSE(Login("new-user", "long enough password").empty());
  Reply dup = PostJson("/api/v1/users",
                       {{"username", "new-user"},
                        {"display_name", "N"},
                        {"role", "guardian"},
                        {"password", "long enough password"}},
                       admin);
  EXPECT_EQ(dup.status, 409) << dup.raw;

  Reply site = PostJson("/api/v1/sites",
                        {{"code", "unit-1"}, {"name", "常减压装置"}, {"address", "一区"}}, admin);
  ASSERT_EQ(site.status, 201) << site.raw;
  Reply sites = Get("/api/v1/sites", Login("guard-a"));
  ASSERT_EQ(sites.status, 200);
  ASSERT_EQ(sites.json["sites"].size(), 1u);
  EXPECT_EQ(sites.json["sites"][0]["code"], "unit-1");
  EXPECT_EQ(PostJson("/api/v1/sites", {{"code", "u2"}, {"name", "x"}}, Login("mgr-a")).status, 403);

  Reply org = Get("/api/v1/organization", admin);
  ASSERT_EQ(org.status, 200);
  EXPECT_EQ(org.json["code"], "plant-a");
}

TEST_F(ApiTest, RuleDataRoutes) {
  const std::string guard = Login("guard-a");
  Reply ops = Get("/api/v1/operations", guard);
  ASSERT_EQ(ops.status, 200);
  bool hot_work = false;
  for (const auto& op : ops.json["operations"]) {
    if (op["code"] == "hot_work") {
      hot_work = true;
      EXPECT_FALSE(op["clause"].get<std::string>().empty());
    }
  }
  EXPECT_TRUE(hot_work);
  Reply catalog = Get("/api/v1/catalog", guard);
  ASSERT_EQ(catalog.status, 200);
  EXPECT_FALSE(catalog.json["categories"].empty());
  EXPECT_FALSE(catalog.json["rule_sets"].empty());
}

// --- transport: health, metrics, 404/405, 500, OpenAPI -----------------------------------

TEST_F(ApiTest, HealthzNeedsNoToken) {
  Reply r = Get("/healthz");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["status"], "ok");
  EXPECT_TRUE(r.json.contains("version"));
}

TEST_F(ApiTest, UnknownRouteIs404JsonAndWrongMethodIs405Json) {
  Reply nf = Get("/api/v1/nothing-here");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.ErrorCode(), "NOT_FOUND");
  Reply post_nf = Post("/nope", "{}", "");
  EXPECT_EQ(post_nf.status, 404);
  EXPECT_EQ(post_nf.ErrorCode(), "NOT_FOUND");

  Reply del = Wrap(client_->Delete("/api/v1/workers"));
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(del.ErrorCode(), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(del.Header("Allow"), "GET, POST");
  Reply get_import = Get("/api/v1/certificates/import");
  EXPECT_EQ(get_import.status, 405);
  EXPECT_EQ(get_import.Header("Allow"), "POST");
  Reply put = Put("/api/v1/me", Json::object(), "");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.ErrorCode(), "METHOD_NOT_ALLOWED");
}

TEST_F(ApiTest, HandlerExceptionIs500Json) {
  ThrowingStore throwing(*store_);
  StartServer(throwing);
  const std::string guard = Login("guard-a");
  Reply r = Get("/api/v1/sites", guard);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.ErrorCode(), "INTERNAL");
  EXPECT_EQ(r.raw.find("injected"), std::string::npos) << "no internals in the reply";
  EXPECT_EQ(Get("/api/v1/me", guard).status, 200) << "the server keeps serving";
  Reply metrics = Get("/metrics");
  EXPECT_NE(metrics.raw.find("code=\"500\""), std::string::npos) << metrics.raw;
  server_->Stop();
  server_.reset();
}

TEST_F(ApiTest, MetricsCountRequestsAndVerifications) {
  const std::string mgr = Login("mgr-a");
  const std::int64_t w = CreateWorker(mgr, "W1", ResidentId("32010219900101123"));
  CreateWeldingCert(mgr, w, "T-1");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(
        Get("/api/v1/workers/" + std::to_string(w) + "/verify?operation=hot_work", mgr).status,
        200);
  }
  Get("/api/v1/nothing");
  Reply m = Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_TRUE(m.Header("Content-Type").starts_with("text/plain"));
  const std::string& t = m.raw;
  EXPECT_NE(t.find("http_requests_total{"), std::string::npos) << t;
  EXPECT_NE(t.find("route=\"/api/v1/workers/{id}/verify\""), std::string::npos) << t;
  EXPECT_NE(t.find("route=\"unmatched\""), std::string::npos) << t;
  EXPECT_NE(t.find("http_request_duration_seconds_bucket{"), std::string::npos);
  EXPECT_NE(t.find("wg_verifications_total{verdict=\"valid\"} 3"), std::string::npos) << t;
  EXPECT_NE(t.find("wg_index_workers 1"), std::string::npos) << t;
  EXPECT_NE(t.find("wg_index_certificates 1"), std::string::npos) << t;
  // The verify counter line carries method and code labels.
  bool found = false;
  std::size_t pos = 0;
  while ((pos = t.find("http_requests_total{", pos)) != std::string::npos) {
    std::size_t end = t.find('\n', pos);
    std::string line = t.substr(pos, end - pos);
    if (line.find("/verify") != std::string::npos &&
        line.find("method=\"GET\"") != std::string::npos &&
        line.find("code=\"200\"") != std::string::npos) {
      found = true;
      EXPECT_TRUE(line.ends_with(" 3")) << line;
    }
    pos = end;
  }
  EXPECT_TRUE(found) << t;
}

TEST_F(ApiTest, OpenApiDocumentAndRouteTableMatchBothWays) {
  Reply doc = Get("/api/v1/openapi.json", Login("guard-a"));
  ASSERT_EQ(doc.status, 200);
  ASSERT_TRUE(doc.json.is_object()) << doc.raw.substr(0, 200);
  EXPECT_TRUE(doc.json.value("openapi", "").starts_with("3.0")) << "OpenAPI 3.0";

  std::set<std::string> documented;
  for (const auto& [path, item] : doc.json["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string upper;
      for (char ch : method)
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (upper == "PARAMETERS" || upper == "SUMMARY" || upper == "DESCRIPTION") continue;
      documented.insert(upper + " " + path);
      EXPECT_TRUE(op.contains("responses")) << upper << " " << path;
    }
  }
  const std::vector<std::string> routes = server_->RegisteredRoutes();
  const std::set<std::string> registered(routes.begin(), routes.end());
  EXPECT_EQ(registered.size(), routes.size()) << "no route registered twice";
  for (const auto& r : registered) EXPECT_TRUE(documented.contains(r)) << "undocumented: " << r;
  for (const auto& d : documented) EXPECT_TRUE(registered.contains(d)) << "not registered: " << d;
}

// The roles in the document (x-roles) are the roles in the route table.
TEST_F(ApiTest, OpenApiRolesMatchTheRouteTable) {
  Reply doc = Get("/api/v1/openapi.json", Login("guard-a"));
  ASSERT_EQ(doc.status, 200);
  for (const RouteSpec& route : RouteTable()) {
    std::string method(MethodName(route.method));
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const std::string where = method + " " + std::string(route.pattern);
    const Json& op = doc.json["paths"][std::string(route.pattern)][method];
    ASSERT_TRUE(op.is_object()) << where;
    std::set<std::string> documented;
    for (const auto& r : op.value("x-roles", Json::array())) documented.insert(r.get<std::string>());
    std::set<std::string> allowed;
    for (int r = 0; r <= static_cast<int>(domain::Role::kGateway); ++r) {
      const auto role = static_cast<domain::Role>(r);
      if (route.roles & RoleBit(role)) allowed.insert(std::string(domain::RoleName(role)));
    }
    EXPECT_EQ(documented, allowed) << where;
    const bool public_route = route.roles == 0;
    EXPECT_EQ(op.contains("security") && op["security"].empty(), public_route) << where;
  }
}

// --- permits -----------------------------------------------------------------------------

// A grade-2 hot-work document at site S1 of plant-a, window starting an hour from now.
Json HotWorkDoc(core::Timestamp now) {
  return Json{
      {"type", "hot_work"},
      {"grade", "grade2"},
      {"site", "S1"},
      {"title", "管托焊接"},
      {"work_unit", "维修车间"},
      {"owning_unit", "一联合装置"},
      {"hazard_analysis", "JHA-1"},
      {"location", {{"zone", "U1"}, {"point", {{"x", 0}, {"y", 0}}}, {"area_class", "general"}}},
      {"planned_start", core::FormatTimestamp(now + core::Duration::Hours(1))},
      {"planned_end", core::FormatTimestamp(now + core::Duration::Hours(9))},
      {"people", Json::array({{{"role", "performer"}, {"worker_code", "W1"}, {"name", "张三"}},
                              {{"role", "guardian"}, {"username", "guard-a"}, {"name", "李四"}}})},
      {"hot_work", {{"method", "welding"}}}};
}

TEST_F(ApiTest, PermitCheckIsADryRunNamingRulesAndFields) {
  const std::string mgr = Login("mgr-a");
  Json doc = HotWorkDoc(clock_.Now());
  doc["planned_end"] = core::FormatTimestamp(clock_.Now() + core::Duration::Hours(80));
  Reply r = PostJson("/api/v1/permits/check", doc, mgr);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.json.value("verdict", ""), "blocked") << r.raw;
  EXPECT_EQ(r.json.value("rulebook", ""), permit_book_->version());
  bool validity = false;
  for (const auto& v : r.json["violations"]) {
    EXPECT_FALSE(v.value("clause", "").empty()) << v.dump();
    if (v.value("field", "") == "planned_end" && v.value("severity", "") == "block") validity = true;
  }
  EXPECT_TRUE(validity) << "72 h limit of grade-2 hot work, named on planned_end: " << r.raw;
  // Malformed: the field is named; unknown query parameters and stages too.
  Json partial = doc;
  partial.erase("location");
  Reply bad = PostJson("/api/v1/permits/check", partial, mgr);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.ErrorField(), "location");
  EXPECT_EQ(PostJson("/api/v1/permits/check?stage=later", doc, mgr).ErrorField(), "stage");
  EXPECT_EQ(PostJson("/api/v1/permits/check?verbose=1", doc, mgr).ErrorField(), "verbose");
  // Roles: a worker account cannot, no token cannot.
  EXPECT_EQ(PostJson("/api/v1/permits/check", doc, Login("worker-a")).status, 403);
  EXPECT_EQ(PostJson("/api/v1/permits/check", doc, "").status, 401);
}

TEST_F(ApiTest, PermitLifecycleOverHttpIsScopedAndRoleChecked) {
  ASSERT_TRUE(store_->CreateSite(org_a_, {"S1", "一厂区", ""}).has_value());
  const std::string mgr = Login("mgr-a");
  const std::string guard = Login("guard-a");
  // A guardian may not draft; the safety manager may.
  EXPECT_EQ(PostJson("/api/v1/permits", HotWorkDoc(clock_.Now()), guard).status, 403);
  Json with_state = HotWorkDoc(clock_.Now());
  with_state["state"] = "approved";
  Reply sneaky = PostJson("/api/v1/permits", with_state, mgr);
  EXPECT_EQ(sneaky.status, 400) << "a client cannot set the state";
  EXPECT_EQ(sneaky.ErrorField(), "state");
  Reply created = PostJson("/api/v1/permits", HotWorkDoc(clock_.Now()), mgr);
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_TRUE(created.json.value("applied", false));
  const Json& permit = created.json["permit"];
  const std::int64_t id = permit.value("id", std::int64_t{0});
  const std::string number = permit.value("number", "");
  EXPECT_EQ(permit.value("state", ""), "draft");
  EXPECT_EQ(number.rfind("DH-", 0), 0u) << number;
  EXPECT_TRUE(created.json.contains("decision"));
  const std::string path = "/api/v1/permits/" + std::to_string(id);
  EXPECT_EQ(Get(path, guard).status, 200);
  // Another organization sees nothing.
  const std::string other = Login("mgr-b");
  EXPECT_EQ(Get(path, other).status, 404);
  EXPECT_EQ(PostJson(path + "/submit", Json::object(), other).status, 404);
  EXPECT_EQ(Get("/api/v1/permits/verify?org=plant-a&n=" + number, other).status, 404);
  Reply listed = Get("/api/v1/permits?state=draft&type=hot_work", mgr);
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.json["permits"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/permits?state=draft", other).json["permits"].size(), 0u);
  EXPECT_EQ(Get("/api/v1/permits?state=bogus", mgr).ErrorField(), "state");
  // Edit with a stale version is refused; the current one works.
  Json edit = {{"version", 99}, {"document", HotWorkDoc(clock_.Now())}};
  EXPECT_EQ(Put(path, edit, mgr).status, 409);
  edit["version"] = permit.value("version", 1);
  edit["document"]["title"] = "管托焊接（修订）";
  Reply edited = Put(path, edit, mgr);
  ASSERT_EQ(edited.status, 200) << edited.raw;
  EXPECT_EQ(edited.json["permit"].value("title", ""), "管托焊接（修订）");
  edit["document"].erase("site");
  EXPECT_EQ(Put(path, edit, mgr).ErrorField(), "document.site");
  // Submitting a draft that breaks the rulebook (no such worker, no briefing …) is 422 with
  // the decision, and the refusal is a fact.
  Reply submitted = PostJson(path + "/submit", Json::object(), mgr);
  EXPECT_EQ(submitted.status, 422) << submitted.raw;
  EXPECT_EQ(submitted.ErrorCode(), "BLOCKED");
  EXPECT_EQ(submitted.json["decision"].value("verdict", ""), "blocked");
  Reply history = Get(path + "/history", mgr);
  ASSERT_EQ(history.status, 200);
  std::set<std::string> kinds;
  for (const auto& e : history.json["events"]) kinds.insert(e.value("kind", ""));
  EXPECT_TRUE(kinds.count("permit.created") && kinds.count("permit.edited") &&
              kinds.count("permit.refused"))
      << history.raw;
  // Signing a draft is not possible, and the regulator may not sign at all.
  EXPECT_EQ(PostJson(path + "/sign", {{"role", "applicant"}, {"password", kPassword}}, mgr).status,
            409);
  EXPECT_EQ(PostJson(path + "/sign", {{"role", "applicant"}, {"password", kPassword}},
                     Login("regulator-a"))
                .status,
            403);
  // Print and verify.
  Reply html = Get(path + "/print", guard);
  ASSERT_EQ(html.status, 200);
  EXPECT_NE(html.raw.find(number), std::string::npos);
  EXPECT_NE(html.raw.find("动火安全作业票"), std::string::npos);
  Reply pdf = Get(path + "/print?format=pdf", guard);
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.raw.rfind("%PDF-", 0), 0u);
  Reply verified = Get("/api/v1/permits/verify?org=plant-a&n=" + number, guard);
  ASSERT_EQ(verified.status, 200) << verified.raw;
  EXPECT_TRUE(verified.json.value("found", false));
  EXPECT_EQ(Get("/api/v1/permits/verify?org=plant-a&n=" + number + "&d=XYZ", guard).ErrorField(),
            "d");
}

TEST_F(ApiTest, ApproverAuthorizationIsAdminDataAndSigningKeysArePerUser) {
  auto approver = store_->FindUserByUsername("guard-a");
  ASSERT_TRUE(approver.has_value());
  const std::string path = "/api/v1/users/" + std::to_string(approver->id.value) + "/authorization";
  const std::string mgr = Login("mgr-a");
  Json scopes = {{"scopes", Json::array({{{"level", "grassroots_unit"}, {"types", {"hot_work"}}}})}};
  Reply put = Put(path, scopes, mgr);
  ASSERT_EQ(put.status, 200) << put.raw;
  EXPECT_EQ(Get(path, mgr).json["scopes"].size(), 1u);
  EXPECT_EQ(Put(path, scopes, Login("guard-a")).status, 403);
  EXPECT_EQ(Put(path, {{"scopes", Json::array({{{"level", "emperor"}}})}}, mgr).ErrorField(),
            "scopes[0].level");
  // Another organization's user id is not found.
  auto b_user = store_->FindUserByUsername("mgr-b");
  EXPECT_EQ(Get("/api/v1/users/" + std::to_string(b_user->id.value) + "/authorization", mgr).status,
            404);
  Reply key = Get("/api/v1/me/signing-key", Login("guard-a"));
  ASSERT_EQ(key.status, 200) << key.raw;
  EXPECT_EQ(key.json.value("key_id", ""), "guard-a/k1");
  EXPECT_TRUE(key.json.value("created", false));
  Reply again = Get("/api/v1/me/signing-key", Login("guard-a"));
  EXPECT_FALSE(again.json.value("created", true));
  EXPECT_EQ(again.json.value("public_key", ""), key.json.value("public_key", ""));
}

TEST(HttpStatusForTest, MapsEveryCode) {
  using core::StatusCode;
  EXPECT_EQ(HttpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kCorruption), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kIoError), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
}

TEST(ApiServerTest, StopIsIdempotentAndPortIsReported) {
  core::FakeClock clock(Noon("2026-11-28"));
  auto opened = store::OpenSqliteStore({.path = ":memory:", .clock = &clock});
  ASSERT_TRUE(opened.has_value());
  char tmpl[] = "/tmp/wg-api-stop-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto keys = evidence::KeyRing::Open(dir + "/keys", "workguard.test/stop");
  ASSERT_TRUE(keys.has_value());
  auto ev = evidence::Evidence::Open({.ledger_dir = dir + "/ledger", .sync = false}, **opened,
                                     **keys, clock);
  ASSERT_TRUE(ev.has_value());
  registry::Registry reg(**opened, clock, Book(), registry::IdDigester(std::string(32, 'k')),
                         **ev);
  ASSERT_TRUE(reg.LoadIndex().ok());
  ApiServer server(**opened, reg, clock, ServerOptions{.port = 0, .threads = 2});
  ASSERT_TRUE(server.Start().ok());
  EXPECT_GT(server.port(), 0);
  EXPECT_FALSE(server.Start().ok()) << "already running";
  server.Stop();
  server.Stop();
  std::filesystem::remove_all(dir);
}

// --- evidence export and verification (issue 8) ----------------------------------------------

// A permit's bundle holds its facts; POST /api/v1/evidence/verify checks a bundle against
// the caller organization's keys: per-check results, the checkpoint and its co-signatures,
// and a one-byte change of a fact's payload is ok=false naming the fact.
TEST_F(ApiTest, PermitEvidenceExportsAndVerifyUploadDetectsTampering) {
  ASSERT_TRUE(store_->CreateSite(org_a_, {"S1", "一厂区", ""}).has_value());
  const std::string mgr = Login("mgr-a");
  Reply created = PostJson("/api/v1/permits", HotWorkDoc(clock_.Now()), mgr);
  ASSERT_EQ(created.status, 201) << created.raw;
  const std::int64_t id = created.json["permit"].value("id", std::int64_t{0});
  const std::string number = created.json["permit"].value("number", "");
  const std::string path = "/api/v1/permits/" + std::to_string(id) + "/evidence";

  // Roles, organizations, unknown ids.
  EXPECT_EQ(Get(path).status, 401);
  EXPECT_EQ(Get(path, Login("guard-a")).status, 403);
  EXPECT_EQ(Get(path, Login("worker-a")).status, 403);
  EXPECT_EQ(Get(path, Login("mgr-b")).status, 404);
  EXPECT_EQ(Get("/api/v1/permits/999999/evidence", mgr).status, 404);
  EXPECT_EQ(Get("/api/v1/permits/x/evidence", mgr).ErrorField(), "id");
  EXPECT_EQ(Get(path + "?full=1", mgr).ErrorField(), "full");

  // The regulator co-signs the latest checkpoint first; the export then carries it.
  const std::string regulator = Login("regulator-a");
  Reply cp = Get("/api/v1/ledger/checkpoint", mgr);
  ASSERT_EQ(cp.status, 200) << cp.raw;
  auto note = ledger::ParseNote(cp.json["checkpoint"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  auto reg_key = crypto::Sm2PrivateKey::Generate();
  auto reg_note_key = ledger::NoteKey::ForSigning("regulator.test/js", *reg_key);
  ASSERT_TRUE(reg_note_key.has_value());
  ASSERT_TRUE(reg_note_key->Sign(&*note).ok());
  ASSERT_EQ(PostJson("/api/v1/ledger/cosignatures", {{"checkpoint", ledger::FormatNote(*note)}},
                     regulator)
                .status,
            200);

  Reply bundle = Get(path, regulator);
  ASSERT_EQ(bundle.status, 200) << bundle.raw;
  EXPECT_EQ(bundle.json["subject"], "permit:" + number);
  ASSERT_GE(bundle.json["facts"].size(), 1u);
  EXPECT_EQ(bundle.json["facts"][0]["fact"]["subject"], "permit:" + number);
  auto offline = evidence::ParseBundle(bundle.raw);
  ASSERT_TRUE(offline.has_value()) << offline.error().ToString();
  EXPECT_TRUE(evidence::VerifyBundle(*offline, cp.json["verifier_key"].get<std::string>()).ok());

  // Verified by any signed-in reader, the regulator and a guardian included.
  for (const std::string& who : {regulator, Login("guard-a")}) {
    Reply v = PostJson("/api/v1/evidence/verify", bundle.json, who);
    ASSERT_EQ(v.status, 200) << v.raw;
    EXPECT_TRUE(v.json["ok"].get<bool>()) << v.raw;
    EXPECT_FALSE(v.json.contains("error"));
    EXPECT_EQ(v.json["subject"], "permit:" + number);
    std::set<std::string> checks;
    for (const auto& ch : v.json["checks"]) {
      EXPECT_TRUE(ch["ok"].get<bool>()) << ch;
      EXPECT_FALSE(ch["message"].get<std::string>().empty());
      checks.insert(ch["check"].get<std::string>());
    }
    EXPECT_EQ(checks, (std::set<std::string>{"origin", "checkpoint", "signature", "facts"}));
    ASSERT_EQ(v.json["checkpoints"].size(), 1u);
    const Json& c0 = v.json["checkpoints"][0];
    EXPECT_GT(c0["size"].get<std::int64_t>(),
              bundle.json["facts"].back()["seq"].get<std::int64_t>());
    EXPECT_EQ(c0["root"].get<std::string>().size(), 64u);
    EXPECT_TRUE(c0["time"].is_string()) << c0;
    EXPECT_TRUE(c0["signature_ok"].get<bool>());
    EXPECT_EQ(c0["signed_by"].get<std::string>().rfind(offline->origin + "/k", 0), 0u);
    EXPECT_EQ(c0["key_id"].get<std::string>().size(), 8u);
    ASSERT_EQ(v.json["cosignatures"].size(), 1u) << v.raw;
    EXPECT_EQ(v.json["cosignatures"][0]["signer"], "regulator.test/js");
    EXPECT_EQ(v.json["cosignatures"][0]["status"], "unknown_key");
    EXPECT_FALSE(v.json["cosignatures"][0]["verified"].get<bool>());
    ASSERT_EQ(v.json["facts"].size(), bundle.json["facts"].size());
    EXPECT_TRUE(v.json["facts"][0]["ok"].get<bool>());
    EXPECT_EQ(v.json["facts"][0]["fact"]["subject"], "permit:" + number);
  }

  // With the co-signer's key in the bundle, its co-signature verifies.
  Json with_key = bundle.json;
  with_key["verifier_keys"].push_back(reg_note_key->VerifierKey());
  Reply cosigned = PostJson("/api/v1/evidence/verify", with_key, mgr);
  ASSERT_EQ(cosigned.status, 200) << cosigned.raw;
  EXPECT_TRUE(cosigned.json["ok"].get<bool>());
  EXPECT_EQ(cosigned.json["cosignatures"][0]["status"], "verified");
  EXPECT_TRUE(cosigned.json["cosignatures"][0]["verified"].get<bool>());

  // One byte of the first fact's payload changed: the entry still decodes, its proof fails.
  Json tampered = bundle.json;
  auto entry = core::Base64UrlDecode(tampered["facts"][0]["entry"].get<std::string>());
  ASSERT_TRUE(entry.has_value());
  const std::size_t at = entry->find("user:mgr-a");
  ASSERT_NE(at, std::string::npos);
  (*entry)[at + 9] = 'b';  // user:mgr-b
  tampered["facts"][0]["entry"] = core::Base64UrlEncode(*entry);
  Reply bad = PostJson("/api/v1/evidence/verify", tampered, mgr);
  ASSERT_EQ(bad.status, 200) << bad.raw;
  EXPECT_FALSE(bad.json["ok"].get<bool>());
  const std::string first_seq = std::to_string(bundle.json["facts"][0]["seq"].get<std::int64_t>());
  EXPECT_EQ(bad.json["error"].get<std::string>().rfind("facts: fact " + first_seq + ":", 0), 0u)
      << bad.json["error"];
  EXPECT_FALSE(bad.json["facts"][0]["ok"].get<bool>());
  for (const auto& ch : bad.json["checks"]) {
    EXPECT_EQ(ch["ok"].get<bool>(), ch["check"] != "facts") << ch;
  }
  // A changed proof hash, a fact about another subject, a forged signature.
  Json bad_proof = bundle.json;
  if (!bad_proof["facts"][0]["proof"].empty()) {
    std::string h = bad_proof["facts"][0]["proof"][0];
    h[0] = h[0] == '0' ? '1' : '0';
    bad_proof["facts"][0]["proof"][0] = h;
    EXPECT_FALSE(PostJson("/api/v1/evidence/verify", bad_proof, mgr).json["ok"].get<bool>());
  }
  Json other_subject = bundle.json;
  other_subject["subject"] = "permit:NOPE";
  Reply os = PostJson("/api/v1/evidence/verify", other_subject, mgr);
  EXPECT_FALSE(os.json["ok"].get<bool>()) << os.raw;
  Json forged = bundle.json;
  std::string text = forged["checkpoint"];
  text[text.find('\n') + 1] = text[text.find('\n') + 1] == '1' ? '2' : '1';  // the size line
  forged["checkpoint"] = text;
  Reply fv = PostJson("/api/v1/evidence/verify", forged, mgr);
  ASSERT_EQ(fv.status, 200) << fv.raw;
  EXPECT_FALSE(fv.json["ok"].get<bool>());
  for (const auto& ch : fv.json["checks"]) {
    if (ch["check"] == "signature") {
      EXPECT_FALSE(ch["ok"].get<bool>()) << ch;
    }
  }

  // Organization B's keys do not vouch for A's bundle.
  Reply as_b = PostJson("/api/v1/evidence/verify", bundle.json, Login("mgr-b"));
  ASSERT_EQ(as_b.status, 200) << as_b.raw;
  EXPECT_FALSE(as_b.json["ok"].get<bool>());
  EXPECT_EQ(as_b.json["checks"][0]["check"], "origin");
  EXPECT_FALSE(as_b.json["checks"][0]["ok"].get<bool>());
  EXPECT_TRUE(as_b.json["checkpoints"][0]["time"].is_null());

  // Malformed bundles are 400 naming the member; roles; size.
  Json no_format = bundle.json;
  no_format.erase("format");
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", no_format, mgr).ErrorField(), "format");
  Json bad_hash = bundle.json;
  bad_hash["hash"] = "md5";
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", bad_hash, mgr).ErrorField(), "hash");
  Json bad_entry = bundle.json;
  bad_entry["facts"][0]["entry"] = "***";
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", bad_entry, mgr).ErrorField(), "facts[0].entry");
  Json bad_seq = bundle.json;
  bad_seq["facts"][0]["seq"] = "0";
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", bad_seq, mgr).status, 400);
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", Json::object(), mgr).status, 400);
  EXPECT_EQ(Post("/api/v1/evidence/verify", "not json", mgr).status, 400);
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", bundle.json, Login("worker-a")).status, 403);
  EXPECT_EQ(Post("/api/v1/evidence/verify", bundle.raw).status, 401);
  Json huge = bundle.json;
  huge["padding"] = std::string(64 * 1024, 'x');
  EXPECT_EQ(PostJson("/api/v1/evidence/verify", huge, mgr).status, 413);
}

}  // namespace
}  // namespace wg::api

#include <sqlite3.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "migrations.h"
#include "wg/core/clock.h"
#include "wg/store/store.h"

namespace wg::store {
namespace {

using core::Date;
using core::OrgId;
using core::StatusCode;
using core::Timestamp;

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/wg-store-test-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs SQL on the file behind the store's back (tampering, inspection).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  const int open_rc = sqlite3_open(path.c_str(), &raw);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  ASSERT_EQ(open_rc, SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  ASSERT_EQ(rc, SQLITE_OK) << msg << " in: " << sql;
}

std::string RawQueryText(const std::string& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) {
    sqlite3_close(raw);
    return "<open failed>";
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_stmt* st_raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st_raw, nullptr) != SQLITE_OK) {
    return "<prepare failed>";
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(st_raw, &sqlite3_finalize);
  if (sqlite3_step(st.get()) != SQLITE_ROW) return "<no row>";
  const auto* text = sqlite3_column_text(st.get(), 0);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "<null>";
}

domain::Worker MakeWorker(OrgId org, const std::string& code) {
  domain::Worker w;
  w.org_id = org;
  w.code = code;
  w.name = "Worker " + code;
  w.employer = "ACME 建设";
  w.id_salt = "00112233445566778899aabbccddeeff";
  w.id_digest = "digest-" + code;
  w.id_last4 = "123X";
  w.phone = "13800000000";
  return w;
}

domain::Certificate MakeCert(OrgId org, core::WorkerId worker, const std::string& number) {
  domain::Certificate c;
  c.org_id = org;
  c.worker_id = worker;
  c.kind = domain::CertKind::kSpecialOperation;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = number;
  c.authority = "应急管理局";
  c.issue_date = Date::FromYmd(2022, 3, 1);
  c.expiry_date = Date::FromYmd(2028, 3, 1);
  c.last_review_date = Date::FromYmd(2025, 2, 20);
  c.violations = 0;
  return c;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    auto s = Open(dir_.File("wg.db"));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(*s);
    org_a_ = MustCreateOrg("org-a");
    org_b_ = MustCreateOrg("org-b");
  }

  Result<std::unique_ptr<Store>> Open(const std::string& path, bool read_only = false) {
    SqliteOptions options;
    options.path = path;
    options.read_only = read_only;
    options.clock = &clock_;
    return OpenSqliteStore(options);
  }

  OrgId MustCreateOrg(const std::string& code) {
    auto org = store_->CreateOrganization({code, "Org " + code});
    EXPECT_TRUE(org.ok()) << org.error().ToString();
    return org.ok() ? org->id : OrgId{};
  }

  domain::Worker MustCreateWorker(OrgId org, const std::string& code) {
    auto w = store_->CreateWorker(MakeWorker(org, code));
    EXPECT_TRUE(w.ok()) << w.error().ToString();
    return w.ok() ? *w : domain::Worker{};
  }

  domain::Certificate MustCreateCert(OrgId org, core::WorkerId worker, const std::string& n) {
    auto c = store_->CreateCertificate(MakeCert(org, worker, n));
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? *c : domain::Certificate{};
  }

  std::int64_t Revision() {
    auto r = store_->CurrentRevision();
    EXPECT_TRUE(r.ok());
    return r.value_or(-1);
  }

  TempDir dir_;
  core::FakeClock clock_{Timestamp::FromSeconds(1'750'000'000)};
  std::unique_ptr<Store> store_;
  OrgId org_a_;
  OrgId org_b_;
};

// ---- Opening and migrations.

TEST_F(SqliteStoreTest, MigrationsApplyOnceAndReopenIsIdempotent) {
  const std::string path = dir_.File("wg.db");
  EXPECT_EQ(store_->SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_EQ(RawQueryText(path, "SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite::Migrations().size()));
  EXPECT_EQ(RawQueryText(path, "SELECT applied_at FROM schema_migrations WHERE version = 1"),
            std::to_string(clock_.Now().micros));
  store_.reset();

  clock_.Advance(core::Duration::Hours(1));
  auto again = Open(path);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ((*again)->SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_EQ(RawQueryText(path, "SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite::Migrations().size()));
  auto org = (*again)->FindOrganizationByCode("org-a");
  ASSERT_TRUE(org.ok()) << org.error().ToString();
  EXPECT_EQ(org->id, org_a_);
}

TEST_F(SqliteStoreTest, FileIsWalWithForeignKeysAndStrictTables) {
  const std::string path = dir_.File("wg.db");
  EXPECT_EQ(RawQueryText(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQueryText(path, "SELECT strict FROM pragma_table_list WHERE name = 'certificates'"),
            "1");
  // The foreign key is enforced by the store's connection: a site of a missing org fails.
  auto site = store_->CreateSite(OrgId{999}, {"s1", "Site", "addr"});
  ASSERT_FALSE(site.ok());
  EXPECT_EQ(site.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(site.error().field(), "org_id");
}

TEST_F(SqliteStoreTest, NewerSchemaVersionIsRefused) {
  const std::string path = dir_.File("wg.db");
  store_.reset();
  RawExec(path, "INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                    std::to_string(sqlite::LatestSchemaVersion() + 1) + ", 0)");
  auto s = Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.error().message().find("newer"), std::string::npos) << s.error().message();
  auto ro = Open(path, /*read_only=*/true);
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.error().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, ReadOnlyStoreReadsButDoesNotWrite) {
  MustCreateWorker(org_a_, "W1");
  auto ro = Open(dir_.File("wg.db"), /*read_only=*/true);
  ASSERT_TRUE(ro.ok()) << ro.error().ToString();
  auto w = (*ro)->FindWorkerByCode(org_a_, "W1");
  EXPECT_TRUE(w.ok()) << w.error().ToString();
  auto org = (*ro)->CreateOrganization({"org-c", "C"});
  EXPECT_FALSE(org.ok());
  auto session = (*ro)->BeginImport(org_a_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfMissingSchemaIsRefused) {
  auto ro = Open(dir_.File("empty.db"), /*read_only=*/true);
  EXPECT_FALSE(ro.ok());
}

TEST(SqliteStoreOpenTest, InMemoryDatabaseWorks) {
  auto s = OpenSqliteStore({.path = ":memory:"});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  auto org = (*s)->CreateOrganization({"mem", "Memory"});
  ASSERT_TRUE(org.ok());
  auto found = (*s)->GetOrganization(org->id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->code, "mem");
}

TEST(SqliteStoreOpenTest, GarbageFileIsNotOpened) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const std::string junk(4096, 'x');
  ASSERT_EQ(std::fwrite(junk.data(), 1, junk.size(), f), junk.size());
  std::fclose(f);
  auto s = OpenSqliteStore({.path = path});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kCorruption) << s.error().ToString();
}

// ---- Settings, organizations, sites, users.

TEST_F(SqliteStoreTest, SettingsRoundTrip) {
  auto missing = store_->GetSetting("demo");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(store_->PutSetting("demo", "1").ok());
  ASSERT_TRUE(store_->PutSetting("demo", "0").ok());
  auto v = store_->GetSetting("demo");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "0");
}

TEST_F(SqliteStoreTest, OrganizationsAndSites) {
  auto orgs = store_->ListOrganizations();
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 2u);
  EXPECT_EQ((*orgs)[0].code, "org-a");
  EXPECT_EQ((*orgs)[0].created_at, clock_.Now());

  auto site = store_->CreateSite(org_a_, {"plant-1", "Plant 1", "Road 1"});
  ASSERT_TRUE(site.ok()) << site.error().ToString();
  EXPECT_EQ(site->org_id, org_a_);
  auto same_code_other_org = store_->CreateSite(org_b_, {"plant-1", "Plant 1", "Road 9"});
  EXPECT_TRUE(same_code_other_org.ok());
  auto sites = store_->ListSites(org_a_);
  ASSERT_TRUE(sites.ok());
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].address, "Road 1");

  auto missing = store_->GetOrganization(OrgId{12345});
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, UsersRoundTripEnumsAndBooleans) {
  domain::User u;
  u.org_id = org_a_;
  u.username = "alice";
  u.display_name = "Alice 张";
  u.role = domain::Role::kSafetyManager;
  u.password_hash = "$argon2id$v=19$m=1024,t=1,p=1$x$y";
  u.active = false;
  auto created = store_->CreateUser(u);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_GT(created->id.value, 0);
  auto found = store_->FindUserByUsername("alice");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->role, domain::Role::kSafetyManager);
  EXPECT_FALSE(found->active);
  EXPECT_EQ(found->display_name, "Alice 张");
  EXPECT_EQ(found->created_at, clock_.Now());
  auto listed = store_->ListUsers(org_a_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  auto none = store_->ListUsers(org_b_);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// ---- Tenant isolation.

TEST_F(SqliteStoreTest, CrossOrgReadsAreNotFound) {
  const domain::Worker wb = MustCreateWorker(org_b_, "W1");
  const domain::Certificate cb = MustCreateCert(org_b_, wb.id, "T1");
  domain::User u;
  u.org_id = org_b_;
  u.username = "bob";
  auto ub = store_->CreateUser(u);
  ASSERT_TRUE(ub.ok());

  EXPECT_TRUE(store_->GetWorker(org_b_, wb.id).ok());
  EXPECT_EQ(store_->GetWorker(org_a_, wb.id).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->FindWorkerByCode(org_a_, "W1").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetCertificate(org_a_, cb.id).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListCertificatesOfWorker(org_a_, wb.id).error().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUser(org_a_, ub->id).error().code(), StatusCode::kNotFound);
  auto page = store_->ListWorkers(org_a_, Page{});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->empty());

  // Writes through the wrong org touch nothing.
  EXPECT_EQ(store_->UpdateWorkerStatus(org_a_, wb.id, domain::WorkerStatus::kLeft).code(),
            StatusCode::kNotFound);
  domain::Certificate hijack = cb;
  hijack.org_id = org_a_;
  hijack.status = domain::CertStatus::kRevoked;
  EXPECT_EQ(store_->UpdateCertificate(hijack).error().code(), StatusCode::kNotFound);
  auto still = store_->GetCertificate(org_b_, cb.id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, domain::CertStatus::kActive);
  auto wstill = store_->GetWorker(org_b_, wb.id);
  ASSERT_TRUE(wstill.ok());
  EXPECT_EQ(wstill->status, domain::WorkerStatus::kActive);
}

TEST_F(SqliteStoreTest, CertificateCannotPointAtAnotherOrgsWorker) {
  const domain::Worker wb = MustCreateWorker(org_b_, "W1");
  auto c = store_->CreateCertificate(MakeCert(org_a_, wb.id, "T1"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.error().field(), "worker_id");
}

// ---- Error mapping.

TEST_F(SqliteStoreTest, UniqueViolationsMapToAlreadyExists) {
  auto org = store_->CreateOrganization({"org-a", "again"});
  ASSERT_FALSE(org.ok());
  EXPECT_EQ(org.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(org.error().message(), "organization code 'org-a' already exists");

  const domain::Worker w = MustCreateWorker(org_a_, "W1");
  auto dup_worker = store_->CreateWorker(MakeWorker(org_a_, "W1"));
  ASSERT_FALSE(dup_worker.ok());
  EXPECT_EQ(dup_worker.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_worker.error().message(), "worker code 'W1' already exists");
  EXPECT_TRUE(store_->CreateWorker(MakeWorker(org_b_, "W1")).ok());  // per-org uniqueness

  MustCreateCert(org_a_, w.id, "T123");
  auto dup_cert = store_->CreateCertificate(MakeCert(org_a_, w.id, "T123"));
  ASSERT_FALSE(dup_cert.ok());
  EXPECT_EQ(dup_cert.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_cert.error().message(), "certificate number 'T123' already exists");
  EXPECT_EQ(dup_cert.error().field(), "number");
  // Same number, other kind: a different certificate.
  domain::Certificate other_kind = MakeCert(org_a_, w.id, "T123");
  other_kind.kind = domain::CertKind::kSpecialEquipment;
  EXPECT_TRUE(store_->CreateCertificate(other_kind).ok());

  domain::User u;
  u.org_id = org_a_;
  u.username = "alice";
  ASSERT_TRUE(store_->CreateUser(u).ok());
  u.org_id = org_b_;  // usernames are unique across the installation
  auto dup_user = store_->CreateUser(u);
  ASSERT_FALSE(dup_user.ok());
  EXPECT_EQ(dup_user.error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_user.error().field(), "username");
}

TEST_F(SqliteStoreTest, FailedWriteLeavesRevisionUnchanged) {
  MustCreateWorker(org_a_, "W1");
  const std::int64_t before = Revision();
  EXPECT_FALSE(store_->CreateWorker(MakeWorker(org_a_, "W1")).ok());
  EXPECT_EQ(Revision(), before);
}

TEST_F(SqliteStoreTest, CheckViolationIsInvalidArgument) {
  const domain::Worker w = MustCreateWorker(org_a_, "W1");
  domain::Certificate c = MakeCert(org_a_, w.id, "T1");
  c.violations = -1;
  auto r = store_->CreateCertificate(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("violations"), std::string::npos) << r.error().message();
}

TEST_F(SqliteStoreTest, CorruptEnumValueIsCorruption) {
  const domain::Worker w = MustCreateWorker(org_a_, "W1");
  const domain::Certificate c = MustCreateCert(org_a_, w.id, "T1");
  const std::string path = dir_.File("wg.db");
  RawExec(path, "UPDATE workers SET status = 'retired' WHERE id = " + std::to_string(w.id.value));
  RawExec(path, "UPDATE certificates SET kind = 'unknown_kind' WHERE id = " +
                    std::to_string(c.id.value));

  auto rw = store_->GetWorker(org_a_, w.id);
  ASSERT_FALSE(rw.ok());
  EXPECT_EQ(rw.error().code(), StatusCode::kCorruption);
  const std::string msg = rw.error().message();
  EXPECT_NE(msg.find("workers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("status"), std::string::npos) << msg;
  EXPECT_NE(msg.find("id " + std::to_string(w.id.value)), std::string::npos) << msg;
  EXPECT_NE(msg.find("retired"), std::string::npos) << msg;

  auto rc = store_->GetCertificate(org_a_, c.id);
  ASSERT_FALSE(rc.ok());
  EXPECT_EQ(rc.error().code(), StatusCode::kCorruption);
  EXPECT_NE(rc.error().message().find("certificates"), std::string::npos);
  EXPECT_NE(rc.error().message().find("kind"), std::string::npos);

  auto scan = store_->ScanAll([](const domain::Worker&) { return true; },
                              [](const domain::Certificate&) { return true; });
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.error().code(), StatusCode::kCorruption);
}

TEST_F(SqliteStoreTest, CorruptRoleIsCorruption) {
  domain::User u;
  u.org_id = org_a_;
  u.username = "alice";
  auto created = store_->CreateUser(u);
  ASSERT_TRUE(created.ok());
  RawExec(dir_.File("wg.db"), "UPDATE users SET role = 'root'");
  auto r = store_->FindUserByUsername("alice");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
  EXPECT_NE(r.error().message().find("users"), std::string::npos);
}

// ---- Workers and certificates.

TEST_F(SqliteStoreTest, WorkerAndCertificateRoundTrip) {
  const domain::Worker w = MustCreateWorker(org_a_, "W1");
  EXPECT_EQ(w.employer, "ACME 建设");
  EXPECT_EQ(w.created_at, clock_.Now());
  domain::Certificate in = MakeCert(org_a_, w.id, "T1");
  in.practice_since = std::nullopt;
  in.review_extension_granted = true;
  in.violations = 2;
  in.status_reason = "";
  auto c = store_->CreateCertificate(in);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->issue_date, in.issue_date);
  EXPECT_EQ(c->expiry_date, in.expiry_date);
  EXPECT_EQ(c->last_review_date, in.last_review_date);
  EXPECT_FALSE(c->practice_since.has_value());
  EXPECT_TRUE(c->review_extension_granted);
  EXPECT_EQ(c->violations, 2);
  EXPECT_EQ(c->authority, "应急管理局");

  clock_.Advance(core::Duration::Days(1));
  domain::Certificate upd = *c;
  upd.status = domain::CertStatus::kRevoked;
  upd.status_reason = "fraud";
  upd.practice_since = Date::FromYmd(2020, 1, 1);
  upd.last_review_date = std::nullopt;
  upd.number = "IGNORED";  // not a mutable field
  auto after = store_->UpdateCertificate(upd);
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->status, domain::CertStatus::kRevoked);
  EXPECT_EQ(after->status_reason, "fraud");
  EXPECT_EQ(after->practice_since, Date::FromYmd(2020, 1, 1));
  EXPECT_FALSE(after->last_review_date.has_value());
  EXPECT_EQ(after->number, "T1");
  EXPECT_EQ(after->updated_at, clock_.Now());
  EXPECT_EQ(after->created_at, c->created_at);

  auto list = store_->ListCertificatesOfWorker(org_a_, w.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].status, domain::CertStatus::kRevoked);
}

TEST_F(SqliteStoreTest, ListWorkersPagesByKeyset) {
  std::vector<core::WorkerId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(MustCreateWorker(org_a_, "W" + std::to_string(i)).id);
  MustCreateWorker(org_b_, "X");
  auto first = store_->ListWorkers(org_a_, Page{0, 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  auto rest = store_->ListWorkers(org_a_, Page{first->back().id.value, 100});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ(rest->back().id, ids.back());
  EXPECT_EQ(store_->ListWorkers(org_a_, Page{0, 0}).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListWorkers(org_a_, Page{0, 1001}).error().code(),
            StatusCode::kInvalidArgument);
}

// ---- Tokens.

TEST_F(SqliteStoreTest, TokensSaveFindDeleteAndExpire) {
  domain::User u;
  u.org_id = org_a_;
  u.username = "alice";
  auto user = store_->CreateUser(u);
  ASSERT_TRUE(user.ok());
  const Timestamp now = clock_.Now();
  TokenRecord live{"aa11", user->id, org_a_, now, now + core::Duration::Hours(8)};
  TokenRecord dead{"bb22", user->id, org_a_, now - core::Duration::Hours(9),
                   now - core::Duration::Hours(1)};
  ASSERT_TRUE(store_->SaveToken(live).ok());
  ASSERT_TRUE(store_->SaveToken(dead).ok());
  EXPECT_EQ(store_->SaveToken(live).code(), StatusCode::kAlreadyExists);

  auto found = store_->FindToken("aa11");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->user_id, user->id);
  EXPECT_EQ(found->org_id, org_a_);
  EXPECT_EQ(found->expires_at, live.expires_at);
  EXPECT_EQ(store_->FindToken("nope").error().code(), StatusCode::kNotFound);

  auto swept = store_->DeleteExpiredTokens(now);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1);
  EXPECT_EQ(store_->FindToken("bb22").error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->FindToken("aa11").ok());

  EXPECT_TRUE(store_->DeleteToken("aa11").ok());
  EXPECT_EQ(store_->DeleteToken("aa11").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->FindToken("aa11").error().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, TokenMustNameTheUsersOwnOrg) {
  domain::User u;
  u.org_id = org_a_;
  u.username = "alice";
  auto user = store_->CreateUser(u);
  ASSERT_TRUE(user.ok());
  TokenRecord t{"cc33", user->id, org_b_, clock_.Now(), clock_.Now()};
  Status s = store_->SaveToken(t);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "user_id");
}

// ---- Import.

std::vector<ImportWorker> ImportWorkers(OrgId org, int n, const std::string& prefix = "W") {
  std::vector<ImportWorker> out;
  for (int i = 0; i < n; ++i) out.push_back({MakeWorker(org, prefix + std::to_string(i))});
  return out;
}

ImportCertificate ImportCert(OrgId org, const std::string& worker_code, const std::string& n) {
  return {worker_code, MakeCert(org, core::WorkerId{}, n)};
}

TEST_F(SqliteStoreTest, ImportBatchCountsCreatedAndUpdated) {
  MustCreateWorker(org_a_, "W0");  // exists before the import
  auto workers = ImportWorkers(org_a_, 3);
  workers[0].worker.name = "Renamed";
  std::vector<ImportCertificate> certs = {ImportCert(org_a_, "W0", "T0"),
                                          ImportCert(org_a_, "W1", "T1"),
                                          ImportCert(org_a_, "W2", "T2")};
  auto first = store_->ImportBatch(org_a_, workers, certs);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->workers_created, 2);
  EXPECT_EQ(first->workers_updated, 1);
  EXPECT_EQ(first->certificates_created, 3);
  EXPECT_EQ(first->certificates_updated, 0);
  auto w0 = store_->FindWorkerByCode(org_a_, "W0");
  ASSERT_TRUE(w0.ok());
  EXPECT_EQ(w0->name, "Renamed");

  // Re-import: T1 moves to W2 and gets a new expiry; T3 is new.
  certs[1] = ImportCert(org_a_, "W2", "T1");
  certs[1].certificate.expiry_date = Date::FromYmd(2030, 1, 1);
  certs.push_back(ImportCert(org_a_, "W0", "T3"));
  auto second = store_->ImportBatch(org_a_, {}, certs);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(second->workers_created, 0);
  EXPECT_EQ(second->workers_updated, 0);
  EXPECT_EQ(second->certificates_created, 1);
  EXPECT_EQ(second->certificates_updated, 3);

  auto w2 = store_->FindWorkerByCode(org_a_, "W2");
  ASSERT_TRUE(w2.ok());
  auto of_w2 = store_->ListCertificatesOfWorker(org_a_, w2->id);
  ASSERT_TRUE(of_w2.ok());
  ASSERT_EQ(of_w2->size(), 2u);
  EXPECT_EQ((*of_w2)[0].number, "T1");
  EXPECT_EQ((*of_w2)[0].expiry_date, Date::FromYmd(2030, 1, 1));
  EXPECT_EQ(*store_->CountCertificates(), 4);
  EXPECT_EQ(*store_->CountWorkers(), 3);
}

TEST_F(SqliteStoreTest, ImportBatchIsAtomic) {
  const std::int64_t rev_before = Revision();
  auto workers = ImportWorkers(org_a_, 2);
  std::vector<ImportCertificate> certs = {ImportCert(org_a_, "W0", "T0"),
                                          ImportCert(org_a_, "W1", "T1"),
                                          ImportCert(org_a_, "GHOST", "T2")};
  auto r = store_->ImportBatch(org_a_, workers, certs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("certificates[2]"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("GHOST"), std::string::npos) << r.error().message();
  EXPECT_EQ(*store_->CountWorkers(), 0);
  EXPECT_EQ(*store_->CountCertificates(), 0);
  EXPECT_EQ(Revision(), rev_before);

  // The store is usable afterwards, and the same batch without the bad row commits.
  certs.pop_back();
  auto ok = store_->ImportBatch(org_a_, workers, certs);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(*store_->CountCertificates(), 2);
}

// More rows than one multi-row INSERT group, with conflicts against stored rows and
// duplicates inside a group: the counts must match what row-by-row upserts would give.
TEST_F(SqliteStoreTest, ImportGroupsCountLikeRowByRow) {
  auto pre = store_->ImportBatch(org_a_, ImportWorkers(org_a_, 4),
                                 {ImportCert(org_a_, "W0", "N3"), ImportCert(org_a_, "W0", "N20")});
  ASSERT_TRUE(pre.ok()) << pre.error().ToString();

  std::vector<ImportCertificate> certs;
  for (int i = 0; i < 40; ++i) {
    certs.push_back(ImportCert(org_a_, "W" + std::to_string(i % 4), "N" + std::to_string(i)));
  }
  certs[5].certificate.number = "N4";    // duplicate of row 4, same group
  certs[33].certificate.number = "N32";  // duplicate of row 32, same group
  certs[33].certificate.violations = 7;
  auto r = store_->ImportBatch(org_a_, {}, certs);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  // 40 rows: N3 and N20 existed, N4 and N32 repeat inside the batch.
  EXPECT_EQ(r->certificates_created, 36);
  EXPECT_EQ(r->certificates_updated, 4);
  EXPECT_EQ(*store_->CountCertificates(), 38);

  // The later duplicate won, with its own revision.
  auto changes = store_->ChangesSince(0, 1000);
  ASSERT_TRUE(changes.ok());
  int n32 = 0;
  for (const Change& ch : *changes) {
    if (ch.certificate && ch.certificate->number == "N32") {
      ++n32;
      EXPECT_EQ(ch.certificate->violations, 7);
    }
  }
  EXPECT_EQ(n32, 1);
  EXPECT_EQ(Revision(), 4 + 2 + 40);  // every written row took one revision
}

TEST_F(SqliteStoreTest, ImportGroupFailureNamesTheRowAndWritesNothing) {
  std::vector<ImportCertificate> certs;
  for (int i = 0; i < 40; ++i) certs.push_back(ImportCert(org_a_, "W0", "N" + std::to_string(i)));
  certs[21].certificate.violations = -1;  // CHECK (violations >= 0), second group
  auto r = store_->ImportBatch(org_a_, ImportWorkers(org_a_, 1), certs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("certificates[21]"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(*store_->CountCertificates(), 0);
  EXPECT_EQ(*store_->CountWorkers(), 0);
  EXPECT_EQ(Revision(), 0);
}

TEST_F(SqliteStoreTest, ImportDoesNotResolveAnotherOrgsWorkerCode) {
  MustCreateWorker(org_b_, "WB");
  auto r = store_->ImportBatch(org_a_, {}, {ImportCert(org_a_, "WB", "T1")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  auto wrong_org = store_->ImportBatch(org_a_, {}, {ImportCert(org_b_, "WB", "T1")});
  ASSERT_FALSE(wrong_org.ok());
  EXPECT_EQ(wrong_org.error().field(), "org_id");
  EXPECT_EQ(*store_->CountCertificates(), 0);
}

TEST_F(SqliteStoreTest, ImportIntoMissingOrgFails) {
  auto r = store_->ImportBatch(OrgId{4242}, ImportWorkers(OrgId{4242}, 1), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, ImportSessionSpansChunksInOneTransaction) {
  auto session = store_->BeginImport(org_a_);
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  ASSERT_TRUE((*session)->Add(ImportWorkers(org_a_, 2), {ImportCert(org_a_, "W0", "T0")}).ok());
  // Chunk 2 names a worker created in chunk 1.
  ASSERT_TRUE((*session)->Add({}, {ImportCert(org_a_, "W1", "T1")}).ok());

  // Readers on other threads see the last committed state and are not blocked.
  std::int64_t seen = -1;
  std::thread reader([&] { seen = store_->CountCertificates().value_or(-2); });
  reader.join();
  EXPECT_EQ(seen, 0);
  // This thread may not write while its own session is open (it would wait on itself).
  auto self_write = store_->CreateOrganization({"org-c", "C"});
  ASSERT_FALSE(self_write.ok());
  EXPECT_EQ(self_write.error().code(), StatusCode::kFailedPrecondition);

  // Other writers wait for the session.
  std::atomic<bool> wrote{false};
  std::thread writer([&] {
    auto org = store_->CreateOrganization({"org-d", "D"});
    EXPECT_TRUE(org.ok()) << org.error().ToString();
    wrote = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(wrote.load());

  auto summary = (*session)->Commit();
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  writer.join();
  EXPECT_TRUE(wrote.load());
  EXPECT_EQ(summary->workers_created, 2);
  EXPECT_EQ(summary->certificates_created, 2);
  EXPECT_EQ(*store_->CountCertificates(), 2);
  EXPECT_EQ((*session)->Commit().error().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, DroppedImportSessionRollsBack) {
  {
    auto session = store_->BeginImport(org_a_);
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE((*session)->Add(ImportWorkers(org_a_, 3), {}).ok());
  }
  EXPECT_EQ(*store_->CountWorkers(), 0);
  // A failed chunk poisons the session and undoes earlier chunks.
  auto session = store_->BeginImport(org_a_);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Add(ImportWorkers(org_a_, 3), {}).ok());
  Status bad = (*session)->Add({}, {ImportCert(org_a_, "NOPE", "T9")});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("of chunk 2"), std::string::npos) << bad.message();
  EXPECT_EQ((*session)->Add(ImportWorkers(org_a_, 1), {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*session)->Commit().error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*store_->CountWorkers(), 0);
  EXPECT_TRUE(store_->CreateOrganization({"org-e", "E"}).ok());  // locks were released
}

TEST(SqliteStoreOpenTest, ImportSessionOnInMemoryDatabase) {
  auto s = OpenSqliteStore({.path = ":memory:"});
  ASSERT_TRUE(s.ok());
  Store& store = **s;
  auto org = store.CreateOrganization({"mem", "Memory"});
  ASSERT_TRUE(org.ok());
  auto session = store.BeginImport(org->id);
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  ASSERT_TRUE((*session)->Add(ImportWorkers(org->id, 2), {ImportCert(org->id, "W1", "T1")}).ok());
  // The same thread cannot read through the connection its session holds.
  EXPECT_EQ(store.CountWorkers().error().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*session)->Commit().ok());
  EXPECT_EQ(*store.CountWorkers(), 2);
  EXPECT_EQ(*store.CountCertificates(), 1);
}

// ---- Revisions, change feed, scan.

TEST_F(SqliteStoreTest, RevisionIncrementsAndChangesSinceReturnsExactlyTheChangedRows) {
  const domain::Worker w1 = MustCreateWorker(org_a_, "W1");
  const domain::Worker w2 = MustCreateWorker(org_b_, "W2");
  const domain::Certificate c1 = MustCreateCert(org_a_, w1.id, "T1");
  const std::int64_t mark = Revision();
  EXPECT_EQ(mark, 3);

  ASSERT_TRUE(store_->UpdateWorkerStatus(org_b_, w2.id, domain::WorkerStatus::kSuspended).ok());
  domain::Certificate upd = c1;
  upd.violations = 1;
  ASSERT_TRUE(store_->UpdateCertificate(upd).ok());
  auto imported = store_->ImportBatch(org_a_, {{MakeWorker(org_a_, "W3")}},
                                      {ImportCert(org_a_, "W3", "T3")});
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  EXPECT_EQ(Revision(), mark + 4);

  auto changes = store_->ChangesSince(mark, 100);
  ASSERT_TRUE(changes.ok()) << changes.error().ToString();
  ASSERT_EQ(changes->size(), 4u);
  for (std::size_t i = 0; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].revision, mark + 1 + static_cast<std::int64_t>(i));
    EXPECT_NE((*changes)[i].worker.has_value(), (*changes)[i].certificate.has_value());
  }
  ASSERT_TRUE((*changes)[0].worker.has_value());
  EXPECT_EQ((*changes)[0].worker->id, w2.id);
  EXPECT_EQ((*changes)[0].worker->status, domain::WorkerStatus::kSuspended);
  ASSERT_TRUE((*changes)[1].certificate.has_value());
  EXPECT_EQ((*changes)[1].certificate->violations, 1);
  ASSERT_TRUE((*changes)[2].worker.has_value());
  EXPECT_EQ((*changes)[2].worker->code, "W3");
  ASSERT_TRUE((*changes)[3].certificate.has_value());
  EXPECT_EQ((*changes)[3].certificate->number, "T3");

  // Paging by revision with a small limit yields the same sequence.
  std::vector<std::int64_t> paged;
  std::int64_t since = mark;
  while (true) {
    auto page = store_->ChangesSince(since, 1);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    paged.push_back(page->front().revision);
    since = page->front().revision;
  }
  EXPECT_EQ(paged, (std::vector<std::int64_t>{mark + 1, mark + 2, mark + 3, mark + 4}));

  auto none = store_->ChangesSince(Revision(), 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(store_->ChangesSince(0, 0).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, RevisionIsSeenByAnotherProcessOpeningTheFile) {
  MustCreateWorker(org_a_, "W1");
  auto other = Open(dir_.File("wg.db"));
  ASSERT_TRUE(other.ok());
  const std::int64_t before = *(*other)->CurrentRevision();
  MustCreateWorker(org_a_, "W2");
  auto changes = (*other)->ChangesSince(before, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ(changes->front().worker->code, "W2");
}

TEST_F(SqliteStoreTest, ScanAllStreamsWorkersThenCertificatesWithRevision) {
  const domain::Worker w1 = MustCreateWorker(org_a_, "W1");
  const domain::Worker w2 = MustCreateWorker(org_b_, "W2");
  MustCreateCert(org_b_, w2.id, "T2");
  MustCreateCert(org_a_, w1.id, "T1a");
  MustCreateCert(org_a_, w1.id, "T1b");
  std::vector<std::string> seen;
  auto rev = store_->ScanAll(
      [&](const domain::Worker& w) {
        seen.push_back("w:" + w.code);
        return true;
      },
      [&](const domain::Certificate& c) {
        seen.push_back("c:" + c.number);
        return true;
      });
  ASSERT_TRUE(rev.ok()) << rev.error().ToString();
  EXPECT_EQ(*rev, Revision());
  EXPECT_EQ(seen, (std::vector<std::string>{"w:W1", "w:W2", "c:T1a", "c:T1b", "c:T2"}));

  int calls = 0;
  auto stopped = store_->ScanAll(
      [&](const domain::Worker&) { return ++calls < 1; },
      [&](const domain::Certificate&) {
        ++calls;
        return true;
      });
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(SqliteStoreTest, ScanCallbackCallingTheStoreFailsInsteadOfDeadlocking) {
  MustCreateWorker(org_a_, "W1");
  Status inner;
  auto rev = store_->ScanAll(
      [&](const domain::Worker& w) {
        inner = store_->GetWorker(w.org_id, w.id).status();
        return true;
      },
      [](const domain::Certificate&) { return true; });
  ASSERT_TRUE(rev.ok()) << rev.error().ToString();
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->FindWorkerByCode(org_a_, "W1").ok());  // flag cleared afterwards
}

// ---- Concurrency.

TEST_F(SqliteStoreTest, ConcurrentWritersAndReadersDoNotFail) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const OrgId org = t % 2 == 0 ? org_a_ : org_b_;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string code = "T" + std::to_string(t) + "-" + std::to_string(i);
        auto w = store_->CreateWorker(MakeWorker(org, code));
        if (!w.ok()) {
          ++failures;
          continue;
        }
        if (!store_->CreateCertificate(MakeCert(org, w->id, "N" + code)).ok()) ++failures;
        if (!store_->GetWorker(org, w->id).ok()) ++failures;
        if (!store_->ListCertificatesOfWorker(org, w->id).ok()) ++failures;
        if (!store_->ChangesSince(0, 10).ok()) ++failures;
        if (i % 10 == 0) {
          auto r = store_->ImportBatch(org, {{MakeWorker(org, "I" + code)}},
                                       {ImportCert(org, "I" + code, "IN" + code)});
          if (!r.ok()) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const std::int64_t per_thread_rows = kPerThread + kPerThread / 10;
  EXPECT_EQ(*store_->CountWorkers(), kThreads * per_thread_rows);
  EXPECT_EQ(*store_->CountCertificates(), kThreads * per_thread_rows);
  // Every write took its own revision.
  EXPECT_EQ(Revision(), 2 * kThreads * per_thread_rows);
}

// Not a benchmark (this build is sanitized); prints a rate so a regression by an order
// of magnitude is visible in the test log.
TEST_F(SqliteStoreTest, ImportRateSanityPrint) {
  constexpr int kWorkers = 5000;
  constexpr int kCertsPerWorker = 4;
  std::vector<ImportWorker> workers = ImportWorkers(org_a_, kWorkers);
  std::vector<ImportCertificate> certs;
  certs.reserve(kWorkers * kCertsPerWorker);
  for (int i = 0; i < kWorkers; ++i) {
    for (int j = 0; j < kCertsPerWorker; ++j) {
      certs.push_back(ImportCert(org_a_, "W" + std::to_string(i),
                                 "N" + std::to_string(i) + "-" + std::to_string(j)));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = store_->ImportBatch(org_a_, workers, certs);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->certificates_created, kWorkers * kCertsPerWorker);
  std::printf("imported %zu certificates in %.3f s (%.0f rows/s, sanitized build)\n",
              certs.size(), secs, static_cast<double>(certs.size()) / secs);
}

}  // namespace
}  // namespace wg::store

namespace wg::store {
namespace {

FactDraft Fact(const std::string& kind, const std::string& subject) {
  return {.kind = kind, .actor = "user:t", .subject = subject, .site = "", .payload = "{}"};
}

class SqliteFactsTest : public SqliteStoreTest {};

TEST_F(SqliteFactsTest, FactsCommitWithTheirWriteAndTakeConsecutiveSeqPerOrganization) {
  auto w = store_->CreateWorker(MakeWorker(org_a_, "W1"), {Fact("worker.registered", "worker:W1")});
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  ASSERT_TRUE(store_->CreateCertificate(MakeCert(org_a_, w->id, "C1"),
                                        {Fact("cert.issued", "cert:special_operation/C1")})
                  .ok());
  ASSERT_TRUE(store_->AppendFacts(org_b_, {Fact("x.y", "s:1"), Fact("x.y", "s:2")}).ok());
  EXPECT_EQ(*store_->FactCount(org_a_), 2);
  EXPECT_EQ(*store_->FactCount(org_b_), 2);
  auto a = store_->FactsFrom(org_a_, 0, 10);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].seq, 0);
  EXPECT_EQ((*a)[1].seq, 1);
  EXPECT_EQ((*a)[1].kind, "cert.issued");
  EXPECT_EQ((*a)[1].time, clock_.Now());
  // Another organization's subject index is separate.
  EXPECT_TRUE(store_->FactsAbout(org_b_, "worker:W1", 0, 10)->empty());
  EXPECT_EQ(store_->FactsAbout(org_a_, "worker:W1", 0, 10)->size(), 1u);
}

TEST_F(SqliteFactsTest, FactsOfKindsReadsOnlyThoseKindsInSeqOrder) {
  ASSERT_TRUE(store_->AppendFacts(org_a_, {Fact("permit.approved", "permit:1"),
                                           Fact("cert.issued", "cert:x"),
                                           Fact("permit.incident", "permit:1"),
                                           Fact("permit.suspended", "permit:2"),
                                           Fact("permit.approved", "permit:2")})
                  .ok());
  ASSERT_TRUE(store_->AppendFacts(org_b_, {Fact("permit.approved", "permit:9")}).ok());
  auto f = store_->FactsOfKinds(org_a_, {"permit.approved", "permit.incident"}, 0, 10);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].seq, 0);
  EXPECT_EQ((*f)[1].seq, 2);
  EXPECT_EQ((*f)[2].seq, 4);
  auto from = store_->FactsOfKinds(org_a_, {"permit.approved"}, 1, 10);
  ASSERT_EQ(from->size(), 1u);
  EXPECT_EQ((*from)[0].seq, 4);
  EXPECT_EQ(store_->FactsOfKinds(org_a_, {"permit.approved"}, 0, 1)->size(), 1u);
  EXPECT_EQ(store_->FactsOfKinds(org_b_, {"permit.incident"}, 0, 10)->size(), 0u);
  EXPECT_EQ(store_->FactsOfKinds(org_a_, {}, 0, 10).error().field(), "kinds");
  EXPECT_EQ(store_->FactsOfKinds(org_a_, {""}, 0, 10).error().field(), "kinds[0]");
  EXPECT_FALSE(store_->FactsOfKinds(org_a_, {"a"}, -1, 10).ok());
  EXPECT_FALSE(store_->FactsOfKinds(org_a_, {"a"}, 0, 0).ok());
}

TEST_F(SqliteFactsTest, AFailedWriteRecordsNoFact) {
  MustCreateWorker(org_a_, "W1");
  // Duplicate code: the worker insert fails, so its fact must not be recorded either.
  auto dup = store_->CreateWorker(MakeWorker(org_a_, "W1"), {Fact("worker.registered", "worker:W1")});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(*store_->FactCount(org_a_), 0);
  // A bad fact aborts the write it accompanies.
  auto bad = store_->CreateWorker(MakeWorker(org_a_, "W2"), {Fact("Bad Kind", "worker:W2")});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "facts[0].kind");
  EXPECT_EQ(store_->FindWorkerByCode(org_a_, "W2").error().code(), core::StatusCode::kNotFound);
  // An import rolled back takes its facts with it.
  auto session = store_->BeginImport(org_a_);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Add({{MakeWorker(org_a_, "W3")}}, {}, {Fact("worker.imported", "worker:W3")}).ok());
  session->reset();
  EXPECT_EQ(*store_->FactCount(org_a_), 0);
}

TEST_F(SqliteFactsTest, DraftsAreValidatedNamingTheField) {
  auto field = [&](FactDraft f) {
    Status s = store_->AppendFacts(org_a_, {Fact("ok", "s:1"), f});
    return s.ok() ? std::string("ok") : s.field();
  };
  FactDraft f = Fact("a.b", "s");
  f.actor = "";
  EXPECT_EQ(field(f), "facts[1].actor");
  f = Fact("a.b", std::string(300, 's'));
  EXPECT_EQ(field(f), "facts[1].subject");
  f = Fact("a.b", "s");
  f.payload = std::string("\xff");
  EXPECT_EQ(field(f), "facts[1].payload");
  f = Fact("a.b", "s");
  f.subject = "line\nbreak";
  EXPECT_EQ(field(f), "facts[1].subject");
  EXPECT_EQ(*store_->FactCount(org_a_), 0) << "nothing half-written";
  EXPECT_EQ(store_->FactsFrom(org_a_, -1, 10).error().field(), "from_seq");
  EXPECT_EQ(store_->FactsFrom(org_a_, 0, 0).error().field(), "limit");
}

}  // namespace
}  // namespace wg::store

// ---- Permits, user keys and authorizations (schema v4).

namespace wg::store {
namespace {

using core::Duration;
using core::StatusCode;
using core::UserId;

constexpr const char* kDh = "DH-20261129-";
const Timestamp kDay = Timestamp::FromSeconds(1'800'000'000);

Timestamp At(int hour) { return kDay + Duration::Hours(hour); }

PermitRow MakePermit(OrgId org, const std::string& site = "S1",
                     const std::string& type = "hot_work", const std::string& grade = "grade2",
                     const std::string& state = "draft", int start_hour = 8, int end_hour = 16) {
  PermitRow p;
  p.org_id = org;
  p.site = site;
  p.type = type;
  p.grade = grade;
  p.state = state;
  p.planned_start = At(start_hour);
  p.planned_end = At(end_hour);
  p.document = R"({"type":")" + type + R"(","note":"动火 作业"})";
  return p;
}

FactDraft PermitFact(const std::string& kind, const std::string& subject) {
  return {.kind = kind, .actor = "user:t", .subject = subject, .site = "S1", .payload = "{}"};
}

std::vector<std::int64_t> Ids(const std::vector<PermitRow>& rows) {
  std::vector<std::int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

class SqlitePermitTest : public SqliteStoreTest {
 protected:
  PermitRow MustCreatePermit(const PermitRow& row, const std::string& prefix = kDh) {
    auto p = store_->CreatePermit(row, prefix, FactDrafts{});
    EXPECT_TRUE(p.ok()) << p.error().ToString();
    return p.ok() ? *p : PermitRow{};
  }

  domain::User MustCreateUser(OrgId org, const std::string& username) {
    domain::User u;
    u.org_id = org;
    u.username = username;
    u.display_name = username;
    u.role = domain::Role::kApprover;
    u.password_hash = "$argon2id$v=19$m=1024,t=1,p=1$x$y";
    u.active = true;
    auto created = store_->CreateUser(u);
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    return created.ok() ? *created : domain::User{};
  }

  std::vector<std::int64_t> List(OrgId org, const PermitFilter& f, std::int64_t before = 0,
                                 int limit = 1000) {
    auto rows = store_->ListPermits(org, f, before, limit);
    EXPECT_TRUE(rows.ok()) << rows.error().ToString();
    return rows.ok() ? Ids(*rows) : std::vector<std::int64_t>{};
  }

  std::string CreateErrorField(const PermitRow& row, const std::string& prefix = kDh) {
    auto p = store_->CreatePermit(row, prefix, FactDrafts{});
    if (p.ok()) return "ok";
    EXPECT_EQ(p.error().code(), StatusCode::kInvalidArgument) << p.error().ToString();
    return p.error().field();
  }
};

TEST_F(SqlitePermitTest, SchemaHasThePermitTables) {
  EXPECT_GE(sqlite::LatestSchemaVersion(), 4);
  EXPECT_EQ(store_->SchemaVersion(), sqlite::LatestSchemaVersion());
  const std::string path = dir_.File("wg.db");
  for (const char* table : {"permits", "permit_sequences", "user_keys", "authorizations"}) {
    const std::string sql =
        std::string("SELECT strict FROM pragma_table_list WHERE name = '") + table + "'";
    EXPECT_EQ(RawQueryText(path, sql), "1") << table;
  }
}

TEST_F(SqlitePermitTest, CreateAssignsSequenceNumbersPerOrganizationAndPrefix) {
  PermitRow in = MakePermit(org_a_);
  in.id = 999;          // ignored
  in.number = "X-1";    // ignored
  in.version = 7;       // ignored
  const PermitRow a1 = MustCreatePermit(in);
  const PermitRow a2 = MustCreatePermit(MakePermit(org_a_));
  const PermitRow a3 = MustCreatePermit(MakePermit(org_a_));
  const PermitRow g1 = MustCreatePermit(MakePermit(org_a_, "S1", "lifting"), "DZ-20261129-");
  const PermitRow b1 = MustCreatePermit(MakePermit(org_b_));
  EXPECT_EQ(a1.number, "DH-20261129-0001");
  EXPECT_EQ(a2.number, "DH-20261129-0002");
  EXPECT_EQ(a3.number, "DH-20261129-0003");
  EXPECT_EQ(g1.number, "DZ-20261129-0001");
  EXPECT_EQ(b1.number, "DH-20261129-0001") << "another organization counts on its own";
  EXPECT_NE(a1.id, 999);
  EXPECT_LT(a1.id, a2.id);
  EXPECT_EQ(a1.version, 1);
  EXPECT_EQ(a1.org_id, org_a_);
  EXPECT_EQ(a1.created_at, clock_.Now());
  EXPECT_EQ(a1.updated_at, clock_.Now());
  EXPECT_EQ(a1.document, in.document);

  auto got = store_->GetPermit(org_a_, a1.id);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->number, a1.number);
  EXPECT_EQ(got->site, "S1");
  EXPECT_EQ(got->type, "hot_work");
  EXPECT_EQ(got->grade, "grade2");
  EXPECT_EQ(got->state, "draft");
  EXPECT_EQ(got->planned_start, At(8));
  EXPECT_EQ(got->planned_end, At(16));
  EXPECT_EQ(got->document, in.document);
  auto found = store_->FindPermitByNumber(org_b_, "DH-20261129-0001");
  ASSERT_TRUE(found.ok()) << found.error().ToString();
  EXPECT_EQ(found->id, b1.id);
}

TEST_F(SqlitePermitTest, NumbersGrowPastFourDigitsAndSkipNumbersAlreadyTaken) {
  MustCreatePermit(MakePermit(org_a_), "A-");
  RawExec(dir_.File("wg.db"), "UPDATE permit_sequences SET last = 9999 WHERE prefix = 'A-'");
  EXPECT_EQ(MustCreatePermit(MakePermit(org_a_), "A-").number, "A-10000");
  // "A-1" + "0001" is the number "A-" reaches next: the sequence of "A-" steps over it.
  EXPECT_EQ(MustCreatePermit(MakePermit(org_a_), "A-1").number, "A-10001");
  EXPECT_EQ(MustCreatePermit(MakePermit(org_a_), "A-").number, "A-10002");
  EXPECT_EQ(MustCreatePermit(MakePermit(org_a_), "A-").number, "A-10003");
}

TEST_F(SqlitePermitTest, FactsCommitWithThePermitWriteAndNotWhenItFails) {
  const std::int64_t rev0 = Revision();
  // A bad fact aborts the create: no row, no fact, no revision, no number used up.
  auto bad = store_->CreatePermit(MakePermit(org_a_), kDh, FactDrafts{PermitFact("Bad", "p:1")});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field(), "facts[0].kind");
  EXPECT_EQ(Revision(), rev0);
  EXPECT_TRUE(List(org_a_, {}).empty());

  auto p = store_->CreatePermit(MakePermit(org_a_), kDh,
                                FactDrafts{PermitFact("permit.created", "permit:DH-0001")});
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->number, "DH-20261129-0001");
  EXPECT_EQ(*store_->FactCount(org_a_), 1);

  PermitRow next = *p;
  next.state = "pending_signatures";
  ASSERT_TRUE(store_->UpdatePermit(next, 1, {PermitFact("permit.submitted", "permit:x")}).ok());
  EXPECT_EQ(*store_->FactCount(org_a_), 2);
  // A stale version: the update fails and so does its fact.
  const std::int64_t rev1 = Revision();
  auto stale = store_->UpdatePermit(next, 1, {PermitFact("permit.approved", "permit:x")});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*store_->FactCount(org_a_), 2);
  EXPECT_EQ(Revision(), rev1);
  auto facts = store_->FactsFrom(org_a_, 0, 10);
  ASSERT_TRUE(facts.ok());
  ASSERT_EQ(facts->size(), 2u);
  EXPECT_EQ((*facts)[1].kind, "permit.submitted");
}

TEST_F(SqlitePermitTest, UpdateIsCompareAndSetOnTheVersion) {
  const PermitRow created = MustCreatePermit(MakePermit(org_a_));
  clock_.Advance(Duration::Hours(1));
  PermitRow edit = created;
  edit.state = "pending_gas_test";
  edit.site = "S2";
  edit.grade = "grade1";
  edit.planned_end = At(18);
  edit.document = R"({"edited":true})";
  edit.number = "HACKED-0001";  // cannot change
  edit.version = 42;            // ignored on input
  auto updated = store_->UpdatePermit(edit, 1, FactDrafts{});
  ASSERT_TRUE(updated.ok()) << updated.error().ToString();
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->number, created.number);
  EXPECT_EQ(updated->state, "pending_gas_test");
  EXPECT_EQ(updated->site, "S2");
  EXPECT_EQ(updated->grade, "grade1");
  EXPECT_EQ(updated->planned_end, At(18));
  EXPECT_EQ(updated->document, R"({"edited":true})");
  EXPECT_EQ(updated->created_at, created.created_at);
  EXPECT_EQ(updated->updated_at, clock_.Now());
  auto got = store_->GetPermit(org_a_, created.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->number, created.number);
  EXPECT_EQ(store_->FindPermitByNumber(org_a_, "HACKED-0001").error().code(),
            StatusCode::kNotFound);

  // Someone else's edit came first: the stored version (2) is named.
  edit.state = "cancelled";
  auto stale = store_->UpdatePermit(edit, 1, FactDrafts{});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.error().field(), "version");
  EXPECT_NE(stale.error().message().find("stored version is 2"), std::string::npos)
      << stale.error().message();
  EXPECT_EQ(store_->GetPermit(org_a_, created.id)->state, "pending_gas_test");
  auto ahead = store_->UpdatePermit(edit, 3, FactDrafts{});
  ASSERT_FALSE(ahead.ok());
  EXPECT_EQ(ahead.error().code(), StatusCode::kFailedPrecondition);
  auto ok = store_->UpdatePermit(edit, 2, FactDrafts{});
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->version, 3);

  PermitRow missing = edit;
  missing.id = created.id + 100;
  EXPECT_EQ(store_->UpdatePermit(missing, 1, FactDrafts{}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetPermit(org_a_, created.id + 100).error().code(), StatusCode::kNotFound);
}

TEST_F(SqlitePermitTest, AnotherOrganizationsPermitIsNotFound) {
  const PermitRow a = MustCreatePermit(MakePermit(org_a_));
  EXPECT_EQ(store_->GetPermit(org_b_, a.id).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->FindPermitByNumber(org_b_, a.number).error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(List(org_b_, {}).empty());
  PermitRow steal = a;
  steal.org_id = org_b_;
  steal.state = "cancelled";
  auto r = store_->UpdatePermit(steal, 1, FactDrafts{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  auto kept = store_->GetPermit(org_a_, a.id);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->state, "draft");
  EXPECT_EQ(kept->version, 1);
  EXPECT_EQ(kept->org_id, org_a_);
  // A permit cannot be created in an organization that does not exist.
  auto orphan = store_->CreatePermit(MakePermit(OrgId{999}), kDh, FactDrafts{});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(orphan.error().field(), "org_id");
}

TEST_F(SqlitePermitTest, ListFiltersAndKeysetPagination) {
  auto make = [&](OrgId org, const char* site, const char* type, const char* grade,
                  const char* state, int start, int end) {
    return MustCreatePermit(MakePermit(org, site, type, grade, state, start, end));
  };
  // Columns: organization, site, type, grade, state, planned window (hours).
  const auto p1 = make(org_a_, "S1", "hot_work", "grade2", "approved", 0, 8);
  const auto p2 = make(org_a_, "S1", "hot_work", "grade1", "active", 6, 12);
  const auto p3 = make(org_a_, "S2", "hot_work", "special", "draft", 10, 20);
  const auto p4 = make(org_a_, "S2", "lifting", "grade3", "active", 20, 30);
  const auto p5 = make(org_a_, "S1", "confined_space", "", "completed", 30, 40);
  make(org_b_, "S1", "hot_work", "grade2", "active", 6, 12);
  using V = std::vector<std::int64_t>;

  EXPECT_EQ(List(org_a_, {}), (V{p5.id, p4.id, p3.id, p2.id, p1.id})) << "newest first";
  EXPECT_EQ(List(org_a_, {.states = {"active"}}), (V{p4.id, p2.id}));
  EXPECT_EQ(List(org_a_, {.states = {"active", "approved", "suspended"}}),
            (V{p4.id, p2.id, p1.id}));
  EXPECT_EQ(List(org_a_, {.site = "S1"}), (V{p5.id, p2.id, p1.id}));
  EXPECT_EQ(List(org_a_, {.states = {"active"}, .site = "S1"}), (V{p2.id}));
  EXPECT_EQ(List(org_a_, {.type = "hot_work"}), (V{p3.id, p2.id, p1.id}));
  EXPECT_EQ(List(org_a_, {.type = "hot_work", .grade = "grade1"}), (V{p2.id}));
  EXPECT_EQ(List(org_a_, {.grade = "special"}), (V{p3.id}));
  // Windows overlapping [7, 11): ends after 7 and starts before 11.
  EXPECT_EQ(List(org_a_, {.from = At(7), .to = At(11)}), (V{p3.id, p2.id, p1.id}));
  // Touching is not overlapping: p1 ends at 8, p4 starts at 20.
  EXPECT_EQ(List(org_a_, {.from = At(8), .to = At(20)}), (V{p3.id, p2.id}));
  EXPECT_EQ(List(org_a_, {.from = At(25)}), (V{p5.id, p4.id}));
  EXPECT_EQ(List(org_a_, {.to = At(6)}), (V{p1.id}));
  EXPECT_EQ(List(org_a_, {.states = {"active"}, .site = "S2", .type = "lifting",
                          .grade = "grade3", .from = At(0), .to = At(100)}),
            (V{p4.id}));
  EXPECT_TRUE(List(org_a_, {.states = {"expired"}}).empty());

  // Keyset pages of two: every row once, in order, then an empty page.
  V all;
  std::int64_t before = 0;
  for (int page = 0; page < 10; ++page) {
    V ids = List(org_a_, {}, before, 2);
    if (ids.empty()) break;
    EXPECT_LE(ids.size(), 2u);
    all.insert(all.end(), ids.begin(), ids.end());
    before = ids.back();
  }
  EXPECT_EQ(all, (V{p5.id, p4.id, p3.id, p2.id, p1.id}));
  EXPECT_EQ(List(org_a_, {.site = "S1"}, p5.id, 1), (V{p2.id}));
}

TEST_F(SqlitePermitTest, ScanPermitsStreamsTheGivenStatesOfEveryOrganization) {
  const auto a1 = MustCreatePermit(MakePermit(org_a_, "S1", "hot_work", "grade2", "approved"));
  MustCreatePermit(MakePermit(org_a_, "S1", "hot_work", "grade2", "draft"));
  const auto a3 = MustCreatePermit(MakePermit(org_a_, "S1", "hot_work", "grade2", "suspended"));
  const auto b1 = MustCreatePermit(MakePermit(org_b_, "S1", "hot_work", "grade2", "active"));
  MustCreatePermit(MakePermit(org_b_, "S1", "hot_work", "grade2", "completed"));
  std::vector<std::int64_t> seen;
  Status s = store_->ScanPermits({"approved", "active", "suspended"}, [&](const PermitRow& r) {
    seen.push_back(r.id);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::vector<std::int64_t>{a1.id, a3.id, b1.id}));

  // Stops when the callback says so.
  seen.clear();
  s = store_->ScanPermits({"approved", "active", "suspended"}, [&](const PermitRow& r) {
    seen.push_back(r.id);
    return false;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen.size(), 1u);

  // No states: every permit.
  int all = 0;
  ASSERT_TRUE(store_->ScanPermits({}, [&](const PermitRow&) { return ++all > 0; }).ok());
  EXPECT_EQ(all, 5);

  // A callback calling back into the store fails instead of deadlocking.
  Status inner;
  s = store_->ScanPermits({"active"}, [&](const PermitRow& r) {
    inner = store_->GetPermit(r.org_id, r.id).status();
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->GetPermit(org_b_, b1.id).ok()) << "flag cleared afterwards";
}

TEST_F(SqlitePermitTest, PermitChangesShareTheRevisionWithWorkersAndCertificates) {
  const std::int64_t rev0 = Revision();
  const PermitRow p1 = MustCreatePermit(MakePermit(org_a_));            // rev0 + 1
  const domain::Worker w = MustCreateWorker(org_a_, "W1");             // rev0 + 2
  const PermitRow p2 = MustCreatePermit(MakePermit(org_b_));            // rev0 + 3
  MustCreateCert(org_a_, w.id, "C1");                                   // rev0 + 4
  EXPECT_EQ(Revision(), rev0 + 4);

  auto changes = store_->PermitChangesSince(rev0, 100);
  ASSERT_TRUE(changes.ok()) << changes.error().ToString();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].revision, rev0 + 1);
  EXPECT_EQ((*changes)[0].row.id, p1.id);
  EXPECT_EQ((*changes)[1].revision, rev0 + 3);
  EXPECT_EQ((*changes)[1].row.id, p2.id);
  // The worker/certificate feed is unaffected by the permits between its rows.
  auto wc = store_->ChangesSince(rev0, 100);
  ASSERT_TRUE(wc.ok());
  ASSERT_EQ(wc->size(), 2u);
  EXPECT_EQ((*wc)[0].revision, rev0 + 2);
  EXPECT_EQ((*wc)[1].revision, rev0 + 4);

  // An update moves the permit to the end of the feed, once, at its latest revision.
  PermitRow edit = p1;
  edit.state = "approved";
  ASSERT_TRUE(store_->UpdatePermit(edit, 1, FactDrafts{}).ok());  // rev0 + 5
  changes = store_->PermitChangesSince(rev0, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].row.id, p2.id);
  EXPECT_EQ((*changes)[1].row.id, p1.id);
  EXPECT_EQ((*changes)[1].revision, rev0 + 5);
  EXPECT_EQ((*changes)[1].row.state, "approved");
  EXPECT_EQ((*changes)[1].row.version, 2);
  auto one = store_->PermitChangesSince(rev0, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].row.id, p2.id);
  EXPECT_TRUE(store_->PermitChangesSince(rev0 + 5, 100)->empty());
  EXPECT_EQ(store_->PermitChangesSince(0, 0).error().field(), "limit");
}

TEST_F(SqlitePermitTest, InvalidInputsAreRejectedNamingTheField) {
  const std::int64_t rev0 = Revision();
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_), ""), "number_prefix");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_), "dh-"), "number_prefix");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_), "DH_1"), "number_prefix");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_), std::string(33, 'A')), "number_prefix");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_), std::string(32, 'A')), "ok");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_, "")), "site");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_, "S1", std::string(65, 't'))), "type");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_, "S1", "hot_work", "\xff")), "grade");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_, "S1", "hot_work", "grade2", "")), "state");
  EXPECT_EQ(CreateErrorField(MakePermit(org_a_, "S1", "hot_work", "grade2", "a\nb")), "state");
  PermitRow big = MakePermit(org_a_);
  big.document = std::string((1u << 20) + 1, ' ');
  EXPECT_EQ(CreateErrorField(big), "document");
  big.document = std::string(1u << 20, ' ');
  EXPECT_EQ(CreateErrorField(big), "ok") << "exactly 1 MiB is allowed";
  PermitRow bad_utf8 = MakePermit(org_a_);
  bad_utf8.document = "{\"x\":\"\xc3\x28\"}";
  EXPECT_EQ(CreateErrorField(bad_utf8), "document");
  EXPECT_EQ(Revision(), rev0 + 2) << "only the two valid creates wrote";

  const PermitRow p = MustCreatePermit(MakePermit(org_a_));
  auto v0 = store_->UpdatePermit(p, 0, FactDrafts{});
  ASSERT_FALSE(v0.ok());
  EXPECT_EQ(v0.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v0.error().field(), "version");
  PermitRow no_site = p;
  no_site.site = "";
  EXPECT_EQ(store_->UpdatePermit(no_site, 1, FactDrafts{}).error().field(), "site");

  auto field = [&](const PermitFilter& f, std::int64_t before, int limit) {
    auto r = store_->ListPermits(org_a_, f, before, limit);
    return r.ok() ? std::string("ok") : r.error().field();
  };
  EXPECT_EQ(field({}, 0, 0), "limit");
  EXPECT_EQ(field({}, 0, 1001), "limit");
  EXPECT_EQ(field({}, 0, 1000), "ok");
  EXPECT_EQ(field({}, -1, 10), "before_id");
  EXPECT_EQ(field({.states = {"active", ""}}, 0, 10), "filter.states[1]");
  EXPECT_EQ(field({.site = std::string(65, 's')}, 0, 10), "filter.site");
  EXPECT_EQ(store_->ScanPermits({""}, [](const PermitRow&) { return true; }).field(),
            "states[0]");
}

TEST_F(SqlitePermitTest, FinisherSeesTheAssignedIdAndNumber) {
  auto p = store_->CreatePermitWith(
      MakePermit(org_a_), kDh, [&](PermitRow& assigned, FactDrafts& facts) -> Status {
        EXPECT_GT(assigned.id, 0);
        EXPECT_EQ(assigned.version, 1);
        assigned.document = R"({"number":")" + assigned.number + R"("})";
        assigned.state = "ignored";  // only the document is taken back
        facts.push_back(PermitFact("permit.created", "permit:" + assigned.number));
        return Status::Ok();
      });
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->document, R"({"number":"DH-20261129-0001"})");
  auto got = store_->GetPermit(org_a_, p->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->document, p->document);
  EXPECT_EQ(got->state, "draft");
  auto facts = store_->FactsAbout(org_a_, "permit:DH-20261129-0001", 0, 10);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->size(), 1u);

  // An error from the finisher rolls everything back, the number included.
  const std::int64_t rev = Revision();
  auto failed = store_->CreatePermitWith(MakePermit(org_a_), kDh, [](PermitRow&, FactDrafts&) {
    return Status::InvalidArgument("no", "document");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().field(), "document");
  EXPECT_EQ(Revision(), rev);
  EXPECT_EQ(*store_->FactCount(org_a_), 1);
  // A finisher calling back into the store fails instead of deadlocking.
  Status inner;
  auto reentrant =
      store_->CreatePermitWith(MakePermit(org_a_), kDh, [&](PermitRow& r, FactDrafts&) {
        inner = store_->GetPermit(r.org_id, r.id).status();
        return Status::Ok();
      });
  ASSERT_TRUE(reentrant.ok()) << reentrant.error().ToString();
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reentrant->number, "DH-20261129-0002");
}

TEST_F(SqlitePermitTest, UserKeysAreVersionedOneAfterAnother) {
  const domain::User u = MustCreateUser(org_a_, "approver1");
  auto none = store_->ListUserKeys(org_a_, u.id);
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_TRUE(none->empty());

  UserKeyRow k;
  k.org_id = org_a_;
  k.user_id = u.id;
  k.public_pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
  k.sealed_private = std::string("WGAE1\0\xff\x01", 8);
  k.version = 2;
  Status s = store_->AddUserKey(k, {});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(s.field(), "version");
  k.version = 1;
  s = store_->AddUserKey(k, {PermitFact("user_key.created", "user:approver1")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = store_->AddUserKey(k, {});
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(s.field(), "version");
  clock_.Advance(Duration::Hours(1));
  k.version = 2;
  k.sealed_private = "second";
  ASSERT_TRUE(store_->AddUserKey(k, {}).ok());
  EXPECT_EQ(*store_->FactCount(org_a_), 1);

  auto keys = store_->ListUserKeys(org_a_, u.id);
  ASSERT_TRUE(keys.ok()) << keys.error().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].version, 1);
  EXPECT_EQ((*keys)[0].sealed_private, std::string("WGAE1\0\xff\x01", 8)) << "bytes round-trip";
  EXPECT_EQ((*keys)[0].public_pem, k.public_pem);
  EXPECT_EQ((*keys)[0].org_id, org_a_);
  EXPECT_EQ((*keys)[0].user_id, u.id);
  EXPECT_EQ((*keys)[1].version, 2);
  EXPECT_EQ((*keys)[1].created_at, clock_.Now());
  EXPECT_LT((*keys)[0].created_at, (*keys)[1].created_at);

  // Another organization's user: not found, whichever way it is asked.
  EXPECT_EQ(store_->ListUserKeys(org_b_, u.id).error().code(), StatusCode::kNotFound);
  k.org_id = org_b_;
  k.version = 3;
  s = store_->AddUserKey(k, {});
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.field(), "user_id");
  k.org_id = org_a_;
  k.user_id = UserId{u.id.value + 100};
  EXPECT_EQ(store_->AddUserKey(k, {}).code(), StatusCode::kNotFound);
  k.user_id = u.id;
  k.version = 0;
  EXPECT_EQ(store_->AddUserKey(k, {}).field(), "version");
  k.version = 3;
  k.public_pem = "";
  EXPECT_EQ(store_->AddUserKey(k, {}).field(), "public_pem");
  k.public_pem = "pem";
  k.sealed_private = "";
  EXPECT_EQ(store_->AddUserKey(k, {}).field(), "sealed_private");
}

TEST_F(SqlitePermitTest, AuthorizationsPutGetAndDelete) {
  const domain::User u = MustCreateUser(org_a_, "approver1");
  auto none = store_->GetAuthorization(org_a_, u.id);
  ASSERT_TRUE(none.ok()) << none.error().ToString();
  EXPECT_FALSE(none->has_value());

  const std::string scope = R"([{"types":["hot_work"],"max_grade":"grade1"}])";
  Status s = store_->PutAuthorization(org_a_, u.id, scope, {PermitFact("authz.set", "user:a")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto got = store_->GetAuthorization(org_a_, u.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, scope);
  ASSERT_TRUE(store_->PutAuthorization(org_a_, u.id, "[]", {}).ok());
  EXPECT_EQ(**store_->GetAuthorization(org_a_, u.id), "[]") << "replaced";
  ASSERT_TRUE(store_->PutAuthorization(org_a_, u.id, "", {}).ok());
  EXPECT_FALSE(store_->GetAuthorization(org_a_, u.id)->has_value()) << "\"\" removes it";
  EXPECT_TRUE(store_->PutAuthorization(org_a_, u.id, "", {}).ok()) << "removing twice is fine";
  EXPECT_EQ(*store_->FactCount(org_a_), 1);

  EXPECT_EQ(store_->PutAuthorization(org_b_, u.id, scope, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetAuthorization(org_b_, u.id).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetAuthorization(org_a_, UserId{u.id.value + 100}).error().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->PutAuthorization(org_a_, u.id, "\xff", {}).field(), "scope_json");
}

TEST_F(SqlitePermitTest, ConcurrentUpdatesWithTheSameVersionExactlyOneWins) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20;
  const PermitRow p = MustCreatePermit(MakePermit(org_a_));
  for (int round = 0; round < kRounds; ++round) {
    const std::int64_t version = round + 1;
    std::atomic<int> wins{0};
    std::atomic<int> conflicts{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        PermitRow edit = p;
        edit.document = "{\"writer\":" + std::to_string(t) + "}";
        auto r = store_->UpdatePermit(edit, version,
                                      {PermitFact("permit.edited", "permit:" + p.number)});
        if (r.ok()) {
          ++wins;
        } else if (r.error().code() == StatusCode::kFailedPrecondition) {
          ++conflicts;
        } else {
          ++other;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), kThreads - 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
  }
  EXPECT_EQ(store_->GetPermit(org_a_, p.id)->version, kRounds + 1);
  EXPECT_EQ(*store_->FactCount(org_a_), kRounds) << "one fact per winning write";
}

// A file written by a binary at schema version 3 (made here from migrations 1..3, as
// that binary applied them) migrates in place and keeps its rows and revision.
TEST(SqliteMigrationTest, VersionThreeFileMigratesInPlace) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.File("v3.db");
  RawExec(path, R"sql(CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT)sql");
  for (const sqlite::Migration& m : sqlite::Migrations()) {
    if (m.version > 3) break;
    for (const char* sql : m.statements) RawExec(path, sql);
    RawExec(path, "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 0)");
  }
  RawExec(path,
          "INSERT INTO organizations (id, code, name, created_at) VALUES (1, 'old', 'Old', 0)");
  RawExec(path,
          "INSERT INTO workers (org_id, code, name, employer, id_salt, id_digest, id_last4, "
          "phone, photo_ref, status, created_at, updated_at, rev) VALUES (1, 'W1', 'n', 'e', "
          "'s', 'd', '1234', 'p', '', 'active', 0, 0, 7)");
  RawExec(path, "UPDATE revision SET value = 7");
  ASSERT_EQ(RawQueryText(path, "SELECT max(version) FROM schema_migrations"), "3");

  core::FakeClock clock{Timestamp::FromSeconds(1'750'000'000)};
  auto s = OpenSqliteStore({.path = path, .clock = &clock});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  Store& store = **s;
  const std::string latest = std::to_string(sqlite::LatestSchemaVersion());
  EXPECT_EQ(store.SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_EQ(RawQueryText(path, "SELECT max(version) FROM schema_migrations"), latest);
  EXPECT_EQ(RawQueryText(path, "SELECT applied_at FROM schema_migrations WHERE version = 4"),
            std::to_string(clock.Now().micros));
  auto w = store.FindWorkerByCode(OrgId{1}, "W1");
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  EXPECT_EQ(*store.CurrentRevision(), 7);
  PermitRow row = MakePermit(OrgId{1});
  auto p = store.CreatePermit(row, kDh, FactDrafts{});
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->number, "DH-20261129-0001");
  auto changes = store.PermitChangesSince(7, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].revision, 8);
  s->reset();
  // Reopening applies nothing more.
  auto again = OpenSqliteStore({.path = path, .clock = &clock});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(RawQueryText(path, "SELECT count(*) FROM schema_migrations"), latest);
  EXPECT_TRUE((*again)->FindPermitByNumber(OrgId{1}, "DH-20261129-0001").ok());
}

}  // namespace
}  // namespace wg::store

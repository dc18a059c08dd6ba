// The dual chain end to end with real components: an enterprise installation (SQLite
// store, evidence logs, SM2 keys) pushes to a RegulatorServer over HTTP with
// PushCheckpoint; a diverging copy of the enterprise is caught as a fork; the regulator
// spot-checks a fact through the enterprise's real ApiServer, and a tampered answer fails.

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "wg/api/server.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/regulator/push.h"
#include "wg/regulator/server.h"
#include "wg/regulator/spot_check.h"
#include "wg/regulator/supervision.h"
#include "wg/regulator/wire.h"
#include "wg/server/installation.h"

namespace wg::regulator {
namespace {

namespace fs = std::filesystem;
using core::Json;

constexpr char kAdminToken[] = "admin-token-for-tests-0123456789";
constexpr char kPassword[] = "correct horse battery";

class DualChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-dual-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    inst_ = OpenEnterprise(dir_ + "/ent");
    ASSERT_TRUE(inst_);
    auto org = inst_->CreateOrganization({"plant-a", "A 石化"}, "test");
    ASSERT_TRUE(org.has_value()) << org.error().ToString();
    org_ = org->id;
    origin_ = inst_->evidence().Origin("plant-a");
    AddFacts(*inst_, 5, "first");

    auto sup = Supervision::Open(
        {.dir = dir_ + "/reg", .key_name = "regulator.test/anquan", .sync = false}, clock_);
    ASSERT_TRUE(sup.has_value()) << sup.error().ToString();
    sup_ = std::move(sup).value();
    auto key = inst_->evidence().EnsureKey(org_);
    ASSERT_TRUE(key.has_value());
    auto token = sup_->Enroll(origin_, inst_->evidence().alg(), {key->vkey});
    ASSERT_TRUE(token.has_value()) << token.error().ToString();

    server_ = std::make_unique<RegulatorServer>(
        *sup_,
        RegulatorServerOptions{.host = "127.0.0.1",
                               .port = 0,
                               .max_body_bytes = 2u << 20,
                               .threads = 4,
                               .admin_token_sha256 = core::ToHex(crypto::Sha256(kAdminToken))});
    ASSERT_TRUE(server_->Start().ok());
    endpoint_ = {.url = "http://127.0.0.1:" + std::to_string(server_->port()),
                 .token = *token,
                 .regulator_vkey = sup_->VerifierKey(),
                 .timeout_seconds = 10};
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  void TearDown() override {
    client_.reset();
    api_.reset();
    if (server_) server_->Stop();
    server_.reset();
    sup_.reset();
    inst_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<server::Installation> OpenEnterprise(const std::string& dir) {
    auto inst = server::Installation::Open({.data_dir = dir, .load_index = false}, clock_);
    EXPECT_TRUE(inst.has_value()) << inst.error().ToString();
    return inst.has_value() ? std::move(inst).value() : nullptr;
  }

  void AddFacts(server::Installation& inst, int n, const std::string& tag) {
    store::FactDrafts drafts;
    for (int i = 0; i < n; ++i) {
      drafts.push_back({.kind = "test.note",
                        .actor = "test",
                        .subject = "note:" + tag + "-" + std::to_string(i),
                        .site = "",
                        .payload = R"({"tag":")" + tag + R"("})"});
    }
    ASSERT_TRUE(inst.store().AppendFacts(org_, drafts).ok());
    auto synced = inst.evidence().Sync(org_);
    ASSERT_TRUE(synced.has_value()) << synced.error().ToString();
  }

  std::uint64_t LogSize(server::Installation& inst) {
    return inst.evidence().Sync(org_).value_or(0);
  }

  // The stored latest checkpoint carries a valid regulator co-signature.
  bool CosignedByRegulator(server::Installation& inst) {
    auto latest = inst.evidence().LatestCheckpoint(org_);
    if (!latest.has_value()) return false;
    auto note = ledger::ParseNote(*latest);
    auto reg = ledger::NoteKey::FromVerifierKey(sup_->VerifierKey());
    return note.has_value() && reg.has_value() && reg->Verify(*note).ok();
  }

  httplib::Headers Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  // Starts the enterprise's API with a regulator-role user; returns its bearer token.
  std::string StartEnterpriseApi() {
    domain::User u;
    u.org_id = org_;
    u.username = "inspector";
    u.display_name = "监管检查员";
    u.role = domain::Role::kRegulator;
    auto hash = crypto::HashPassword(kPassword, {1, 1024, 1});
    EXPECT_TRUE(hash.has_value());
    u.password_hash = *hash;
    u.created_at = clock_.Now();
    auto created = inst_->CreateUser(u, "test");
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    api::ServerOptions opts;
    opts.port = 0;
    opts.threads = 4;
    opts.import_tmp_dir = inst_->tmp_dir();
    api_ = std::make_unique<api::ApiServer>(inst_->store(), inst_->registry(), clock_, opts);
    EXPECT_TRUE(api_->Start().ok());
    httplib::Client c("127.0.0.1", api_->port());
    auto r =
        c.Post("/api/v1/auth/login",
               Json{{"username", "inspector"}, {"password", kPassword}}.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
    if (!r) return "";
    return Json::parse(r->body, nullptr, false).value("token", "");
  }

  std::string dir_;
  core::FakeClock clock_{core::Timestamp::FromSeconds(1'796'000'000)};
  std::unique_ptr<server::Installation> inst_;
  core::OrgId org_;
  std::string origin_;
  std::unique_ptr<Supervision> sup_;
  std::unique_ptr<RegulatorServer> server_;
  std::unique_ptr<api::ApiServer> api_;
  RegulatorEndpoint endpoint_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DualChainTest, PushLandsTheCosignatureAndAForkedCopyIsCaught) {
  // First push: the whole log, its leaf hashes, and the co-signature merged back.
  const std::uint64_t n1 = LogSize(*inst_);
  ASSERT_GE(n1, 7u);  // org.created, key.created, 5 test facts
  auto first = PushCheckpointRemembered(inst_->evidence(), org_, endpoint_);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->size, n1);
  EXPECT_EQ(first->leaves_sent, n1);
  EXPECT_FALSE(first->up_to_date);
  EXPECT_TRUE(CosignedByRegulator(*inst_));
  auto held = sup_->Enterprise(origin_);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->size, n1);
  EXPECT_EQ(held->leaves_held, n1);
  auto state = LoadPushState(*PushStatePath(inst_->evidence(), org_));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->accepted_size, n1);
  EXPECT_EQ(state->cosigned_size, n1);

  // Nothing new: nothing sent.
  auto idle = PushCheckpointRemembered(inst_->evidence(), org_, endpoint_);
  ASSERT_TRUE(idle.has_value());
  EXPECT_TRUE(idle->up_to_date);
  EXPECT_EQ(idle->requests, 0);

  // Growth: one request with the consistency proof and the new leaf hashes.
  AddFacts(*inst_, 4, "second");
  auto second = PushCheckpointRemembered(inst_->evidence(), org_, endpoint_);
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->size, n1 + 4);
  EXPECT_EQ(second->leaves_sent, 4u);
  EXPECT_EQ(second->requests, 1);
  EXPECT_TRUE(CosignedByRegulator(*inst_));

  // A lost state file: the regulator's STALE_BASE answer puts the client right.
  ASSERT_TRUE(fs::remove(*PushStatePath(inst_->evidence(), org_)));
  AddFacts(*inst_, 2, "third");
  auto third = PushCheckpointRemembered(inst_->evidence(), org_, endpoint_);
  ASSERT_TRUE(third.has_value()) << third.error().ToString();
  EXPECT_EQ(third->size, n1 + 6);
  EXPECT_EQ(third->leaves_sent, 2u);
  EXPECT_TRUE(sup_->Alerts()->empty());

  // Tamper: a copy of the enterprise's data directory (same origin, same key, same push
  // state) where other facts are appended, while the original goes on.
  inst_.reset();
  fs::copy(dir_ + "/ent", dir_ + "/ent2", fs::copy_options::recursive);
  inst_ = OpenEnterprise(dir_ + "/ent");
  auto forked = OpenEnterprise(dir_ + "/ent2");
  ASSERT_TRUE(inst_ && forked);
  AddFacts(*inst_, 3, "honest");
  ASSERT_TRUE(PushCheckpointRemembered(inst_->evidence(), org_, endpoint_).has_value());
  AddFacts(*forked, 5, "rewritten");
  auto refused = PushCheckpointRemembered(forked->evidence(), org_, endpoint_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("FORK"), std::string::npos)
      << refused.error().ToString();
  auto alerts = sup_->Alerts(origin_);
  ASSERT_TRUE(alerts.has_value());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->front().kind, AlertKind::kFork);
  auto held_note = ledger::ParseNote(alerts->front().held_checkpoint);
  auto forked_note = ledger::ParseNote(alerts->front().submitted_checkpoint);
  ASSERT_TRUE(held_note.has_value() && forked_note.has_value());
  EXPECT_EQ(ledger::ParseCheckpointBody(held_note->text)->size, n1 + 9);
  EXPECT_EQ(ledger::ParseCheckpointBody(forked_note->text)->size, n1 + 11);
  // The regulator kept the honest chain.
  EXPECT_EQ(sup_->Enterprise(origin_)->size, n1 + 9);
  EXPECT_FALSE(CosignedByRegulator(*forked));

  // The same fork at equal size is caught too, and a rolled-back copy is a ROLLBACK.
  AddFacts(*inst_, 2, "honest");
  ASSERT_TRUE(PushCheckpointRemembered(inst_->evidence(), org_, endpoint_).has_value());
  auto again = PushCheckpointRemembered(forked->evidence(), org_, endpoint_);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("FORK"), std::string::npos) << again.error().ToString();
  EXPECT_NE(again.error().message().find("different roots"), std::string::npos);
  EXPECT_EQ(sup_->Alerts()->size(), 2u);
}

TEST_F(DualChainTest, BacklogIsSentInPages) {
  // More leaf hashes than one submission may carry: the same checkpoint is sent once per
  // page, and co-signed when the last page completes it.
  AddFacts(*inst_, 10'050, "bulk");
  const std::uint64_t size = LogSize(*inst_);
  auto r = PushCheckpointRemembered(inst_->evidence(), org_, endpoint_);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->requests, 2);
  EXPECT_EQ(r->leaves_sent, size);
  EXPECT_EQ(sup_->Enterprise(origin_)->leaves_held, size);
  EXPECT_TRUE(CosignedByRegulator(*inst_));
}

TEST_F(DualChainTest, RollbackFromARestoredCopyIsAnAlert) {
  ASSERT_TRUE(PushCheckpointRemembered(inst_->evidence(), org_, endpoint_).has_value());
  inst_.reset();
  fs::copy(dir_ + "/ent", dir_ + "/backup", fs::copy_options::recursive);
  inst_ = OpenEnterprise(dir_ + "/ent");
  AddFacts(*inst_, 3, "after-backup");
  ASSERT_TRUE(PushCheckpointRemembered(inst_->evidence(), org_, endpoint_).has_value());
  // The enterprise "restores" the backup and pushes its (smaller) checkpoint.
  inst_.reset();
  auto restored = OpenEnterprise(dir_ + "/backup");
  ASSERT_TRUE(restored);
  PushState state;  // the restored copy has no memory of the later push
  state.url = endpoint_.url;
  auto r = PushCheckpoint(restored->evidence(), org_, endpoint_, state);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("ROLLBACK"), std::string::npos) << r.error().ToString();
  ASSERT_EQ(sup_->Alerts()->size(), 1u);
  EXPECT_EQ(sup_->Alerts()->front().kind, AlertKind::kRollback);
}

TEST_F(DualChainTest, SpotCheckThroughTheEnterpriseApi) {
  const std::string token = StartEnterpriseApi();
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(PushCheckpointRemembered(inst_->evidence(), org_, endpoint_).has_value());
  const std::string url = "http://127.0.0.1:" + std::to_string(api_->port());
  const std::uint64_t size = sup_->Enterprise(origin_)->size;
  // Facts added after the push do not disturb a check against the held checkpoint.
  AddFacts(*inst_, 3, "later");

  auto ok = SpotCheck(*sup_, url, token, origin_, 4);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_TRUE(ok->verified) << ok->reason;
  EXPECT_TRUE(ok->leaf_held);
  EXPECT_EQ(ok->tree_size, size);
  ASSERT_TRUE(ok->fact.has_value());
  EXPECT_EQ(ok->fact->seq, 4u);
  EXPECT_EQ(ok->fact->kind, "test.note");
  EXPECT_FALSE(ok->alert_id.has_value());
  const Json j = SpotCheckToJson(*ok);
  EXPECT_EQ(j["fact"]["subject"], ok->fact->subject);

  EXPECT_EQ(SpotCheck(*sup_, url, token, origin_, size).error().field(), "seq");
  EXPECT_EQ(SpotCheck(*sup_, url, "wrong", origin_, 1).error().code(),
            core::StatusCode::kUnauthenticated);

  // The answer for fact 3, presented as fact 4, does not verify.
  httplib::Client api("127.0.0.1", api_->port());
  auto r3 =
      api.Get(("/api/v1/ledger/proof?seq=3&size=" + std::to_string(size)).c_str(), Bearer(token));
  ASSERT_TRUE(r3 && r3->status == 200);
  auto held = sup_->Enterprise(origin_);
  auto leaf4 = sup_->HeldLeaf(origin_, 4);
  SpotCheckReport swapped = VerifyProofAnswer(*held, *leaf4, 4, r3->body);
  EXPECT_FALSE(swapped.verified);
  EXPECT_NE(swapped.reason.find("not 4"), std::string::npos) << swapped.reason;
  // ... nor with a regulator that held no leaf hash: the inclusion proof fails then.
  SpotCheckReport no_leaf = VerifyProofAnswer(*held, std::nullopt, 3, r3->body);
  EXPECT_TRUE(no_leaf.verified) << no_leaf.reason;

  // A proxy that flips one bit of the proof on its way to the regulator.
  httplib::Server proxy;
  const int api_port = api_->port();
  proxy.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    httplib::Client upstream("127.0.0.1", api_port);
    std::string target = req.path + "?";
    for (const auto& [k, v] : req.params) target += k + "=" + v + "&";
    auto up =
        upstream.Get(target.c_str(), {{"Authorization", req.get_header_value("Authorization")}});
    if (!up) {
      res.status = 502;
      return;
    }
    Json body = Json::parse(up->body, nullptr, false);
    if (body.is_object() && body.contains("proof") && !body["proof"].empty()) {
      std::string h = body["proof"][0];
      h[0] = h[0] == '0' ? '1' : '0';
      body["proof"][0] = h;
    }
    res.status = up->status;
    res.set_content(body.dump(), "application/json");
  });
  const int proxy_port = proxy.bind_to_any_port("127.0.0.1");
  ASSERT_GT(proxy_port, 0);
  std::thread proxy_thread([&] { proxy.listen_after_bind(); });
  while (!proxy.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto bad = SpotCheck(*sup_, "http://127.0.0.1:" + std::to_string(proxy_port), token, origin_, 4);
  proxy.stop();
  proxy_thread.join();
  ASSERT_TRUE(bad.has_value()) << bad.error().ToString();
  EXPECT_FALSE(bad->verified);
  EXPECT_NE(bad->reason.find("inclusion proof"), std::string::npos) << bad->reason;
  ASSERT_TRUE(bad->alert_id.has_value());
  auto alerts = sup_->Alerts();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->front().kind, AlertKind::kSpotCheckFailed);
}

TEST_F(DualChainTest, HttpSurface) {
  // Submissions need a push token; a broken body names its field.
  auto none = client_->Post("/regulator/v1/submissions", "{}", "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(Json::parse(none->body)["error"]["code"], "UNAUTHENTICATED");
  auto bad = client_->Post("/regulator/v1/submissions", Bearer(endpoint_.token),
                           R"({"checkpoint":"x","leaves":{"from":0,"hashes":["zz"]}})",
                           "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Json::parse(bad->body)["error"]["field"], "leaves.hashes[0]");
  auto malformed = client_->Post("/regulator/v1/submissions", Bearer(endpoint_.token),
                                 R"({"checkpoint":"x"})", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(Json::parse(malformed->body)["decision"], "MALFORMED");
  auto too_big = client_->Post("/regulator/v1/submissions", Bearer(endpoint_.token),
                               std::string(3u << 20, ' '), "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);

  // Another enterprise's token with this enterprise's checkpoint.
  auto key_b = inst_->evidence().EnsureKey(org_);
  auto token_b = sup_->Enroll("workguard.test/other/plant-b", ledger::HashAlg::kSm3, {key_b->vkey});
  ASSERT_TRUE(token_b.has_value());
  auto note = inst_->evidence().Checkpoint(org_);
  ASSERT_TRUE(note.has_value());
  Submission s;
  s.note = *note;
  auto wrong = client_->Post("/regulator/v1/submissions", Bearer(*token_b),
                             SubmissionToJson(s).dump(), "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  EXPECT_EQ(Json::parse(wrong->body)["decision"], "ORIGIN_MISMATCH");

  ASSERT_TRUE(PushCheckpointRemembered(inst_->evidence(), org_, endpoint_).has_value());

  // Admin routes.
  EXPECT_EQ(client_->Get("/regulator/v1/enterprises")->status, 401);
  EXPECT_EQ(client_->Get("/regulator/v1/enterprises", Bearer(endpoint_.token))->status, 401);
  auto list = client_->Get("/regulator/v1/enterprises", Bearer(kAdminToken));
  ASSERT_TRUE(list && list->status == 200) << (list ? list->body : "");
  Json enterprises = Json::parse(list->body)["enterprises"];
  ASSERT_EQ(enterprises.size(), 2u);
  auto cp = client_->Get(
      ("/regulator/v1/enterprises/" + EncodePathSegment(origin_) + "/checkpoint").c_str(),
      Bearer(kAdminToken));
  ASSERT_TRUE(cp && cp->status == 200) << (cp ? cp->body : "");
  Json held = Json::parse(cp->body);
  EXPECT_EQ(held["origin"], origin_);
  EXPECT_EQ(held["size"], sup_->Enterprise(origin_)->size);
  auto missing = client_->Get("/regulator/v1/enterprises/nobody/checkpoint", Bearer(kAdminToken));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto alerts = client_->Get("/regulator/v1/alerts?origin=" + EncodePathSegment(origin_),
                             Bearer(kAdminToken));
  ASSERT_TRUE(alerts && alerts->status == 200);
  EXPECT_TRUE(Json::parse(alerts->body)["alerts"].empty());
  EXPECT_EQ(client_->Get("/regulator/v1/alerts?x=1", Bearer(kAdminToken))->status, 400);
  auto key = client_->Get("/regulator/v1/key");
  ASSERT_TRUE(key && key->status == 200);
  EXPECT_EQ(Json::parse(key->body)["vkey"], sup_->VerifierKey());
  EXPECT_EQ(client_->Get("/regulator/v1/nothing")->status, 404);
}

TEST(AdminTokenTest, CreatedOnceAndStoredAsDigest) {
  char tmpl[] = "/tmp/wg-admin-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto first = EnsureAdminToken(dir);
  ASSERT_TRUE(first.has_value() && first->has_value());
  auto second = EnsureAdminToken(dir);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->has_value());
  auto digest = ReadAdminTokenDigest(dir);
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(*digest, core::ToHex(crypto::Sha256(**first)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace wg::regulator

#include "wg/server/installation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "wg/evidence/bundle.h"
#include "wg/server/demo.h"

namespace wg::server {
namespace {

class InstallationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-inst-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  core::FakeClock clock_{*core::ParseTimestamp("2026-11-28T04:00:00Z")};
};

TEST_F(InstallationTest, CreatesLayoutAndKeepsKeysAcrossOpens) {
  std::string key1;
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    key1 = *LoadOrCreateKey(dir_, "id-digest.key");
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/workguard.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/rules/catalog.json"));
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/keys/id-digest.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*LoadOrCreateKey(dir_, "id-digest.key"), key1);
}

// The presence rulebook is data: installed editable at DATA/rules/presence/rules.json,
// an edit takes effect at the next open, a broken file refuses to open naming the file.
// The service is wired into the permits (a confined-space permit with nobody inside may
// be completed as far as people on site are concerned).
TEST_F(InstallationTest, PresenceRulesAreInstalledEditableAndLoaded) {
  const std::string path = dir_ + "/rules/presence/rules.json";
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    const auto* rule = (*inst)->presence_rulebook().Rule("presence.guardian_absent");
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->grace.micros, core::Duration::Minutes(2).micros);
    permit::Permit p;
    p.type = permit::PermitType::kConfinedSpace;
    p.number = "NONE-1";
    EXPECT_FALSE((*inst)->presence().CompletionBlocker(core::OrgId{1}, p).has_value());
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string from = R"("grace": "2m")";
  auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "guardian_absent grace not found in " << path;
  text.replace(at, from.size(), R"("grace": "20s")");
  std::ofstream(path, std::ios::trunc) << text;
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    EXPECT_EQ((*inst)->presence_rulebook().Rule("presence.guardian_absent")->grace.micros,
              core::Duration::Seconds(20).micros);
  }
  std::ofstream(path, std::ios::trunc) << R"({"format": "workguard-presence-rules/1", "rules": [{"id": 1}]})";
  auto broken = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_FALSE(broken.has_value());
  EXPECT_NE(broken.error().ToString().find("rules.json"), std::string::npos)
      << broken.error().ToString();
}

// An attachment's life as evidence: stored (fact with both digests), destroyed when its
// retention ends (fact again), and still provable afterwards from the log alone.
TEST_F(InstallationTest, AttachmentsAreFactsAndRetentionDestroysThemProvably) {
  auto inst = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
  auto org = (*inst)->CreateOrganization({"plant-a", "A 石化"}, "cli:test");
  ASSERT_TRUE(org.has_value()) << org.error().ToString();
  std::istringstream photo(std::string(100000, 'p'));
  auto info = (*inst)->StoreAttachment(
      org->id, {.org = "plant-a", .media_type = "image/jpeg", .file_name = "现场.jpg",
                .retention_class = "photo"},
      photo, "user:guard");
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  std::istringstream report("lab report");
  auto permanent = (*inst)->StoreAttachment(
      org->id, {.org = "plant-a", .media_type = "application/pdf", .file_name = "r.pdf",
                .retention_class = "test_report"},
      report, "user:guard");
  ASSERT_TRUE(permanent.has_value()) << permanent.error().ToString();
  // Another organization cannot file into plant-a's vault.
  std::istringstream sneaky("x");
  EXPECT_FALSE((*inst)->StoreAttachment(org->id, {.org = "plant-b", .media_type = "image/jpeg",
                                                  .file_name = "x.jpg", .retention_class = "photo"},
                                        sneaky, "user:guard")
                   .has_value());

  const std::string subject = "attachment:" + info->id;
  auto facts = (*inst)->store().FactsAbout(org->id, subject, 0, 10);
  ASSERT_TRUE(facts.has_value());
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ((*facts)[0].kind, "vault.stored");
  EXPECT_NE((*facts)[0].payload.find(info->plaintext_sm3), std::string::npos);
  EXPECT_NE((*facts)[0].payload.find(info->ciphertext_sm3), std::string::npos);

  // 179 days: nothing expires. 181 days: the photo goes, the report stays.
  clock_.Advance(core::Duration::Days(179));
  EXPECT_TRUE((*inst)->ExpireAttachments("system:retention")->empty());
  clock_.Advance(core::Duration::Days(2));
  auto gone = (*inst)->ExpireAttachments("system:retention");
  ASSERT_TRUE(gone.has_value()) << gone.error().ToString();
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_EQ((*gone)[0].id, info->id);
  std::ostringstream sink;
  EXPECT_EQ((*inst)->vault().Get("plant-a", info->id, sink).code(),
            core::StatusCode::kFailedPrecondition);
  std::ostringstream kept;
  EXPECT_TRUE((*inst)->vault().Get("plant-a", permanent->id, kept).ok());
  facts = (*inst)->store().FactsAbout(org->id, subject, 0, 10);
  ASSERT_EQ(facts->size(), 2u);
  EXPECT_EQ((*facts)[1].kind, "vault.destroyed");
  EXPECT_EQ((*facts)[1].actor, "system:retention");
  // The history of the destroyed object still verifies from the log.
  auto bundle = evidence::ExportSubject((*inst)->evidence(), org->id, subject);
  ASSERT_TRUE(bundle.has_value()) << bundle.error().ToString();
  auto checked = evidence::VerifyBundle(*bundle, (*inst)->keys().Current("plant-a")->vkey);
  ASSERT_TRUE(checked.has_value()) << checked.error().ToString();
  EXPECT_EQ(checked->facts.size(), 2u);
  auto verified = (*inst)->evidence().Verify(org->id);
  ASSERT_TRUE(verified.has_value()) << verified.error().ToString();
}

TEST_F(InstallationTest, RejectsATruncatedKey) {
  std::filesystem::create_directories(dir_ + "/keys");
  std::ofstream(dir_ + "/keys/id-digest.key") << "short";
  auto inst = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_FALSE(inst.has_value());
  EXPECT_EQ(inst.error().code(), core::StatusCode::kCorruption);
}

TEST_F(InstallationTest, DemoSeedShowsEveryCertificateState) {
  auto inst = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_TRUE(inst.has_value());
  auto summary = SeedDemo(**inst, clock_);
  ASSERT_TRUE(summary.has_value()) << summary.error().ToString();
  auto org = (*inst)->OrgByCode("demo-petrochem");
  ASSERT_TRUE(org.has_value());
  auto& st = (*inst)->store();
  auto verdict = [&](const char* code, const char* op) {
    auto w = st.FindWorkerByCode(org->id, code);
    EXPECT_TRUE(w.has_value()) << code;
    auto v = (*inst)->registry().Verify(org->id, w->id, op);
    EXPECT_TRUE(v.has_value());
    return std::string(registry::VerdictName(v->verdict));
  };
  EXPECT_EQ(verdict("JX-001", "hot_work"), "valid");
  EXPECT_EQ(verdict("JX-002", "hot_work"), "review_due");
  EXPECT_EQ(verdict("JX-003", "hot_work"), "review_overdue");
  EXPECT_EQ(verdict("JX-004", "hot_work"), "review_due");
  EXPECT_EQ(verdict("JX-005", "hot_work"), "expired");
  EXPECT_EQ(verdict("DQ-003", "temporary_power"), "revoked");
  EXPECT_EQ(verdict("DQ-001", "hot_work"), "wrong_category");
  EXPECT_EQ(verdict("QZ-001", "crane_driving"), "valid");
  EXPECT_EQ(verdict("QZ-001", "crane_commanding"), "review_due");
  auto expiring = (*inst)->registry().Expiring(org->id, 30);
  ASSERT_TRUE(expiring.has_value());
  EXPECT_GE(expiring->size(), 3u);
  // Permits: an active hot-work permit (graded for the day and hour of seeding, started at
  // once) whose seven SM2 signatures verify, among permits of every type in many states.
  EXPECT_NE(summary->find("active"), std::string::npos) << *summary;
  EXPECT_EQ(summary->find("warning"), std::string::npos) << *summary;
  auto active = (*inst)->permits().List(org->id, {.filter = {.states = {"active"}}});
  ASSERT_TRUE(active.has_value());
  std::vector<permit::Permit> hot;
  for (const auto& p : *active) {
    if (p.type == permit::PermitType::kHotWork) hot.push_back(p);
  }
  ASSERT_EQ(hot.size(), 1u) << *summary;
  auto v = (*inst)->permits().Verify(org->id, hot.front().number, "");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->signatures_valid);
  EXPECT_EQ(v->signature_valid.size(), 7u);
  EXPECT_EQ(hot.front().grade, "grade1") << "Saturday: grade 2 raised to grade 1";
  // The confined-space entry at V-203 is active in the zone of the incident's H2S detector.
  bool confined_at_incident = false;
  for (const auto& p : *active) {
    confined_at_incident = confined_at_incident ||
                           (p.type == permit::PermitType::kConfinedSpace &&
                            p.site == "hydro" && p.location.zone == "HT-V");
  }
  EXPECT_TRUE(confined_at_incident) << *summary;
  auto all = (*inst)->permits().List(org->id, {.limit = 500});
  ASSERT_TRUE(all.has_value());
  std::set<permit::PermitType> types;
  std::set<std::string> states;
  for (const auto& p : *all) {
    types.insert(p.type);
    states.insert(std::string(permit::StateCode(p.state)));
  }
  EXPECT_EQ(types.size(), 8u) << "every GB 30871-2022 type";
  EXPECT_GE(states.size(), 4u);
  for (const char* s : {"draft", "pending_signatures", "approved", "active", "suspended",
                        "completed", "cancelled"}) {
    EXPECT_EQ(states.count(s), 1u) << s;
  }
  // The plant: >= 40 points, >= 100 workers, tags, a plan for every site whose zones hold
  // every point of the site.
  auto points = st.ListPoints(org->id);
  ASSERT_TRUE(points.has_value());
  EXPECT_GE(points->size(), 40u);
  auto workers = st.ListWorkers(org->id, {.limit = 1000});
  ASSERT_TRUE(workers.has_value());
  EXPECT_GE(workers->size(), 100u);
  auto sites = st.ListSites(org->id);
  ASSERT_TRUE(sites.has_value());
  EXPECT_EQ(sites->size(), 4u);
  for (const auto& site : *sites) {
    auto plan = (*inst)->presence().GetSitePlan(org->id, site.code);
    ASSERT_TRUE(plan.has_value()) << site.code << ": " << plan.error().ToString();
    std::set<std::string> zones;
    for (const auto& z : plan->first.zones) zones.insert(z.code);
    for (const auto& p : DemoPoints()) {
      if (p.site != site.code) continue;
      EXPECT_EQ(plan->first.points.count(p.id), 1u) << p.id;
      EXPECT_EQ(zones.count(p.zone), 1u) << p.id << " zone " << p.zone;
    }
  }
  auto tags = (*inst)->presence().ListTags(org->id);
  ASSERT_TRUE(tags.has_value());
  EXPECT_GE(tags->size(), 10u);
  // Seeding twice is a no-op: nothing is added.
  auto again = SeedDemo(**inst, clock_);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->find("already"), std::string::npos);
  auto all_again = (*inst)->permits().List(org->id, {.limit = 500});
  ASSERT_TRUE(all_again.has_value());
  EXPECT_EQ(all_again->size(), all->size());
  EXPECT_EQ(st.ListPoints(org->id)->size(), points->size());
  EXPECT_EQ(st.ListWorkers(org->id, {.limit = 1000})->size(), workers->size());
  EXPECT_EQ((*inst)->presence().ListTags(org->id)->size(), tags->size());
  EXPECT_EQ(st.ListSites(org->id)->size(), sites->size());
  // The simulator's scripted refusals: the draft naming the expired welder is refused at
  // submission, the approved hot work with a 45-minute-old gas test at start; both leave
  // a permit.refused fact in the permit's history.
  auto leader_user = st.FindUserByUsername("leader");
  ASSERT_TRUE(leader_user.has_value());
  permit::Actor leader{.name = "user:leader", .user_id = leader_user->id, .username = "leader",
                       .role = "team_leader"};
  auto refused_by = [&](const char* title, bool submit) {
    for (const auto& p : *all) {
      if (p.title != title) continue;
      auto r = submit ? (*inst)->permits().Submit(org->id, p.id, leader)
                      : (*inst)->permits().Activate(org->id, p.id, leader);
      EXPECT_TRUE(r.has_value()) << title;
      if (!r) return std::string("error");
      EXPECT_FALSE(r->applied) << title;
      std::string rules;
      if (r->decision) {
        for (const auto& viol : r->decision->violations) {
          if (viol.severity == permit::Severity::kBlock) rules += viol.rule + " ";
        }
      }
      auto history = (*inst)->permits().History(org->id, p.id);
      EXPECT_TRUE(history.has_value());
      bool recorded = false;
      for (const auto& e : history.value_or(std::vector<permit::HistoryEvent>{})) {
        recorded = recorded || e.kind == "permit.refused";
      }
      EXPECT_TRUE(recorded) << title;
      return rules;
    }
    return std::string("missing");
  };
  EXPECT_NE(refused_by(kDemoExpiredWelderTitle, true).find("general.worker_certificate"),
            std::string::npos);
  EXPECT_NE(refused_by(kDemoStaleGasTitle, false).find("gas.before_start"), std::string::npos);
  // The bench site: generated points on a grid of zones, with its plan; idempotent too.
  auto bench = SeedBenchSite(**inst, 120);
  ASSERT_TRUE(bench.has_value()) << bench.error().ToString();
  auto bench_again = SeedBenchSite(**inst, 120);
  ASSERT_TRUE(bench_again.has_value());
  EXPECT_NE(bench_again->find("(0 added)"), std::string::npos) << *bench_again;
  EXPECT_EQ(st.ListPoints(org->id)->size(), points->size() + 120);
  auto bench_plan = (*inst)->presence().GetSitePlan(org->id, "bench-site");
  ASSERT_TRUE(bench_plan.has_value());
  EXPECT_EQ(bench_plan->first.points.size(), 120u);
}

// Early warning's rule is data like the other rulebooks: installed editable, an edit takes
// effect at the next open, a broken file refuses to open naming the file.
TEST_F(InstallationTest, PredictRulesAreInstalledEditableAndLoaded) {
  const std::string path = dir_ + "/rules/predict/rules.json";
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    EXPECT_EQ((*inst)->monitor().PredictorInfo()["rule"]["level"], "yellow");
    EXPECT_FALSE((*inst)->model().has_value()) << "no model without start_monitor";
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string from = R"("level": "yellow")";
  auto at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), R"("level": "blue")");
  std::ofstream(path, std::ios::trunc) << text;
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    EXPECT_EQ((*inst)->monitor().PredictorInfo()["rule"]["level"], "blue");
  }
  text.replace(text.find(R"("level": "blue")"), 15, R"("level": "red")");
  std::ofstream(path, std::ios::trunc) << text;
  auto broken = Installation::Open({.data_dir = dir_}, clock_);
  ASSERT_FALSE(broken.has_value());
  EXPECT_NE(broken.error().ToString().find("predict/rules.json"), std::string::npos)
      << broken.error().ToString();
  EXPECT_EQ(broken.error().field(), "rules[0].level");
}

// "off" runs without prediction; a model that does not load stops the start (no silent
// fallback to another model).
TEST_F(InstallationTest, ModelOffOrUnloadable) {
  {
    InstallationOptions o{.data_dir = dir_, .start_monitor = true};
    o.model = "off";
    auto inst = Installation::Open(o, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    EXPECT_FALSE((*inst)->model().has_value());
    EXPECT_FALSE((*inst)->monitor().PredictorInfo()["enabled"].get<bool>());
  }
  InstallationOptions o{.data_dir = dir_, .start_monitor = true};
  o.model = dir_ + "/no-such-model.json";
  auto inst = Installation::Open(o, clock_);
  ASSERT_FALSE(inst.has_value());
  EXPECT_NE(inst.error().ToString().find("early warning: model '" + o.model + "'"),
            std::string::npos)
      << inst.error().ToString();
}

// The default model is loaded when monitoring starts and recorded in every organization's
// evidence log ("model.loaded"), including organizations created afterwards.
TEST_F(InstallationTest, DefaultModelIsLoadedAndRecorded) {
  core::OrgId before;
  {
    auto inst = Installation::Open({.data_dir = dir_}, clock_);
    ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
    auto o = (*inst)->CreateOrganization({"plant-a", "A"}, "cli:test");
    ASSERT_TRUE(o.has_value()) << o.error().ToString();
    before = o->id;
  }
  auto inst = Installation::Open({.data_dir = dir_, .start_monitor = true}, clock_);
  ASSERT_TRUE(inst.has_value()) << inst.error().ToString();
  ASSERT_TRUE((*inst)->model().has_value());
  const predict::ModelInfo m = *(*inst)->model();
  EXPECT_FALSE(m.kind.empty());
  core::Json info = (*inst)->monitor().PredictorInfo();
  EXPECT_TRUE(info["enabled"].get<bool>());
  EXPECT_EQ(info["name"], m.name);
  auto after = (*inst)->CreateOrganization({"plant-b", "B"}, "cli:test");
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  for (core::OrgId org : {before, after->id}) {
    auto facts = (*inst)->store().FactsAbout(org, "model:" + m.name, 0, 10);
    ASSERT_TRUE(facts.has_value()) << facts.error().ToString();
    ASSERT_EQ(facts->size(), 1u) << org.value;
    EXPECT_EQ(facts->front().kind, "model.loaded");
    auto payload = core::ParseJson(facts->front().payload);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ((*payload)["kind"], m.kind);
    EXPECT_EQ((*payload)["digest"], m.digest);
  }
}

}  // namespace
}  // namespace wg::server

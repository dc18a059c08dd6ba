// Table-driven tests of the people, signature and approval rules (rules_people.cc):
// required people, worker certificates through the registry, guardians, the Appendix A
// signature chain, tampered and forged signatures, and the approver's authority,
// workload, track record and presence on site.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "test_directory.h"

namespace wg::permit {
namespace {

using core::Duration;
using testing::CheckWorld;

using Edit = std::function<void(Permit&, CheckWorld&)>;

struct Case {
  std::string name;
  PermitType type;
  Edit edit;        // before signing
  Edit after_sign;  // after signing (tampering)
  std::string rule;
  int expected = 0;
  std::string field;
  Stage stage = Stage::kApprove;
  std::string grade;  // declared grade override ("" keeps the fixture's)
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

Edit Nothing() {
  return [](Permit&, CheckWorld&) {};
}
Edit OnUser(std::string username, std::function<void(UserFacts&)> f) {
  return [username, f](Permit&, CheckWorld& w) { f(w.dir().users.at(username)); };
}
Edit OnWorker(std::string code, std::function<void(testing::FakeWorker&)> f) {
  return [code, f](Permit&, CheckWorld& w) { f(w.dir().workers.at(code)); };
}
Edit RemoveRole(std::string role) {
  return [role](Permit& p, CheckWorld&) {
    std::erase_if(p.people, [&](const Person& x) { return x.role == role; });
  };
}
// Gives the approver exactly one scope.
Edit ApproverScope(AuthorityScope s) {
  return [s](Permit&, CheckWorld& w) { w.dir().users.at("appr.zhou").scopes = {s}; };
}
AuthorityScope Scope(std::string level, std::string delegated_by = {}, std::string reference = {}) {
  AuthorityScope s;
  s.level = std::move(level);
  s.delegated_by = std::move(delegated_by);
  s.reference = std::move(reference);
  return s;
}
// The index of the signature of `role`.
std::size_t SigIndex(const Permit& p, std::string_view role) {
  for (std::size_t i = 0; i < p.signatures.size(); ++i) {
    if (p.signatures[i].role == role) return i;
  }
  return p.signatures.size();
}
Edit ApproverAt(std::optional<Point> pos) {
  return [pos](Permit& p, CheckWorld& w) {
    // Re-sign the approval with the new position (the position is not signed content).
    p.signatures[SigIndex(p, "approver")].position = pos;
    (void)w;
  };
}

const core::Timestamp kAt = CheckWorld::At();

std::vector<Case> Cases() {
  using T = PermitType;
  return {
      // required_people — TypeSpec::people
      {"complete_crew", T::kHotWork, Nothing(), Nothing(), "general.required_people", 0, "",
       Stage::kPlan},
      {"no_work_leader", T::kHotWork, RemoveRole("work_leader"), Nothing(),
       "general.required_people", 1, "people", Stage::kPlan},
      {"two_work_leaders", T::kConfinedSpace,
       [](Permit& p, CheckWorld&) {
         p.people.push_back({"work_leader", "W2", "lead.two", "刘八", {}});
       },
       Nothing(), "general.required_people", 1, "people", Stage::kPlan},
      {"lifting_without_commander", T::kLifting, RemoveRole("commander"), Nothing(),
       "general.required_people", 1, "people", Stage::kPlan},
      // worker_certificate — §4.9, via the registry
      {"certificate_valid", T::kHotWork, Nothing(), Nothing(), "general.worker_certificate", 0, "",
       Stage::kPlan},
      {"certificate_expired", T::kHotWork,
       OnWorker("W1", [](testing::FakeWorker& x) { x.valid_until = kAt - Duration::Days(1); }),
       Nothing(), "general.worker_certificate", 1, "people[0].worker_code",
       Stage::kPlan},  // the performer (the recipient role needs none)
      {"certificate_expires_mid_job", T::kHotWork,
       OnWorker("W1", [](testing::FakeWorker& x) { x.valid_until = kAt + Duration::Hours(4); }),
       Nothing(), "general.worker_certificate", 1, "people[0].worker_code", Stage::kPlan},
      {"certificate_wrong_category", T::kHotWork,
       OnWorker("W1",
                [](testing::FakeWorker& x) {
                  x.certificates = {{"temporary_power", "T-1"}};
                }),
       Nothing(), "general.worker_certificate", 1, "people[0].worker_code", Stage::kPlan},
      {"performer_without_worker_code", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.people[0].worker_code.clear(); }, Nothing(),
       "general.worker_certificate", 1, "people[0].worker_code", Stage::kPlan},
      {"unregistered_worker", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.people[0].worker_code = "W404"; }, Nothing(),
       "general.worker_certificate", 1, "people[0].worker_code", Stage::kPlan},
      {"electrician_leader_expired", T::kTemporaryPower,
       OnWorker("W3", [](testing::FakeWorker& x) { x.valid_until = kAt; }), Nothing(),
       "general.worker_certificate", 1, "people[2].worker_code", Stage::kPlan},
      {"confined_needs_no_certificate", T::kConfinedSpace,
       OnWorker("W1", [](testing::FakeWorker& x) { x.valid_until = kAt; }), Nothing(),
       "general.worker_certificate", 0, "", Stage::kPlan},
      // guardian_present — §4.10
      {"no_guardian", T::kHeight, RemoveRole("guardian"), Nothing(), "general.guardian_present", 1,
       "people", Stage::kPlan},
      // guardian_trained — §4.10
      {"guardian_is_worker_account", T::kHotWork,
       OnUser("g.li", [](UserFacts& u) { u.role = "worker"; }), Nothing(),
       "general.guardian_trained", 1, "people[1].username", Stage::kPlan},
      {"guardian_inactive", T::kHotWork, OnUser("g.li", [](UserFacts& u) { u.active = false; }),
       Nothing(), "general.guardian_trained", 1, "people[1].username", Stage::kPlan},
      {"guardian_team_leader", T::kHotWork,
       OnUser("g.li", [](UserFacts& u) { u.role = "team_leader"; }), Nothing(),
       "general.guardian_trained", 0, "", Stage::kPlan},
      {"guardian_unknown", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.people[1].username = "nobody"; }, Nothing(),
       "general.guardian_trained", 1, "people[1].username", Stage::kPlan},
      // guardian_not_performer — §4.10 f)
      {"guardian_also_performer_by_code", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.people[1].worker_code = "W1"; }, Nothing(),
       "general.guardian_not_performer", 1, "people[1]", Stage::kPlan},
      {"guardian_also_performer_by_user", T::kHotWork,
       [](Permit& p, CheckWorld&) {
         p.people.push_back({"performer", "", "g.li", "李四", {}});
       },
       Nothing(), "general.guardian_not_performer", 1, "people[1]", Stage::kPlan},
      // guardian_workload — limits.guardian_max_simultaneous (1)
      {"guardian_free", T::kHotWork, Nothing(), Nothing(), "general.guardian_workload", 0},
      {"guardian_busy", T::kHotWork, OnUser("g.li", [](UserFacts& u) { u.open_guarding = 1; }),
       Nothing(), "general.guardian_workload", 1, "people[1]"},
      // signature_chain — Appendix A
      {"chain_complete", T::kHotWork, Nothing(), Nothing(), "general.signature_chain", 0},
      {"chain_missing_safety_department", T::kHotWork, Nothing(),
       [](Permit& p, CheckWorld& w) { ASSERT_TRUE(w.SignAll(p, {"safety_department"}).ok()); },
       "general.signature_chain", 1, "signatures"},
      {"chain_out_of_order", T::kConfinedSpace, Nothing(),
       [](Permit& p, CheckWorld&) { std::swap(p.signatures[1], p.signatures[2]); },
       "general.signature_chain", 1, "signatures[2]"},
      {"chain_guardian_step_by_outsider", T::kConfinedSpace, Nothing(),
       [](Permit& p, CheckWorld& w) {
         w.EnsureUser("g.wu", "guardian");
         Permit copy = p;
         copy.signatures.clear();
         ASSERT_TRUE(
             testing::SignAs(copy, "guardian", "g.wu", w.Key("g.wu"), kAt - Duration::Minutes(29))
                 .ok());
         p.signatures[SigIndex(p, "guardian")] = copy.signatures[0];
       },
       "general.signature_chain", 1, "signatures[1].username"},
      {"chain_same_signer_twice", T::kConfinedSpace, Nothing(),
       [](Permit& p, CheckWorld& w) {
         w.dir().users.at("lead.wang").role = "team_leader";
         Permit copy = p;
         copy.signatures.clear();
         ASSERT_TRUE(testing::SignAs(copy, "applicant", "s.owning_unit", w.Key("s.owning_unit"),
                                     kAt - Duration::Minutes(40))
                         .ok());
         p.signatures[0] = copy.signatures[0];
       },
       "general.signature_chain", 1, "signatures[2].username"},
      {"chain_wrong_account_role", T::kConfinedSpace,
       OnUser("appr.zhou", [](UserFacts& u) { u.role = "team_leader"; }), Nothing(),
       "general.signature_chain", 1, "signatures[4].username"},
      {"shift_leader_missing_at_start", T::kHotWork, Nothing(),
       [](Permit& p, CheckWorld& w) { ASSERT_TRUE(w.SignAll(p, {"shift_leader_check"}).ok()); },
       "hot_work.shift_leader_check", 1, "signatures", Stage::kStart},
      {"shift_leader_not_due_at_approve", T::kHotWork, Nothing(),
       [](Permit& p, CheckWorld& w) { ASSERT_TRUE(w.SignAll(p, {"shift_leader_check"}).ok()); },
       "hot_work.shift_leader_check", 0, "", Stage::kApprove},
      // signature_valid — §4.18
      {"signatures_intact", T::kHotWork, Nothing(), Nothing(), "general.signature_content", 0},
      {"content_changed_after_signing", T::kHotWork, Nothing(),
       [](Permit& p, CheckWorld&) { p.title = "检修作业（扩大范围）"; },
       "general.signature_content", 7, "signatures[0].digest"},
      {"content_change_is_not_forgery", T::kHotWork, Nothing(),
       [](Permit& p, CheckWorld&) { p.title = "检修作业（扩大范围）"; },
       "general.signature_authentic", 0},
      {"forged_signature", T::kHotWork, Nothing(),
       [](Permit& p, CheckWorld& w) {
         // The approver's signature made with somebody else's key.
         Permit copy = p;
         copy.signatures.clear();
         ASSERT_TRUE(testing::SignAs(copy, "approver", "appr.zhou", w.Key("mallory"), kAt).ok());
         auto& sig = p.signatures[SigIndex(p, "approver")];
         sig.signature = copy.signatures[0].signature;
       },
       "general.signature_authentic", 1, "signatures[5].signature"},
      {"signature_bytes_flipped", T::kConfinedSpace, Nothing(),
       [](Permit& p, CheckWorld&) {
         std::string& s = p.signatures[0].signature;
         s[5] = s[5] == 'A' ? 'B' : 'A';
       },
       "general.signature_authentic", 1, "signatures[0].signature"},
      {"unknown_key", T::kConfinedSpace, Nothing(),
       [](Permit& p, CheckWorld&) { p.signatures[0].key_id = "lead.wang/k9"; },
       "general.signature_authentic", 1},
      // approver_authority — §4.11 b), App. B.1
      {"authority_sufficient", T::kHotWork, ApproverScope(Scope("safety_department")), Nothing(),
       "general.approver_authority", 0, "", Stage::kApprove, "grade1"},
      {"authority_too_low", T::kHotWork, ApproverScope(Scope("grassroots_unit")), Nothing(),
       "general.approver_authority", 1, "signatures[5].username", Stage::kApprove, "grade1"},
      {"authority_delegated_no_block", T::kHotWork,
       ApproverScope(Scope("grassroots_unit", "厂长 张总", "QG-2026-012")), Nothing(),
       "general.approver_authority", 0, "", Stage::kApprove, "grade1"},
      {"authority_delegated_warns", T::kHotWork,
       ApproverScope(Scope("grassroots_unit", "厂长 张总", "QG-2026-012")), Nothing(),
       "general.approver_delegated", 1, "signatures[5].username", Stage::kApprove, "grade1"},
      {"authority_expired", T::kHotWork,
       [](Permit&, CheckWorld& w) {
         AuthorityScope s = Scope("leader_in_charge");
         s.valid_until = core::ShanghaiDate(kAt).AddDays(-1);
         w.dir().users.at("appr.zhou").scopes = {s};
       },
       Nothing(), "general.approver_authority", 1, "", Stage::kApprove, "special"},
      {"authority_valid_today", T::kHotWork,
       [](Permit&, CheckWorld& w) {
         AuthorityScope s = Scope("leader_in_charge");
         s.valid_until = core::ShanghaiDate(kAt);
         w.dir().users.at("appr.zhou").scopes = {s};
       },
       Nothing(), "general.approver_authority", 0, "", Stage::kApprove, "special"},
      {"authority_other_site", T::kHotWork,
       [](Permit&, CheckWorld& w) {
         AuthorityScope s = Scope("leader_in_charge");
         s.sites = {"S2"};
         w.dir().users.at("appr.zhou").scopes = {s};
       },
       Nothing(), "general.approver_authority", 1},
      {"authority_other_type", T::kHotWork,
       [](Permit&, CheckWorld& w) {
         AuthorityScope s = Scope("leader_in_charge");
         s.types = {PermitType::kLifting};
         w.dir().users.at("appr.zhou").scopes = {s};
       },
       Nothing(), "general.approver_authority", 1},
      {"authority_none", T::kHotWork,
       [](Permit&, CheckWorld& w) { w.dir().users.at("appr.zhou").scopes.clear(); }, Nothing(),
       "general.approver_authority", 1},
      // approver_workload — limits.approver_max_active (20)
      {"approver_19_open", T::kHotWork,
       OnUser("appr.zhou", [](UserFacts& u) { u.open_approved = 19; }), Nothing(),
       "general.approver_workload", 0},
      {"approver_20_open", T::kHotWork,
       OnUser("appr.zhou", [](UserFacts& u) { u.open_approved = 20; }), Nothing(),
       "general.approver_workload", 1, "signatures[5].username"},
      {"approver_workload_counts_guarding", T::kHotWork,
       OnUser("appr.zhou", [](UserFacts& u) {
         u.open_approved = 15;
         u.open_guarding = 5;
       }),
       Nothing(), "general.approver_workload", 1, "signatures[5].username"},
      // approver_track_record — limits
      {"track_record_clean", T::kHotWork, Nothing(), Nothing(), "general.approver_track_record", 0},
      {"incident_rate_5pct", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.approvals = 40;
                u.incidents = 2;
              }),
       Nothing(), "general.approver_track_record", 0},
      {"incident_rate_6pct", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.approvals = 50;
                u.incidents = 3;
              }),
       Nothing(), "general.approver_track_record", 1, "signatures[5].username"},
      {"too_many_suspensions", T::kHotWork,
       OnUser("appr.zhou", [](UserFacts& u) { u.suspensions = 11; }), Nothing(),
       "general.approver_track_record", 1},
      {"novice_approves_special", T::kHotWork,
       OnUser("appr.zhou", [](UserFacts& u) { u.approvals = 5; }), Nothing(),
       "general.approver_track_record", 1, "", Stage::kApprove, "special"},
      {"novice_approves_grade2", T::kHotWork,
       OnUser("appr.zhou", [](UserFacts& u) { u.approvals = 5; }), Nothing(),
       "general.approver_track_record", 0},
      // approver_on_site — §4.11 a)
      {"approved_on_site", T::kHotWork, Nothing(), Nothing(), "general.approver_on_site", 0},
      {"approved_on_fence_edge", T::kHotWork, Nothing(), ApproverAt(Point{20, 5}),
       "general.approver_on_site", 0},
      {"approved_off_site", T::kHotWork, Nothing(), ApproverAt(Point{200, 5}),
       "general.approver_on_site", 1, "signatures[5].position"},
      {"position_unknown_warns", T::kHotWork, Nothing(), ApproverAt(std::nullopt),
       "general.approver_on_site_unverified", 1, "signatures[5].position"},
      {"position_unknown_no_block", T::kHotWork, Nothing(), ApproverAt(std::nullopt),
       "general.approver_on_site", 0},
      {"directory_position_recent_off_site", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.position = Point{500, 500};
                u.position_time = kAt - Duration::Minutes(20);
              }),
       ApproverAt(std::nullopt), "general.approver_on_site", 1},
      // The approval is signed at At() - 25 min; positions within 10 min of it count.
      {"directory_position_recent_on_site", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.position = Point{3, 3};
                u.position_time = kAt - Duration::Minutes(30);
              }),
       ApproverAt(std::nullopt), "general.approver_on_site_unverified", 0},
      {"directory_position_stale", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.position = Point{500, 500};
                u.position_time = kAt - Duration::Hours(2);
              }),
       ApproverAt(std::nullopt), "general.approver_on_site_unverified", 1},
      // The approver's tag (people on site) is checked too: the device's claim alone
      // cannot place an approver who is elsewhere at the work.
      {"tag_position_off_site_blocks_despite_signature", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.tracked_position = Point{500, 500};
                u.tracked_time = kAt - Duration::Minutes(24);
              }),
       ApproverAt(Point{3, 3}), "general.approver_on_site", 1, "signatures[5].position"},
      {"tag_position_on_site_verifies", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.tracked_position = Point{3, 3};
                u.tracked_time = kAt - Duration::Minutes(26);
              }),
       ApproverAt(std::nullopt), "general.approver_on_site_unverified", 0},
      {"tag_position_on_site_no_block", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.tracked_position = Point{3, 3};
                u.tracked_time = kAt - Duration::Minutes(26);
              }),
       ApproverAt(std::nullopt), "general.approver_on_site", 0},
      {"tag_position_stale_ignored", T::kHotWork,
       OnUser("appr.zhou",
              [](UserFacts& u) {
                u.tracked_position = Point{500, 500};
                u.tracked_time = kAt - Duration::Hours(2);
              }),
       ApproverAt(Point{3, 3}), "general.approver_on_site", 0},
      {"no_fence_within_radius", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.location.fence.clear(); }, ApproverAt(Point{30, 40}),
       "general.approver_on_site", 0},
      {"no_fence_beyond_radius", T::kHotWork,
       [](Permit& p, CheckWorld&) { p.location.fence.clear(); }, ApproverAt(Point{30, 41}),
       "general.approver_on_site", 1},
  };
}

class PeopleRuleTest : public ::testing::TestWithParam<Case> {};

TEST_P(PeopleRuleTest, Evaluates) {
  const Case& c = GetParam();
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok()) << w.load_status().ToString();
  ASSERT_NE(w.book().FindRule(c.rule), nullptr) << c.rule;
  Permit p = w.Make(c.type);
  if (!c.grade.empty()) p.grade = c.grade;
  if (p.grade == "special" && p.hot_work) {
    p.hot_work->written_plan_ref = "vault:plan";
    p.hot_work->video_cameras = {"CAM-EX-1"};
    p.hot_work->continuous_monitor = "MON-1";
  }
  c.edit(p, w);
  ASSERT_TRUE(w.SignAll(p).ok());
  c.after_sign(p, w);
  const Decision d = w.Run(p, c.stage);
  std::vector<Violation> hits;
  for (const auto& v : d.violations) {
    if (v.rule == c.rule) hits.push_back(v);
  }
  ASSERT_EQ(static_cast<int>(hits.size()), c.expected)
      << c.rule << " first: " << (hits.empty() ? std::string("-") : hits[0].message);
  if (!hits.empty()) {
    const Rule* r = w.book().FindRule(c.rule);
    EXPECT_EQ(hits[0].severity, r->severity);
    if (!c.field.empty()) {
      EXPECT_EQ(hits[0].field, c.field);
    }
    EXPECT_EQ(hits[0].message.find('{'), std::string::npos) << hits[0].message;
    EXPECT_EQ(hits[0].message_zh.find('{'), std::string::npos) << hits[0].message_zh;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PeopleRuleTest, ::testing::ValuesIn(Cases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(PeopleRules, ExpiredCertificateNamesRegistryVerdict) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  w.dir().workers.at("W1").valid_until = kAt - Duration::Days(1);
  Permit p = w.Make(PermitType::kHotWork);
  const Decision d = w.Run(p, Stage::kPlan);
  auto it = std::find_if(d.violations.begin(), d.violations.end(),
                         [](const Violation& v) { return v.rule == "general.worker_certificate"; });
  ASSERT_NE(it, d.violations.end());
  EXPECT_EQ(it->severity, Severity::kBlock);
  EXPECT_NE(it->message.find("expired"), std::string::npos) << it->message;
  EXPECT_NE(it->message.find("CERT-W1"), std::string::npos) << it->message;
  EXPECT_NE(it->message.find("order30.validity"), std::string::npos) << it->message;
  EXPECT_NE(it->message.find("第十九条"), std::string::npos) << it->message;
  EXPECT_TRUE(d.blocked());
}

TEST(PeopleRules, RequiredPeopleNamesTheRequirementClause) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  Permit p = w.Make(PermitType::kHotWork);
  std::erase_if(p.people, [](const Person& x) { return x.role == "guardian"; });
  const Decision d = w.Run(p, Stage::kPlan);
  std::string clause;
  for (const auto& v : d.violations) {
    if (v.rule == "general.required_people") clause = v.clause;
  }
  EXPECT_NE(clause.find("§4.10"), std::string::npos) << clause;
}

TEST(PeopleRules, DirectoryRulesSkippedWithoutDirectory) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  Permit p = w.Make(PermitType::kHotWork);
  ASSERT_TRUE(w.SignAll(p).ok());
  const Decision d = w.Run(p, Stage::kApprove, /*with_directory=*/false);
  for (const char* id :
       {"general.worker_certificate", "general.guardian_trained", "general.guardian_workload",
        "general.signature_authentic", "general.approver_authority"}) {
    EXPECT_NE(std::find(d.skipped.begin(), d.skipped.end(), id), d.skipped.end()) << id;
  }
  // The digest check needs no directory.
  p.title = "changed";
  const Decision changed = w.Run(p, Stage::kApprove, false);
  EXPECT_TRUE(
      std::any_of(changed.violations.begin(), changed.violations.end(),
                  [](const Violation& v) { return v.rule == "general.signature_content"; }));
}

TEST(PeopleRules, TamperedContentIsCaughtInADryRun) {
  CheckWorld w;
  ASSERT_TRUE(w.load_status().ok());
  Permit p = w.Make(PermitType::kConfinedSpace);
  ASSERT_TRUE(w.SignAll(p, {"approver"}).ok());
  p.confined_space->ventilation = "natural";  // edited after the first signatures
  CheckOptions o = w.Options(Stage::kPlan);
  o.stage.reset();  // dry run: signature validity is eager
  const Decision d = Check(w.book(), p, o);
  EXPECT_TRUE(std::any_of(d.violations.begin(), d.violations.end(), [](const Violation& v) {
    return v.rule == "general.signature_content";
  }));
}

}  // namespace
}  // namespace wg::permit

#include "wg/registry/verifier.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace wg::registry {
namespace {

using testing::AtNoon;
using testing::D;
using testing::DefaultBook;

CertFacts Welding(const char* issue, const char* expiry) {
  CertFacts c;
  c.id = 7;
  c.kind = domain::CertKind::kSpecialOperation;
  c.category = "welding";
  c.item = "fusion_welding";
  c.number = "T110101198001011234";
  c.issue_date = D(issue);
  c.expiry_date = D(expiry);
  return c;
}

Verdict StandingOn(const CertFacts& c, const char* day) {
  return EvaluateCertificate(DefaultBook(), c, D(day)).verdict;
}

Verification VerifyHotWork(std::span<const CertFacts> certs, core::Timestamp at,
                           std::optional<bool> id = std::nullopt,
                           domain::WorkerStatus st = domain::WorkerStatus::kActive) {
  const OperationRule* op = DefaultBook().FindOperation("hot_work");
  EXPECT_NE(op, nullptr);
  return Verify(DefaultBook(), WorkerFacts{42, st}, certs, *op, at, id);
}

// Order 30: issued 2020-03-15, review due 2023-03-15 (window opens 2023-01-14),
// expires 2026-03-15 (renewal window opens 2026-01-14).
TEST(VerifierTest, ReviewWindowEdges) {
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  EXPECT_EQ(StandingOn(c, "2023-01-13"), Verdict::kValid);
  EXPECT_EQ(StandingOn(c, "2023-01-14"), Verdict::kReviewDue);
  EXPECT_EQ(StandingOn(c, "2023-03-14"), Verdict::kReviewDue);
  EXPECT_EQ(StandingOn(c, "2023-03-15"), Verdict::kReviewOverdue);
  auto s = EvaluateCertificate(DefaultBook(), c, D("2023-03-15"));
  EXPECT_EQ(s.rule_set, "mem_order_30");
  ASSERT_FALSE(s.reasons.empty());
  EXPECT_EQ(s.reasons.back().rule, "mem_order_30.missed_review");
  EXPECT_NE(s.reasons.back().clause.find("第二十六条"), std::string::npos);
}

TEST(VerifierTest, ReviewCountsOnlyInsideTheWindow) {
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  c.last_review_date = D("2023-01-14");  // first day of the window
  EXPECT_EQ(StandingOn(c, "2023-03-15"), Verdict::kValid);
  EXPECT_EQ(StandingOn(c, "2025-06-01"), Verdict::kValid);
  c.last_review_date = D("2023-01-13");  // one day early: does not count
  EXPECT_EQ(StandingOn(c, "2023-03-15"), Verdict::kReviewOverdue);
}

TEST(VerifierTest, ExpiryBoundaryAndRenewalWindow) {
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  c.last_review_date = D("2023-02-01");
  EXPECT_EQ(StandingOn(c, "2026-01-13"), Verdict::kValid);
  EXPECT_EQ(StandingOn(c, "2026-01-14"), Verdict::kReviewDue);  // 延期复审 window
  EXPECT_EQ(StandingOn(c, "2026-03-14"), Verdict::kReviewDue);  // the day before expiry
  EXPECT_EQ(StandingOn(c, "2026-03-15"), Verdict::kExpired);    // expiry day
  EXPECT_EQ(StandingOn(c, "2026-03-16"), Verdict::kExpired);
}

TEST(VerifierTest, ExpiryUsesBeijingCalendarDay) {
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  c.last_review_date = D("2023-02-01");
  std::vector<CertFacts> certs{c};
  auto just_before = *core::ParseTimestamp("2026-03-14T15:59:59Z");  // 23:59:59 CST
  auto midnight = *core::ParseTimestamp("2026-03-14T16:00:00Z");     // 00:00 CST
  EXPECT_TRUE(VerifyHotWork(certs, just_before).may_work);
  auto v = VerifyHotWork(certs, midnight);
  EXPECT_FALSE(v.may_work);
  EXPECT_EQ(v.verdict, Verdict::kExpired);
}

TEST(VerifierTest, ExtensionEligibilityAtExactlyTenYears) {
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  c.practice_since = D("2013-03-15");  // 10 years on 2023-03-15
  c.review_extension_granted = true;
  auto on_due = EvaluateCertificate(DefaultBook(), c, D("2023-03-15"));
  EXPECT_TRUE(on_due.extension_eligible);
  EXPECT_EQ(on_due.verdict, Verdict::kValid);  // 6-year interval: no review before expiry
  auto day_before = EvaluateCertificate(DefaultBook(), c, D("2023-03-14"));
  EXPECT_FALSE(day_before.extension_eligible);  // 9 years 364 days
  EXPECT_EQ(day_before.verdict, Verdict::kReviewDue);
  // Granted but with a violation: regular interval applies, with a reason.
  c.violations = 1;
  auto with_violation = EvaluateCertificate(DefaultBook(), c, D("2023-03-15"));
  EXPECT_FALSE(with_violation.extension_eligible);
  EXPECT_EQ(with_violation.verdict, Verdict::kReviewOverdue);
  bool has_extension_reason = false;
  for (const auto& r : with_violation.reasons) has_extension_reason |= r.rule == "mem_order_30.extension";
  EXPECT_TRUE(has_extension_reason);
}

TEST(VerifierTest, NotGrantedExtensionStillNeedsReview) {
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  c.practice_since = D("2000-01-01");
  auto s = EvaluateCertificate(DefaultBook(), c, D("2023-03-15"));
  EXPECT_TRUE(s.extension_eligible);  // eligible, but the authority has not agreed
  EXPECT_EQ(s.verdict, Verdict::kReviewOverdue);
}

TEST(VerifierTest, RecordedExpiryBeyondValidityIsClamped) {
  CertFacts c = Welding("2020-03-15", "2028-03-15");
  c.last_review_date = D("2023-02-01");
  auto s = EvaluateCertificate(DefaultBook(), c, D("2026-03-15"));
  EXPECT_EQ(s.verdict, Verdict::kExpired);
  EXPECT_EQ(s.expiry_date, D("2026-03-15"));
}

TEST(VerifierTest, RevokedCancelledAndFutureIssue) {
  CertFacts c = Welding("2024-01-10", "2030-01-10");
  c.status = domain::CertStatus::kRevoked;
  EXPECT_EQ(StandingOn(c, "2024-06-01"), Verdict::kRevoked);
  c.status = domain::CertStatus::kCancelled;
  EXPECT_EQ(StandingOn(c, "2024-06-01"), Verdict::kRevoked);
  c.status = domain::CertStatus::kActive;
  EXPECT_EQ(StandingOn(c, "2024-01-09"), Verdict::kNotYetValid);
  EXPECT_EQ(StandingOn(c, "2024-01-10"), Verdict::kValid);
}

TEST(VerifierTest, Order19ReplacesOrder30ByDate) {
  CertFacts c = Welding("2024-01-10", "2030-01-10");
  EXPECT_EQ(EvaluateCertificate(DefaultBook(), c, D("2026-05-31")).rule_set, "mem_order_30");
  EXPECT_EQ(EvaluateCertificate(DefaultBook(), c, D("2026-06-01")).rule_set, "mem_order_19");
}

TEST(VerifierTest, SpecialEquipmentFourYearsAndApplicationDeadline) {
  CertFacts c;
  c.id = 9;
  c.kind = domain::CertKind::kSpecialEquipment;
  c.category = "lifting_machinery";
  c.item = "Q2";
  c.number = "TS-Q2-001";
  c.issue_date = D("2022-05-01");
  c.expiry_date = D("2026-05-01");
  // Reminder window: 90 days before expiry; TSG Z6001: apply at least a month before.
  EXPECT_EQ(StandingOn(c, "2026-01-30"), Verdict::kValid);
  EXPECT_EQ(StandingOn(c, "2026-01-31"), Verdict::kReviewDue);
  auto early = EvaluateCertificate(DefaultBook(), c, D("2026-04-01"));
  EXPECT_EQ(early.verdict, Verdict::kReviewDue);
  EXPECT_NE(early.reasons.back().message.find("apply by 2026-04-01"), std::string::npos)
      << early.reasons.back().message;
  auto late = EvaluateCertificate(DefaultBook(), c, D("2026-04-02"));
  EXPECT_EQ(late.verdict, Verdict::kReviewDue);  // may still work until expiry
  EXPECT_NE(late.reasons.back().message.find("has passed"), std::string::npos);
  EXPECT_EQ(StandingOn(c, "2026-04-30"), Verdict::kReviewDue);
  EXPECT_EQ(StandingOn(c, "2026-05-01"), Verdict::kExpired);
  auto s = EvaluateCertificate(DefaultBook(), c, D("2024-01-01"));
  EXPECT_EQ(s.rule_set, "tsg_z6001_2019");
  EXPECT_EQ(s.review_due, D("2026-05-01"));
}

TEST(VerifierTest, WorkerLevelVerdicts) {
  std::vector<CertFacts> certs{Welding("2024-01-10", "2030-01-10")};
  auto at = AtNoon("2024-06-01");
  EXPECT_EQ(VerifyHotWork(certs, at).verdict, Verdict::kValid);
  EXPECT_EQ(VerifyHotWork(certs, at, false).verdict, Verdict::kIdMismatch);
  EXPECT_EQ(VerifyHotWork(certs, at, true).verdict, Verdict::kValid);
  EXPECT_EQ(VerifyHotWork(certs, at, std::nullopt, domain::WorkerStatus::kSuspended).verdict,
            Verdict::kWorkerInactive);
  const OperationRule* op = DefaultBook().FindOperation("hot_work");
  auto unknown = Verify(DefaultBook(), std::nullopt, certs, *op, at, std::nullopt);
  EXPECT_EQ(unknown.verdict, Verdict::kUnknownWorker);
  EXPECT_FALSE(unknown.may_work);
}

TEST(VerifierTest, WrongCategoryNamesWhatIsRequiredAndHeld) {
  CertFacts e = Welding("2024-01-10", "2030-01-10");
  e.category = "electrical";
  e.item = "low_voltage";
  std::vector<CertFacts> certs{e};
  auto v = VerifyHotWork(certs, AtNoon("2024-06-01"));
  EXPECT_EQ(v.verdict, Verdict::kWrongCategory);
  ASSERT_FALSE(v.reasons.empty());
  EXPECT_NE(v.reasons[0].message.find("welding"), std::string::npos);
  EXPECT_NE(v.reasons[0].message.find("electrical/low_voltage"), std::string::npos);
  // The same electrician may do temporary power work.
  const OperationRule* power = DefaultBook().FindOperation("temporary_power");
  auto p = Verify(DefaultBook(), WorkerFacts{42, domain::WorkerStatus::kActive}, certs, *power,
                  AtNoon("2024-06-01"), std::nullopt);
  EXPECT_TRUE(p.may_work);
  // A crane driver needs Q2, not Q1.
  CertFacts q1 = Welding("2024-01-10", "2028-01-10");
  q1.kind = domain::CertKind::kSpecialEquipment;
  q1.category = "lifting_machinery";
  q1.item = "Q1";
  std::vector<CertFacts> signaller{q1};
  const OperationRule* driving = DefaultBook().FindOperation("crane_driving");
  EXPECT_EQ(Verify(DefaultBook(), WorkerFacts{42, domain::WorkerStatus::kActive}, signaller,
                   *driving, AtNoon("2024-06-01"), std::nullopt)
                .verdict,
            Verdict::kWrongCategory);
}

TEST(VerifierTest, BestOfSeveralCertificatesWins) {
  CertFacts old = Welding("2015-01-10", "2021-01-10");
  CertFacts fresh = Welding("2024-01-10", "2030-01-10");
  fresh.id = 8;
  fresh.number = "NEW-1";
  std::vector<CertFacts> certs{old, fresh};
  auto v = VerifyHotWork(certs, AtNoon("2024-06-01"));
  EXPECT_EQ(v.verdict, Verdict::kValid);
  ASSERT_TRUE(v.certificate_id.has_value());
  EXPECT_EQ(*v.certificate_id, 8);
  EXPECT_EQ(v.certificate_number, "NEW-1");
}

TEST(VerifierTest, OperationWithoutCertificateRequirement) {
  const OperationRule* op = DefaultBook().FindOperation("confined_space");
  ASSERT_NE(op, nullptr);
  auto v = Verify(DefaultBook(), WorkerFacts{42, domain::WorkerStatus::kActive}, {}, *op,
                  AtNoon("2024-06-01"), std::nullopt);
  EXPECT_TRUE(v.may_work);
  EXPECT_NE(v.reasons[0].clause.find("GB 30871-2022"), std::string::npos);
}

TEST(VerifierTest, ExpiringSoonWhenReminderWindowExceedsReviewWindow) {
  auto catalog = core::Json::parse(R"({"format":"workguard.catalog/1","version":"t","source":"t",
    "categories":[{"kind":"special_operation","code":"welding","name_zh":"焊","name_en":"w",
    "items":[{"code":"fusion_welding","name_zh":"熔","name_en":"f"}]}]})");
  auto rules = core::Json::parse(R"({"format":"workguard.certificate-rules/1","version":"t",
    "expiring_soon_days":30,"rule_sets":[{"id":"r","kind":"special_operation","name_zh":"r",
    "effective_from":"2000-01-01","validity_years":6,"validity_clause":"v","review_interval_years":0,
    "review_clause":"r","extended_review_interval_years":0,"extension_min_practice_years":0,
    "extension_max_violations":0,"review_window_days":10,"review_window_clause":"w",
    "missed_review_clause":"m"}],"revocation_reasons":[]})");
  auto ops = core::Json::parse(R"({"format":"workguard.operations/1","version":"t","operations":[
    {"code":"hot_work","name_zh":"动火","name_en":"h","clause":"c","any_of":[{"kind":"special_operation","category":"welding"}]}]})");
  auto book = Rulebook::FromJson(catalog, rules, ops);
  ASSERT_TRUE(book.has_value()) << book.error().ToString();
  CertFacts c = Welding("2020-03-15", "2026-03-15");
  EXPECT_EQ(EvaluateCertificate(*book, c, D("2026-02-12")).verdict, Verdict::kValid);
  EXPECT_EQ(EvaluateCertificate(*book, c, D("2026-02-13")).verdict, Verdict::kExpiringSoon);
  EXPECT_EQ(EvaluateCertificate(*book, c, D("2026-03-05")).verdict, Verdict::kReviewDue);
}

TEST(VerifierTest, JsonNamesVerdictAndRules) {
  std::vector<CertFacts> certs{Welding("2024-01-10", "2030-01-10")};
  auto j = ToJson(VerifyHotWork(certs, AtNoon("2024-06-01")));
  EXPECT_EQ(j["verdict"], "valid");
  EXPECT_EQ(j["may_work"], true);
  EXPECT_EQ(j["certificate"]["number"], "T110101198001011234");
  EXPECT_EQ(j["certificate"]["review_due"], "2027-01-10");
  EXPECT_FALSE(j["reasons"].empty());
  EXPECT_FALSE(j["reasons"][0]["clause"].get<std::string>().empty());
}

}  // namespace
}  // namespace wg::registry

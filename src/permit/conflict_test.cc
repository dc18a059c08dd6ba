// OpenPermitIndex (grid, windows, geometry, counters) and the conflict matrix of
// data/rules/permits/conflicts.json, one conflicting and one clear case per entry.

#include "wg/permit/conflict.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "wg/permit/check.h"
#include "wg/permit/rulebook.h"

namespace wg::permit {
namespace {

using core::Duration;
using core::Timestamp;

const Timestamp kT0 = Timestamp::FromSeconds(1'800'000'000);

OpenPermit Make(std::int64_t id, PermitType type, double x, double y) {
  OpenPermit p;
  p.id = id;
  p.number = "P-" + std::to_string(id);
  p.org = "acme";
  p.site = "plant1";
  p.type = type;
  p.state = State::kActive;
  p.zone = "unit1";
  p.area_class = "general";
  p.point = {x, y};
  p.start = kT0;
  p.end = kT0 + Duration::Hours(8);
  return p;
}

std::vector<Point> Square(double x0, double y0, double side) {
  return {{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}};
}

std::vector<std::int64_t> Ids(const std::vector<const OpenPermit*>& v) {
  std::vector<std::int64_t> ids;
  for (const OpenPermit* p : v) ids.push_back(p->id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// --- OpenPermit::From ------------------------------------------------------------------

TEST(OpenPermitFrom, CopiesWhatTheMatrixNeeds) {
  Permit p;
  p.id = 7;
  p.number = "DH-20261129-0007";
  p.org = "acme";
  p.site = "plant1";
  p.type = PermitType::kHotWork;
  p.grade = "grade1";
  p.state = State::kApproved;
  p.location.zone = "unit3";
  p.location.area_class = "fire_explosion_hazard";
  p.location.point = {12, 34};
  p.location.elevation_m = 4.5;
  p.location.fence = Square(10, 30, 5);
  p.planned_start = kT0;
  p.planned_end = kT0 + Duration::Hours(8);
  p.activities = {"painting", "hot_work"};
  p.hot_work = HotWorkSection{};
  p.hot_work->method = "welding";
  p.people.push_back({"guardian", "W1", "g.li", "李", {}});
  p.people.push_back({"guardian", "W2", "", "王", {}});  // worker only: no username
  p.people.push_back({"performer", "W3", "p.zhang", "张", {}});
  Signature s;
  s.role = "approver";
  s.username = "a.chen";
  p.signatures.push_back(s);
  s.role = "applicant";
  s.username = "x.wu";
  p.signatures.push_back(s);

  const OpenPermit o = OpenPermit::From(p);
  EXPECT_EQ(o.id, 7);
  EXPECT_EQ(o.number, "DH-20261129-0007");
  EXPECT_EQ(o.org, "acme");
  EXPECT_EQ(o.site, "plant1");
  EXPECT_EQ(o.type, PermitType::kHotWork);
  EXPECT_EQ(o.grade, "grade1");
  EXPECT_EQ(o.state, State::kApproved);
  EXPECT_EQ(o.zone, "unit3");
  EXPECT_EQ(o.area_class, "fire_explosion_hazard");
  EXPECT_EQ(o.point.x, 12);
  EXPECT_EQ(o.elevation_m, 4.5);
  EXPECT_EQ(o.fence.size(), 4u);
  EXPECT_EQ(o.start, kT0);
  EXPECT_EQ(o.end, kT0 + Duration::Hours(8));
  EXPECT_EQ(o.activities, (std::vector<std::string>{"hot_work", "painting", "welding"}));
  EXPECT_EQ(o.approvers, (std::vector<std::string>{"a.chen"}));
  EXPECT_EQ(o.guardians, (std::vector<std::string>{"g.li"}));
  EXPECT_TRUE(o.pipeline.empty());
  EXPECT_TRUE(o.space.empty());
}

TEST(OpenPermitFrom, TypeSections) {
  Permit cs;
  cs.type = PermitType::kConfinedSpace;
  cs.confined_space = ConfinedSpaceSection{};
  cs.confined_space->space_name = "V-101";
  EXPECT_EQ(OpenPermit::From(cs).space, "V-101");
  EXPECT_EQ(OpenPermit::From(cs).activities, (std::vector<std::string>{"confined_entry"}));

  Permit bp;
  bp.type = PermitType::kBlindPlate;
  bp.blind_plate = BlindPlateSection{};
  bp.blind_plate->pipeline = "P-2001";
  EXPECT_EQ(OpenPermit::From(bp).pipeline, "P-2001");
  EXPECT_TRUE(OpenPermit::From(bp).activities.empty());

  Permit h;
  h.type = PermitType::kHeight;
  h.height = HeightSection{};
  h.height->protective_layer = true;
  EXPECT_TRUE(OpenPermit::From(h).protective_layer);

  Permit hw;
  hw.type = PermitType::kHotWork;
  hw.hot_work = HotWorkSection{};
  hw.hot_work->method = "other";
  EXPECT_EQ(OpenPermit::From(hw).activities, (std::vector<std::string>{"hot_work"}));
}

// --- index maintenance ---------------------------------------------------------------------

TEST(OpenPermitIndex, InsertReplaceRemove) {
  OpenPermitIndex index;
  EXPECT_EQ(index.size(), 0u);
  OpenPermit p = Make(1, PermitType::kHotWork, 0, 0);
  index.Upsert(p);
  EXPECT_EQ(index.size(), 1u);
  ASSERT_NE(index.Find("acme", 1), nullptr);
  EXPECT_EQ(index.FindByNumber("acme", "P-1")->id, 1);
  EXPECT_EQ(index.Find("other", 1), nullptr);
  EXPECT_EQ(index.FindByNumber("other", "P-1"), nullptr);

  // Replace: new number and place; the old number and place are gone.
  p.number = "P-1b";
  p.point = {500, 500};
  index.Upsert(p);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.FindByNumber("acme", "P-1"), nullptr);
  EXPECT_EQ(index.FindByNumber("acme", "P-1b")->id, 1);
  const OpenPermit probe = Make(99, PermitType::kHotWork, 0, 0);
  EXPECT_TRUE(index.Near("acme", "plant1", probe, 10).empty());
  EXPECT_EQ(Ids(index.Near("acme", "plant1", Make(99, PermitType::kHotWork, 505, 500), 10)),
            (std::vector<std::int64_t>{1}));

  index.Remove("acme", 1);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find("acme", 1), nullptr);
  EXPECT_EQ(index.FindByNumber("acme", "P-1b"), nullptr);
  index.Remove("acme", 1);  // unknown: no-op
  index.Remove("nobody", 5);
  EXPECT_EQ(index.size(), 0u);
}

TEST(OpenPermitIndex, StateNoLongerOpenRemoves) {
  OpenPermitIndex index;
  for (State s : {State::kApproved, State::kActive, State::kSuspended}) {
    OpenPermit p = Make(1, PermitType::kHotWork, 0, 0);
    p.state = s;
    index.Upsert(p);
    EXPECT_EQ(index.size(), 1u) << StateCode(s);
  }
  for (State s : {State::kCompleted, State::kCancelled, State::kExpired, State::kDraft,
                  State::kPendingGasTest, State::kPendingSignatures}) {
    OpenPermit p = Make(1, PermitType::kHotWork, 0, 0);
    index.Upsert(p);
    p.state = s;
    index.Upsert(p);
    EXPECT_EQ(index.size(), 0u) << StateCode(s);
    EXPECT_EQ(index.Find("acme", 1), nullptr);
    EXPECT_TRUE(index.Near("acme", "plant1", Make(2, PermitType::kHotWork, 0, 0), 100).empty());
  }
}

TEST(OpenPermitIndex, SameIdInTwoOrgsAreTwoPermits) {
  OpenPermitIndex index;
  OpenPermit a = Make(1, PermitType::kHotWork, 0, 0);
  OpenPermit b = a;
  b.org = "beta";
  index.Upsert(a);
  index.Upsert(b);
  EXPECT_EQ(index.size(), 2u);
  index.Remove("beta", 1);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_NE(index.Find("acme", 1), nullptr);
}

TEST(OpenPermitIndex, MovedIndexKeepsItsPermits) {
  OpenPermitIndex index;
  index.Upsert(Make(1, PermitType::kHotWork, 0, 0));
  OpenPermitIndex moved(std::move(index));
  EXPECT_EQ(moved.size(), 1u);
  OpenPermitIndex assigned(10.0);
  assigned = std::move(moved);
  EXPECT_NE(assigned.Find("acme", 1), nullptr);
}

// --- Near: windows, distances, fences, scope ----------------------------------------------

TEST(OpenPermitIndexNear, WindowsMustOverlap) {
  OpenPermitIndex index;
  OpenPermit other = Make(1, PermitType::kHotWork, 0, 0);
  index.Upsert(other);
  OpenPermit c = Make(2, PermitType::kHotWork, 0, 0);
  // [start, end): touching windows do not overlap.
  c.start = other.end;
  c.end = other.end + Duration::Hours(1);
  EXPECT_TRUE(index.Near("acme", "plant1", c, 5).empty());
  c.start = other.end - Duration{1};
  EXPECT_EQ(index.Near("acme", "plant1", c, 5).size(), 1u);
  c.end = other.start;
  c.start = other.start - Duration::Hours(1);
  EXPECT_TRUE(index.Near("acme", "plant1", c, 5).empty());
  c.end = other.start + Duration{1};
  EXPECT_EQ(index.Near("acme", "plant1", c, 5).size(), 1u);
}

TEST(OpenPermitIndexNear, DistanceBoundaryIsInclusive) {
  OpenPermitIndex index;
  index.Upsert(Make(1, PermitType::kHotWork, 30, 0));
  index.Upsert(Make(2, PermitType::kHotWork, 0, 40));
  const OpenPermit c = Make(9, PermitType::kHotWork, 0, 0);
  EXPECT_EQ(Ids(index.Near("acme", "plant1", c, 30)), (std::vector<std::int64_t>{1}));
  EXPECT_TRUE(index.Near("acme", "plant1", c, 29.999).empty());
  EXPECT_EQ(Ids(index.Near("acme", "plant1", c, 40)), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(Ids(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 18, 24), 30)),
            (std::vector<std::int64_t>{1, 2}));  // 3-4-5: exactly 30 to both
}

TEST(OpenPermitIndexNear, FencesAndPoints) {
  OpenPermitIndex index;
  OpenPermit fenced = Make(1, PermitType::kHotWork, 5, 5);
  fenced.fence = Square(0, 0, 10);  // 0..10 x 0..10
  index.Upsert(fenced);

  // A point outside: distance to the nearest edge, not to the work point.
  EXPECT_EQ(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 15, 5), 5).size(), 1u);
  EXPECT_TRUE(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 15, 5), 4.99).empty());
  // Diagonal from the corner: hypot(3, 4) = 5.
  EXPECT_EQ(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 13, 14), 5).size(), 1u);
  EXPECT_TRUE(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 13, 14), 4.9).empty());
  // A point inside the fence is at distance 0.
  EXPECT_EQ(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 7, 3), 0).size(), 1u);

  // Fence against fence: edges 6 m apart.
  OpenPermit c = Make(9, PermitType::kHotWork, 20, 5);
  c.fence = Square(16, 0, 10);
  EXPECT_EQ(index.Near("acme", "plant1", c, 6).size(), 1u);
  EXPECT_TRUE(index.Near("acme", "plant1", c, 5.9).empty());
  // Crossing fences (no vertex of either inside the other): distance 0.
  c.fence = {{-5, 4}, {15, 4}, {15, 6}, {-5, 6}};
  EXPECT_EQ(index.Near("acme", "plant1", c, 0).size(), 1u);
  // A fence that swallows the other.
  c.fence = Square(-100, -100, 300);
  EXPECT_EQ(index.Near("acme", "plant1", c, 0).size(), 1u);
}

TEST(OpenPermitIndexNear, OtherOrgOrSiteNeverMatched) {
  OpenPermitIndex index;
  OpenPermit a = Make(1, PermitType::kHotWork, 0, 0);
  OpenPermit b = Make(2, PermitType::kHotWork, 0, 0);
  b.site = "plant2";
  OpenPermit c = Make(3, PermitType::kHotWork, 0, 0);
  c.org = "beta";
  index.Upsert(a);
  index.Upsert(b);
  index.Upsert(c);
  OpenPermit q = Make(9, PermitType::kHotWork, 0, 0);
  EXPECT_EQ(Ids(index.Near("acme", "plant1", q, 1)), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(Ids(index.Near("acme", "plant2", q, 1)), (std::vector<std::int64_t>{2}));
  q.org = "beta";
  EXPECT_EQ(Ids(index.Near("beta", "plant1", q, 1)), (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(index.Near("beta", "plant2", q, 1).empty());
  EXPECT_TRUE(index.Near("gamma", "plant1", q, 1).empty());
}

TEST(OpenPermitIndexNear, ExcludesTheCandidateItself) {
  OpenPermitIndex index;
  index.Upsert(Make(1, PermitType::kHotWork, 0, 0));
  EXPECT_TRUE(index.Near("acme", "plant1", Make(1, PermitType::kHotWork, 0, 0), 10).empty());
}

TEST(OpenPermitIndexNear, SpanningFenceReportedOnceAndLargeFenceFound) {
  OpenPermitIndex index(10.0);
  for (int i = 100; i < 400; ++i) {  // enough population that queries use the grid
    index.Upsert(Make(i, PermitType::kHotWork, 5000 + i, 5000));
  }
  OpenPermit wide = Make(1, PermitType::kHotWork, 0, 0);
  wide.fence = Square(-35, -35, 70);  // 8 x 8 cells of 10 m
  index.Upsert(wide);
  OpenPermit huge = Make(2, PermitType::kHotWork, 0, 0);
  huge.fence = Square(-2000, -2000, 4000);  // far more cells than kept per entry
  index.Upsert(huge);
  OpenPermit q = Make(9, PermitType::kHotWork, 0, 0);
  q.fence = Square(-50, -50, 100);
  EXPECT_EQ(Ids(index.Near("acme", "plant1", q, 5)), (std::vector<std::int64_t>{1, 2}));
  // Far corner of the huge fence, far from the wide one.
  EXPECT_EQ(Ids(index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 1990, -1990), 1)),
            (std::vector<std::int64_t>{2}));
  index.Remove("acme", 2);
  EXPECT_TRUE(
      index.Near("acme", "plant1", Make(9, PermitType::kHotWork, 1990, -1990), 1).empty());
  EXPECT_EQ(Ids(index.Near("acme", "plant1", q, 5)), (std::vector<std::int64_t>{1}));
}

// Random permits (points and fences, negative coordinates, cell-straddling) against a
// brute-force scan with the same geometry.
TEST(OpenPermitIndexNear, MatchesBruteForce) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> pos(-600, 600);
  std::uniform_real_distribution<double> size(1, 80);
  std::uniform_int_distribution<int> hours(0, 23);
  OpenPermitIndex index(25.0);
  std::vector<OpenPermit> all;
  for (int i = 1; i <= 1500; ++i) {
    OpenPermit p = Make(i, PermitType::kHotWork, pos(rng), pos(rng));
    if (i % 3 == 0) p.fence = Square(p.point.x, p.point.y, size(rng));
    p.start = kT0 + Duration::Hours(hours(rng));
    p.end = p.start + Duration::Hours(4);
    if (i % 7 == 0) p.site = "plant2";
    index.Upsert(p);
    all.push_back(p);
  }
  // Remove some and move some to exercise the bookkeeping.
  for (int i = 1; i <= 1500; i += 11) index.Remove("acme", i);
  for (int i = 5; i <= 1500; i += 13) {
    OpenPermit p = all[static_cast<std::size_t>(i - 1)];
    p.point = {pos(rng), pos(rng)};
    if (!p.fence.empty()) p.fence = Square(p.point.x, p.point.y, size(rng));
    all[static_cast<std::size_t>(i - 1)] = p;
    if (i % 11 != 1) index.Upsert(p);
  }
  // Axis-aligned squares and points only, so the reference is the box distance.
  auto reference = [&](const OpenPermit& a, const OpenPermit& b) {
    auto box = [](const OpenPermit& p) {
      if (p.fence.empty()) return std::array<double, 4>{p.point.x, p.point.y, p.point.x, p.point.y};
      return std::array<double, 4>{p.fence[0].x, p.fence[0].y, p.fence[2].x, p.fence[2].y};
    };
    const auto ba = box(a), bb = box(b);
    const double dx = std::max({0.0, ba[0] - bb[2], bb[0] - ba[2]});
    const double dy = std::max({0.0, ba[1] - bb[3], bb[1] - ba[3]});
    return std::hypot(dx, dy);
  };
  int hits = 0;
  for (int q = 0; q < 300; ++q) {
    OpenPermit c = Make(100000 + q, PermitType::kHotWork, pos(rng), pos(rng));
    if (q % 2 == 0) c.fence = Square(c.point.x, c.point.y, size(rng));
    c.start = kT0 + Duration::Hours(hours(rng));
    c.end = c.start + Duration::Hours(3);
    const double radius = q % 5 == 0 ? 400.0 : 30.0;
    std::vector<std::int64_t> want;
    for (int i = 1; i <= 1500; ++i) {
      if (i % 11 == 1) continue;  // removed
      const OpenPermit& p = all[static_cast<std::size_t>(i - 1)];
      if (p.site != "plant1") continue;
      if (!(p.start < c.end && c.start < p.end)) continue;
      if (reference(c, p) <= radius) want.push_back(p.id);
    }
    const auto got = Ids(index.Near("acme", "plant1", c, radius));
    EXPECT_EQ(got, want) << "query " << q;
    hits += static_cast<int>(got.size());
  }
  EXPECT_GT(hits, 100);
}

// --- workload counters -----------------------------------------------------------------------

TEST(OpenPermitIndex, WorkloadCounters) {
  OpenPermitIndex index;
  OpenPermit a = Make(1, PermitType::kHotWork, 0, 0);
  a.approvers = {"boss"};
  a.guardians = {"g1", "g1"};  // the same person twice counts once
  OpenPermit b = Make(2, PermitType::kConfinedSpace, 0, 0);
  b.approvers = {"boss"};
  b.guardians = {"g1", "g2"};
  b.site = "plant2";
  index.Upsert(a);
  index.Upsert(b);
  EXPECT_EQ(index.OpenApprovedBy("acme", "boss"), 2);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g1"), 2);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g1", 1), 1);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g1", 42), 2);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g2", 1), 1);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g2", 2), 0);
  EXPECT_EQ(index.OpenApprovedBy("beta", "boss"), 0);
  EXPECT_EQ(index.OpenApprovedBy("acme", "nobody"), 0);

  // Replace: guardians change.
  a.guardians = {"g2"};
  index.Upsert(a);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g1"), 1);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g2"), 2);
  EXPECT_EQ(index.OpenApprovedBy("acme", "boss"), 2);

  // Leaving the open states releases the counts.
  b.state = State::kCompleted;
  index.Upsert(b);
  EXPECT_EQ(index.OpenApprovedBy("acme", "boss"), 1);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g1"), 0);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g2"), 1);
  index.Remove("acme", 1);
  EXPECT_EQ(index.OpenApprovedBy("acme", "boss"), 0);
  EXPECT_EQ(index.OpenGuardedBy("acme", "g2"), 0);
}

// --- the conflict matrix -------------------------------------------------------------------

class ConflictMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = PermitRulebook::LoadEmbedded();
    if (loaded.has_value()) {
      book_ = new PermitRulebook(std::move(*loaded));
    } else {
      load_error_ = loaded.error().message();
    }
  }
  static void TearDownTestSuite() {
    delete book_;
    book_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(book_, nullptr) << "embedded rulebook: " << load_error_; }

  // Conflict rule ids the candidate raises against what is in the index.
  std::set<std::string> Rules(const OpenPermit& candidate) {
    std::set<std::string> ids;
    for (const Violation& v : index_.Conflicts(*book_, candidate)) ids.insert(v.rule);
    return ids;
  }
  std::vector<Violation> Conflicts(const OpenPermit& candidate) {
    return index_.Conflicts(*book_, candidate);
  }

  static PermitRulebook* book_;
  static std::string load_error_;
  OpenPermitIndex index_;
};
PermitRulebook* ConflictMatrix::book_ = nullptr;
std::string ConflictMatrix::load_error_;

using Ids_ = std::set<std::string>;

TEST_F(ConflictMatrix, EveryEntryCarriesClauseAndMessages) {
  ASSERT_FALSE(book_->conflicts().empty());
  std::set<std::string> ids;
  for (const ConflictRule& r : book_->conflicts()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_NE(r.clause.find("GB 30871-2022"), std::string::npos) << r.id;
    EXPECT_FALSE(r.message_zh.empty()) << r.id;
    EXPECT_FALSE(r.message_en.empty()) << r.id;
  }
}

TEST_F(ConflictMatrix, HotWorkAndPaintingWithin10m) {
  OpenPermit paint = Make(1, PermitType::kTemporaryPower, 10, 0);
  paint.activities = {"painting"};
  index_.Upsert(paint);
  OpenPermit hot = Make(2, PermitType::kHotWork, 0, 0);
  hot.activities = {"hot_work"};
  const auto v = Conflicts(hot);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "conflict.hot_work_painting");
  EXPECT_EQ(v[0].clause, "GB 30871-2022 §5.2.9");
  EXPECT_EQ(v[0].severity, Severity::kBlock);
  EXPECT_EQ(v[0].field, "location");
  EXPECT_EQ(v[0].related, "P-1");
  EXPECT_NE(v[0].message.find("P-1"), std::string::npos) << v[0].message;
  EXPECT_NE(v[0].message.find("10.0 m"), std::string::npos) << v[0].message;
  EXPECT_NE(v[0].message.find("within 10 m"), std::string::npos) << v[0].message;
  EXPECT_NE(v[0].message_zh.find("P-1"), std::string::npos) << v[0].message_zh;
  EXPECT_EQ(v[0].message.find('{'), std::string::npos) << v[0].message;

  // Symmetric: the painting job checked against the open hot work.
  index_.Remove("acme", 1);
  index_.Upsert(hot);
  EXPECT_EQ(Rules(paint), Ids_{"conflict.hot_work_painting"});
  // Solvent cleaning counts too; beyond 10 m nothing.
  paint.activities = {"solvent_cleaning"};
  EXPECT_EQ(Rules(paint), Ids_{"conflict.hot_work_painting"});
  paint.point = {10.01, 0};
  EXPECT_TRUE(Rules(paint).empty());
  // Directly above the hot work (horizontal distance 0).
  paint.point = {0, 0};
  paint.elevation_m = 8;
  EXPECT_EQ(Rules(paint), Ids_{"conflict.hot_work_painting"});
  // Not painting: no conflict.
  paint.activities = {"cable_pulling"};
  EXPECT_TRUE(Rules(paint).empty());
}

TEST_F(ConflictMatrix, HotWorkAndVentingWithin30m) {
  OpenPermit vent = Make(1, PermitType::kBlindPlate, 30, 0);
  vent.activities = {"venting"};
  index_.Upsert(vent);
  EXPECT_EQ(Rules(Make(2, PermitType::kHotWork, 0, 0)), Ids_{"conflict.hot_work_venting"});
  EXPECT_TRUE(Rules(Make(2, PermitType::kHotWork, -0.1, 0)).empty());
}

TEST_F(ConflictMatrix, HotWorkAndDrainingWithin15m) {
  OpenPermit drain = Make(1, PermitType::kTemporaryPower, 0, 15);
  drain.activities = {"draining"};
  index_.Upsert(drain);
  EXPECT_EQ(Rules(Make(2, PermitType::kHotWork, 0, 0)), Ids_{"conflict.hot_work_draining"});
  EXPECT_TRUE(Rules(Make(2, PermitType::kHotWork, 0, -0.1)).empty());
}

TEST_F(ConflictMatrix, HotWorkAndDustSweepingWithin10m) {
  OpenPermit dust = Make(1, PermitType::kTemporaryPower, 6, 8);
  dust.activities = {"dust_sweeping"};
  index_.Upsert(dust);
  EXPECT_EQ(Rules(Make(2, PermitType::kHotWork, 0, 0)),
            Ids_{"conflict.hot_work_dust_sweeping"});
  EXPECT_TRUE(Rules(Make(2, PermitType::kHotWork, -1, 0)).empty());
}

TEST_F(ConflictMatrix, TankDikeNoDrainingOrSamplingDuringHotWork) {
  OpenPermit sample = Make(1, PermitType::kTemporaryPower, 200, 0);
  sample.activities = {"sampling"};
  sample.zone = "tank-farm-A";
  sample.area_class = "major_hazard_tank_dike";
  index_.Upsert(sample);
  OpenPermit hot = Make(2, PermitType::kHotWork, 0, 0);
  hot.zone = "tank-farm-A";
  hot.area_class = "major_hazard_tank_dike";
  EXPECT_EQ(Rules(hot), Ids_{"conflict.hot_work_tank_dike_draining"});
  hot.zone = "tank-farm-B";
  EXPECT_TRUE(Rules(hot).empty());
  hot.zone = "tank-farm-A";
  hot.area_class = "fire_explosion_hazard";
  EXPECT_TRUE(Rules(hot).empty());
}

TEST_F(ConflictMatrix, BlindPlateInHazardousAreaAndHotWorkWithin30m) {
  OpenPermit plate = Make(1, PermitType::kBlindPlate, 0, 0);
  plate.pipeline = "P-2001";
  plate.area_class = "fire_explosion_hazard";
  index_.Upsert(plate);
  EXPECT_EQ(Rules(Make(2, PermitType::kHotWork, 0, 30)), Ids_{"conflict.blind_plate_hot_work"});
  EXPECT_TRUE(Rules(Make(2, PermitType::kHotWork, 0, 30.5)).empty());
  plate.area_class = "general";
  index_.Upsert(plate);
  EXPECT_TRUE(Rules(Make(2, PermitType::kHotWork, 0, 5)).empty());
}

TEST_F(ConflictMatrix, TwoBlindPlatesOnOnePipeline) {
  OpenPermit first = Make(1, PermitType::kBlindPlate, 0, 0);
  first.pipeline = "P-2001";
  index_.Upsert(first);
  OpenPermit second = Make(2, PermitType::kBlindPlate, 800, 900);  // far away, same line
  second.pipeline = "P-2001";
  const auto v = Conflicts(second);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "conflict.blind_plate_same_pipeline");
  EXPECT_EQ(v[0].related, "P-1");
  second.pipeline = "P-2002";
  EXPECT_TRUE(Rules(second).empty());
  // Another site's pipeline of the same name is another pipeline.
  second.pipeline = "P-2001";
  second.site = "plant2";
  EXPECT_TRUE(Rules(second).empty());
}

TEST_F(ConflictMatrix, ConfinedSpaceHotWorkAndPaintingInSameSpace) {
  OpenPermit weld = Make(1, PermitType::kConfinedSpace, 0, 0);
  weld.space = "V-101";
  weld.activities = {"confined_entry", "welding"};
  index_.Upsert(weld);
  OpenPermit paint = Make(2, PermitType::kConfinedSpace, 40, 0);  // a long vessel
  paint.space = "V-101";
  paint.activities = {"confined_entry", "painting"};
  EXPECT_EQ(Rules(paint), Ids_{"conflict.confined_space_hot_work"});
  paint.space = "V-102";
  EXPECT_TRUE(Rules(paint).empty());
  // Without hot work inside, two entries into one space are no §6.7 conflict.
  paint.space = "V-101";
  weld.activities = {"confined_entry", "inspection"};
  index_.Upsert(weld);
  EXPECT_TRUE(Rules(paint).empty());
}

TEST_F(ConflictMatrix, VerticalCrossWorkInOneFallLine) {
  OpenPermit upper = Make(1, PermitType::kHeight, 0, 0);
  upper.elevation_m = 12;
  upper.fence = Square(-2, -2, 4);
  index_.Upsert(upper);
  OpenPermit below = Make(2, PermitType::kExcavation, 5, 0);  // 3 m from the fence edge
  EXPECT_EQ(Rules(below), Ids_{"conflict.height_vertical_cross"});
  below.point = {8.5, 0};  // 6.5 m: outside the fall radius
  EXPECT_TRUE(Rules(below).empty());
  // Same level: not vertical cross work.
  below.point = {3, 0};
  below.elevation_m = 12;
  EXPECT_TRUE(Rules(below).empty());
  // A protective layer on the upper work lifts it.
  below.elevation_m = 0;
  upper.protective_layer = true;
  index_.Upsert(upper);
  EXPECT_TRUE(Rules(below).empty());
  // ... but not one on the lower work.
  upper.protective_layer = false;
  index_.Upsert(upper);
  OpenPermit lower_height = Make(3, PermitType::kHeight, 0, 0);
  lower_height.elevation_m = 3;
  lower_height.protective_layer = true;
  EXPECT_EQ(Rules(lower_height), Ids_{"conflict.height_vertical_cross"});
  // The height work checked against a job below it.
  index_.Remove("acme", 1);
  below.point = {1, 1};
  index_.Upsert(below);
  upper.id = 4;
  EXPECT_EQ(Rules(upper), Ids_{"conflict.height_vertical_cross"});
}

TEST_F(ConflictMatrix, LiftingCordonAndLoadRadius) {
  OpenPermit lift = Make(1, PermitType::kLifting, 10, 10);
  lift.fence = Square(0, 0, 20);
  index_.Upsert(lift);
  // Inside the cordon: block, and the radius warning.
  const auto inside = Conflicts(Make(2, PermitType::kExcavation, 5, 5));
  ASSERT_EQ(inside.size(), 2u);
  EXPECT_EQ(inside[0].rule, "conflict.lifting_cordon");
  EXPECT_EQ(inside[0].severity, Severity::kBlock);
  EXPECT_EQ(inside[1].rule, "conflict.lifting_load_radius");
  EXPECT_EQ(inside[1].severity, Severity::kWarn);
  // 15 m outside the cordon: warning only; further: nothing.
  EXPECT_EQ(Rules(Make(2, PermitType::kExcavation, 35, 5)), Ids_{"conflict.lifting_load_radius"});
  EXPECT_TRUE(Rules(Make(2, PermitType::kExcavation, 35.5, 5)).empty());
}

TEST_F(ConflictMatrix, ExcavationAndRoadBreakingInOneZoneWarn) {
  OpenPermit road = Make(1, PermitType::kRoadBreaking, 300, 0);
  road.zone = "east-road";
  index_.Upsert(road);
  OpenPermit dig = Make(2, PermitType::kExcavation, 0, 0);
  dig.zone = "east-road";
  const auto v = Conflicts(dig);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "conflict.excavation_road_breaking");
  EXPECT_EQ(v[0].severity, Severity::kWarn);
  dig.zone = "west-road";
  EXPECT_TRUE(Rules(dig).empty());
}

TEST_F(ConflictMatrix, WindowsOrgAndSiteLimitTheMatrix) {
  OpenPermit paint = Make(1, PermitType::kTemporaryPower, 3, 0);
  paint.activities = {"painting"};
  index_.Upsert(paint);
  OpenPermit hot = Make(2, PermitType::kHotWork, 0, 0);
  std::size_t examined = 0;
  EXPECT_EQ(index_.Conflicts(*book_, hot, &examined).size(), 1u);
  EXPECT_EQ(examined, 1u);
  // Later window.
  hot.start = paint.end;
  hot.end = paint.end + Duration::Hours(2);
  EXPECT_TRUE(index_.Conflicts(*book_, hot, &examined).empty());
  EXPECT_EQ(examined, 0u);
  hot.start = kT0;
  hot.end = kT0 + Duration::Hours(1);
  hot.site = "plant2";
  EXPECT_TRUE(Rules(hot).empty());
  hot.site = "plant1";
  hot.org = "beta";
  EXPECT_TRUE(Rules(hot).empty());
  // The permit itself (re-checked while open) is no conflict with itself.
  hot.org = "acme";
  paint.type = PermitType::kHotWork;
  paint.activities = {"hot_work", "painting"};
  index_.Upsert(paint);
  EXPECT_TRUE(Rules(paint).empty());
}

TEST_F(ConflictMatrix, EveryOtherPermitReportedPerRule) {
  for (int i = 1; i <= 3; ++i) {
    OpenPermit paint = Make(i, PermitType::kTemporaryPower, i, 0);
    paint.activities = {"painting", "venting"};
    index_.Upsert(paint);
  }
  const auto v = Conflicts(Make(9, PermitType::kHotWork, 0, 0));
  ASSERT_EQ(v.size(), 6u);
  std::set<std::pair<std::string, std::string>> seen;
  for (const Violation& x : v) seen.insert({x.related, x.rule});
  EXPECT_EQ(seen.size(), 6u);
}

TEST_F(ConflictMatrix, CheckReportsConflictsWithTheRulebook) {
  OpenPermit paint = Make(1, PermitType::kTemporaryPower, 4, 3);
  paint.activities = {"painting"};
  index_.Upsert(paint);
  Permit p;
  p.id = 2;
  p.number = "DH-2";
  p.org = "acme";
  p.site = "plant1";
  p.type = PermitType::kHotWork;
  p.grade = "grade2";
  p.state = State::kDraft;
  p.location.zone = "unit1";
  p.location.area_class = "general";
  p.planned_start = kT0;
  p.planned_end = kT0 + Duration::Hours(4);
  p.hot_work = HotWorkSection{};
  p.hot_work->method = "welding";
  CheckOptions options;
  options.at = kT0 - Duration::Hours(1);
  options.open = &index_;
  const Decision d = Check(*book_, p, options);
  EXPECT_EQ(d.conflicts_examined, 1u);
  EXPECT_TRUE(d.blocked());
  const auto it = std::find_if(d.violations.begin(), d.violations.end(),
                               [](const Violation& v) { return !v.related.empty(); });
  ASSERT_NE(it, d.violations.end());
  EXPECT_EQ(it->rule, "conflict.hot_work_painting");
  EXPECT_EQ(it->related, "P-1");
  EXPECT_NE(it->message.find("5.0 m"), std::string::npos) << it->message;
}

// Matrix shapes the default file does not use, through a rulebook directory whose
// conflicts.json is replaced.
class CustomMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("wg_conflict_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(PermitRulebook::InstallDefaults(dir_.string()).ok());
    std::ofstream(dir_ / "conflicts.json") << R"({
      "format": "workguard-permit-conflicts/1",
      "conflicts": [
        {"id": "t.site_wide", "clause": "GB 30871-2022 §4.7",
         "a": {"types": ["lifting"], "activities": [], "area_classes": []},
         "b": {"types": ["road_breaking"], "activities": [], "area_classes": []},
         "relation": "", "unless": "", "severity": "warn",
         "message_zh": "全厂 {other}", "message_en": "site-wide {other} {limit}", "uncertain": "test"},
        {"id": "t.area", "clause": "GB 30871-2022 §5.2.9",
         "a": {"types": ["hot_work"], "activities": [], "area_classes": ["pipe_rack"]},
         "b": {"types": [], "activities": ["x"], "area_classes": []},
         "within_m": 5, "relation": "", "unless": "", "severity": "block",
         "message_zh": "{other}", "message_en": "{other} {distance}/{limit}", "uncertain": ""},
        {"id": "t.fall_touch", "clause": "GB 30871-2022 §8.2.8",
         "a": {"types": ["work_at_height"], "activities": [], "area_classes": []},
         "b": {"types": [], "activities": ["y"], "area_classes": []},
         "relation": "fall_line", "unless": "", "severity": "block",
         "message_zh": "{other}", "message_en": "{other}", "uncertain": ""}
      ]})";
    auto loaded = PermitRulebook::LoadDirectory(dir_.string());
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    book_ = std::move(*loaded);
    ASSERT_EQ(book_.conflicts().size(), 3u);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::set<std::string> Rules(const OpenPermit& candidate) {
    std::set<std::string> ids;
    for (const Violation& v : index_.Conflicts(book_, candidate)) ids.insert(v.rule);
    return ids;
  }

  std::filesystem::path dir_;
  PermitRulebook book_;
  OpenPermitIndex index_;
};

TEST_F(CustomMatrix, RuleWithoutDistanceOrRelationCoversTheSite) {
  index_.Upsert(Make(1, PermitType::kRoadBreaking, 900, 900));
  const auto v = index_.Conflicts(book_, Make(2, PermitType::kLifting, -900, -900));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "t.site_wide");
  EXPECT_EQ(v[0].message, "site-wide P-1 ");  // no limit to show
  EXPECT_TRUE(Rules(Make(2, PermitType::kExcavation, 0, 0)).empty());
}

TEST_F(CustomMatrix, AreaClassOfTheMatchingSide) {
  OpenPermit x = Make(1, PermitType::kExcavation, 3, 4);
  x.activities = {"x"};
  index_.Upsert(x);
  OpenPermit hot = Make(2, PermitType::kHotWork, 0, 0);
  hot.area_class = "pipe_rack";
  const auto v = index_.Conflicts(book_, hot);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].message, "P-1 5.0/5");
  hot.area_class = "general";
  EXPECT_TRUE(Rules(hot).empty());
  // The area class is the hot work's, not the other's.
  x.area_class = "pipe_rack";
  index_.Upsert(x);
  EXPECT_TRUE(Rules(hot).empty());
}

TEST_F(CustomMatrix, FallLineWithoutRadiusNeedsTheFencesToMeet) {
  OpenPermit upper = Make(1, PermitType::kHeight, 0, 0);
  upper.elevation_m = 20;
  upper.fence = Square(0, 0, 10);
  index_.Upsert(upper);
  OpenPermit lower = Make(2, PermitType::kExcavation, 10, 5);  // on the fence edge
  lower.activities = {"y"};
  EXPECT_EQ(Rules(lower), std::set<std::string>{"t.fall_touch"});
  lower.point = {10.5, 5};
  EXPECT_TRUE(Rules(lower).empty());
}

}  // namespace
}  // namespace wg::permit

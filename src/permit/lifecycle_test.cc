#include "wg/permit/lifecycle.h"

#include <gtest/gtest.h>

#include <set>

namespace wg::permit {
namespace {

constexpr State kAllStates[] = {State::kDraft,     State::kPendingGasTest, State::kPendingSignatures,
                                State::kApproved,  State::kActive,         State::kSuspended,
                                State::kCompleted, State::kCancelled,      State::kExpired};
constexpr Action kAllActions[] = {Action::kEdit,     Action::kSubmit,   Action::kRecordGas,
                                  Action::kSign,     Action::kActivate, Action::kSuspend,
                                  Action::kResume,   Action::kComplete, Action::kCancel,
                                  Action::kExpire,   Action::kIncident};

TEST(Lifecycle, HappyPathWithGas) {
  auto s = Next(State::kDraft, Action::kSubmit, /*gas_needed=*/true, false, false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, State::kPendingGasTest);
  s = Next(*s, Action::kRecordGas, true, /*gas_passed=*/false, false);
  EXPECT_EQ(*s, State::kPendingGasTest) << "a failing reading keeps the permit waiting";
  s = Next(*s, Action::kRecordGas, true, true, false);
  EXPECT_EQ(*s, State::kPendingSignatures);
  s = Next(*s, Action::kSign, true, true, /*chain_complete=*/false);
  EXPECT_EQ(*s, State::kPendingSignatures);
  s = Next(*s, Action::kSign, true, true, true);
  EXPECT_EQ(*s, State::kApproved);
  s = Next(*s, Action::kActivate, true, true, true);
  EXPECT_EQ(*s, State::kActive);
  s = Next(*s, Action::kSuspend, true, true, true);
  EXPECT_EQ(*s, State::kSuspended);
  s = Next(*s, Action::kResume, true, true, true);
  EXPECT_EQ(*s, State::kActive);
  s = Next(*s, Action::kComplete, true, true, true);
  EXPECT_EQ(*s, State::kCompleted);
}

TEST(Lifecycle, NoGasGoesStraightToSignatures) {
  auto s = Next(State::kDraft, Action::kSubmit, /*gas_needed=*/false, false, false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, State::kPendingSignatures);
  // Gas already recorded and passing at submission.
  s = Next(State::kDraft, Action::kSubmit, true, true, false);
  EXPECT_EQ(*s, State::kPendingSignatures);
}

TEST(Lifecycle, ApprovedPermitCannotBeEdited) {
  for (State st : {State::kApproved, State::kActive, State::kSuspended, State::kCompleted,
                   State::kCancelled, State::kExpired}) {
    auto s = CheckAllowed(st, Action::kEdit);
    ASSERT_FALSE(s.ok()) << StateCode(st);
    EXPECT_EQ(s.code(), core::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("§4.18"), std::string::npos) << s.message();
    EXPECT_EQ(s.field(), "state");
  }
  for (State st : {State::kDraft, State::kPendingGasTest, State::kPendingSignatures}) {
    auto s = Next(st, Action::kEdit, true, true, true);
    ASSERT_TRUE(s.ok()) << StateCode(st);
    EXPECT_EQ(*s, State::kDraft);
  }
}

TEST(Lifecycle, ForbiddenTransitions) {
  struct Case {
    State from;
    Action action;
  };
  const Case forbidden[] = {
      {State::kDraft, Action::kActivate},          {State::kDraft, Action::kSign},
      {State::kPendingGasTest, Action::kSign},     {State::kPendingGasTest, Action::kActivate},
      {State::kPendingSignatures, Action::kActivate}, {State::kApproved, Action::kSign},
      {State::kApproved, Action::kSuspend},        {State::kApproved, Action::kComplete},
      {State::kActive, Action::kActivate},         {State::kActive, Action::kResume},
      {State::kSuspended, Action::kSuspend},       {State::kSuspended, Action::kActivate},
      {State::kCompleted, Action::kResume},        {State::kCompleted, Action::kCancel},
      {State::kCancelled, Action::kActivate},      {State::kExpired, Action::kResume},
      {State::kExpired, Action::kRecordGas},       {State::kDraft, Action::kExpire},
      {State::kDraft, Action::kRecordGas},         {State::kCompleted, Action::kExpire},
  };
  for (const auto& c : forbidden) {
    auto s = Next(c.from, c.action, true, true, true);
    EXPECT_FALSE(s.ok()) << StateCode(c.from) << " " << ActionCode(c.action);
  }
}

TEST(Lifecycle, TerminalStatesOnlyTakeIncidents) {
  for (State st : kAllStates) {
    if (!IsTerminal(st)) continue;
    for (Action a : kAllActions) {
      const bool ok = CheckAllowed(st, a).ok();
      EXPECT_EQ(ok, a == Action::kIncident) << StateCode(st) << " " << ActionCode(a);
    }
  }
}

TEST(Lifecycle, EveryNonTerminalStateCanBeCancelled) {
  for (State st : kAllStates) {
    EXPECT_EQ(CheckAllowed(st, Action::kCancel).ok(), !IsTerminal(st)) << StateCode(st);
  }
}

TEST(Lifecycle, TableIsConsistentWithNext) {
  // Every (from, action) in the table is allowed, and Next lands on one of the listed
  // targets for every combination of the flags.
  for (const auto& t : Transitions()) {
    std::set<State> targets;
    for (const auto& u : Transitions()) {
      if (u.from == t.from && u.action == t.action) targets.insert(u.to);
    }
    for (int flags = 0; flags < 8; ++flags) {
      auto s = Next(t.from, t.action, flags & 1, flags & 2, flags & 4);
      ASSERT_TRUE(s.ok());
      EXPECT_TRUE(targets.count(*s)) << StateCode(t.from) << " " << ActionCode(t.action) << " -> "
                                     << StateCode(*s);
    }
  }
}

TEST(Lifecycle, ActionCodesRoundTrip) {
  for (Action a : kAllActions) {
    auto p = ParseAction(ActionCode(a));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, a);
  }
  auto bad = ParseAction("approve_now", "action");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "action");
}

TEST(Lifecycle, StateCodesRoundTrip) {
  for (State s : kAllStates) {
    auto p = ParseState(StateCode(s));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, s);
    EXPECT_FALSE(StateNameZh(s).empty());
  }
  EXPECT_TRUE(IsOpen(State::kApproved));
  EXPECT_TRUE(IsOpen(State::kSuspended));
  EXPECT_FALSE(IsOpen(State::kPendingSignatures));
  EXPECT_FALSE(IsOpen(State::kCompleted));
}

TEST(Lifecycle, GradeHelpers) {
  EXPECT_EQ(NextGradeUp(PermitType::kHotWork, "grade2"), "grade1");
  EXPECT_EQ(NextGradeUp(PermitType::kHotWork, "grade1"), "special");
  EXPECT_EQ(NextGradeUp(PermitType::kHotWork, "special"), "special");
  EXPECT_GT(GradeRank(PermitType::kHotWork, "special"), GradeRank(PermitType::kHotWork, "grade1"));
  EXPECT_GT(GradeRank(PermitType::kLifting, "grade1"), GradeRank(PermitType::kLifting, "grade3"));
  EXPECT_EQ(GradeRank(PermitType::kHeight, "V"), -1);
  EXPECT_EQ(GradeRank(PermitType::kConfinedSpace, ""), 0);
  EXPECT_EQ(GradeRank(PermitType::kConfinedSpace, "grade1"), -1);
  auto t = ParsePermitType("动火作业");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, PermitType::kHotWork);
  EXPECT_FALSE(ParsePermitType("welding").ok());
}

}  // namespace
}  // namespace wg::permit

// The permit state machine (lifecycle.h).
#include "wg/permit/lifecycle.h"

#include <array>
#include <string>

namespace wg::permit {

namespace {

struct ActionName {
  Action action;
  std::string_view code;
};

constexpr std::array<ActionName, 11> kActions = {{
    {Action::kEdit, "edit"},
    {Action::kSubmit, "submit"},
    {Action::kRecordGas, "record_gas"},
    {Action::kSign, "sign"},
    {Action::kActivate, "activate"},
    {Action::kSuspend, "suspend"},
    {Action::kResume, "resume"},
    {Action::kComplete, "complete"},
    {Action::kCancel, "cancel"},
    {Action::kExpire, "expire"},
    {Action::kIncident, "incident"},
}};

using S = State;
using A = Action;

constexpr Transition kTransitions[] = {
    {S::kDraft, A::kEdit, S::kDraft},
    {S::kPendingGasTest, A::kEdit, S::kDraft},
    {S::kPendingSignatures, A::kEdit, S::kDraft},
    {S::kDraft, A::kSubmit, S::kPendingGasTest},
    {S::kDraft, A::kSubmit, S::kPendingSignatures},
    {S::kPendingGasTest, A::kRecordGas, S::kPendingGasTest},
    {S::kPendingGasTest, A::kRecordGas, S::kPendingSignatures},
    {S::kPendingSignatures, A::kRecordGas, S::kPendingSignatures},
    {S::kApproved, A::kRecordGas, S::kApproved},
    {S::kActive, A::kRecordGas, S::kActive},
    {S::kSuspended, A::kRecordGas, S::kSuspended},
    {S::kPendingSignatures, A::kSign, S::kPendingSignatures},
    {S::kPendingSignatures, A::kSign, S::kApproved},
    {S::kApproved, A::kActivate, S::kActive},
    {S::kActive, A::kSuspend, S::kSuspended},
    {S::kSuspended, A::kResume, S::kActive},
    {S::kActive, A::kComplete, S::kCompleted},
    {S::kSuspended, A::kComplete, S::kCompleted},
    {S::kDraft, A::kCancel, S::kCancelled},
    {S::kPendingGasTest, A::kCancel, S::kCancelled},
    {S::kPendingSignatures, A::kCancel, S::kCancelled},
    {S::kApproved, A::kCancel, S::kCancelled},
    {S::kActive, A::kCancel, S::kCancelled},
    {S::kSuspended, A::kCancel, S::kCancelled},
    {S::kPendingGasTest, A::kExpire, S::kExpired},
    {S::kPendingSignatures, A::kExpire, S::kExpired},
    {S::kApproved, A::kExpire, S::kExpired},
    {S::kActive, A::kExpire, S::kExpired},
    {S::kSuspended, A::kExpire, S::kExpired},
    {S::kApproved, A::kIncident, S::kApproved},
    {S::kActive, A::kIncident, S::kActive},
    {S::kSuspended, A::kIncident, S::kSuspended},
    {S::kCompleted, A::kIncident, S::kCompleted},
    {S::kCancelled, A::kIncident, S::kCancelled},
    {S::kExpired, A::kIncident, S::kExpired},
};

}  // namespace

std::string_view ActionCode(Action a) { return kActions[static_cast<int>(a)].code; }

core::Result<Action> ParseAction(std::string_view s, std::string_view field) {
  for (const auto& a : kActions) {
    if (a.code == s) return a.action;
  }
  return core::Status::InvalidArgument(
      "unknown action; one of edit, submit, record_gas, sign, activate, suspend, resume, "
      "complete, cancel, expire, incident",
      std::string(field));
}

std::span<const Transition> Transitions() { return kTransitions; }

core::Status CheckAllowed(State from, Action action) {
  for (const auto& t : kTransitions) {
    if (t.from == from && t.action == action) return core::Status::Ok();
  }
  std::string msg = "a permit that is " + std::string(StateCode(from)) + " (" +
                    std::string(StateNameZh(from)) + ") cannot " + std::string(ActionCode(action));
  if (action == Action::kEdit) {
    msg +=
        ": an approved permit must not be altered (GB 30871-2022 §4.18); a change of content, "
        "scope, place, method or validity needs a new permit (§4.16–4.17) — create one with "
        "\"supersedes\" naming this permit";
  }
  return core::Status::FailedPrecondition(std::move(msg), "state");
}

core::Result<State> Next(State from, Action action, bool gas_needed, bool gas_passed,
                         bool chain_complete) {
  WG_RETURN_IF_ERROR(CheckAllowed(from, action));
  switch (action) {
    case Action::kEdit:
      return State::kDraft;
    case Action::kSubmit:
      return gas_needed && !gas_passed ? State::kPendingGasTest : State::kPendingSignatures;
    case Action::kRecordGas:
      if (from == State::kPendingGasTest) {
        return gas_passed ? State::kPendingSignatures : State::kPendingGasTest;
      }
      return from;
    case Action::kSign:
      return chain_complete ? State::kApproved : State::kPendingSignatures;
    case Action::kActivate:
    case Action::kResume:
      return State::kActive;
    case Action::kSuspend:
      return State::kSuspended;
    case Action::kComplete:
      return State::kCompleted;
    case Action::kCancel:
      return State::kCancelled;
    case Action::kExpire:
      return State::kExpired;
    case Action::kIncident:
      return from;
  }
  return core::Status::Internal("unhandled action");
}

}  // namespace wg::permit

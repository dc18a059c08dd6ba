#pragma once
// The permit lifecycle as a pure state machine (docs/formats/permit.md#lifecycle):
//
//   draft --submit--> pending_gas_test --gas recorded, passing--> pending_signatures
//         (types and documents needing no gas analysis go straight to pending_signatures)
//   pending_signatures --sign (the last step of the chain)--> approved
//   approved --activate--> active <--suspend / resume--> suspended
//   active | suspended --complete--> completed
//   every non-terminal state --cancel--> cancelled
//   approved | active | suspended --expire (end of validity)--> expired
//   draft | pending_gas_test | pending_signatures --edit--> draft (signatures cleared)
//
// An approved permit is never edited (GB 30871-2022 §4.18 forbids alteration; §4.16–4.17
// require a new permit when content, scope, place, method or validity change): the edit
// action is refused from approved on, naming the clause. Gas readings may still be added
// while active or suspended (periodic and re-test analyses); they are additions, not edits.

#include <span>
#include <string>
#include <string_view>

#include "wg/core/status.h"
#include "wg/permit/model.h"

namespace wg::permit {

enum class Action {
  kEdit,       // edit
  kSubmit,     // submit
  kRecordGas,  // record_gas
  kSign,       // sign
  kActivate,   // activate
  kSuspend,    // suspend
  kResume,     // resume
  kComplete,   // complete
  kCancel,     // cancel
  kExpire,     // expire
  kIncident,   // incident (recorded against an open or closed permit; no state change)
};
std::string_view ActionCode(Action a);
core::Result<Action> ParseAction(std::string_view s, std::string_view field = "action");

struct Transition {
  State from;
  Action action;
  State to;  // for kSubmit/kRecordGas/kSign the service picks among the allowed targets
};

// Every allowed (from, action, to), for documentation and the API.
std::span<const Transition> Transitions();

// Whether `action` is allowed from `from`; kFailedPrecondition naming the state, the
// action and (for edits of approved permits) the clause otherwise.
core::Status CheckAllowed(State from, Action action);

// The state after a successful action. `gas_needed`: the type (and this document) needs a
// gas analysis before signatures; `gas_passed`: the readings pass; `chain_complete`: every
// step of the signature chain is signed.
core::Result<State> Next(State from, Action action, bool gas_needed, bool gas_passed,
                         bool chain_complete);

}  // namespace wg::permit

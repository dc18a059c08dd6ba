#pragma once
// Spot check: the regulator asks an enterprise for one fact with its inclusion proof
// against the checkpoint the regulator holds, and checks it with what it holds itself —
// the only time a payload reaches the regulator, and only the one it asked for.
//
//   GET <enterprise>/api/v1/ledger/proof?seq=N&size=<held size>   (a regulator-role user)
//
// Verified means: the entry decodes as a fact with that seq; its leaf hash (HashLeaf over
// the entry, with the enterprise's enrolled hash) equals the leaf hash the regulator holds
// for N, when it holds one; and the inclusion proof leads from that leaf to the root of the
// regulator's own co-signed checkpoint. The enterprise's answer is never trusted for the
// root or the size. A failed check is recorded as a SPOT_CHECK_FAILED alert.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/evidence/fact.h"
#include "wg/regulator/supervision.h"

namespace wg::regulator {

struct SpotCheckReport {
  std::string origin;
  std::uint64_t seq = 0;
  std::uint64_t tree_size = 0;  // the regulator's held checkpoint size
  bool verified = false;
  std::string reason;                  // why not, when not verified
  bool leaf_held = false;              // the regulator held the leaf hash and compared it
  std::optional<evidence::Fact> fact;  // decoded, when the entry decodes
  std::optional<std::uint64_t> alert_id;
};

// Pure: checks the body of an enterprise's /api/v1/ledger/proof answer against the held
// checkpoint (`held`) and, when given, the held leaf hash. Never fails: a report says why.
SpotCheckReport VerifyProofAnswer(const EnterpriseView& held,
                                  const std::optional<ledger::Hash>& held_leaf, std::uint64_t seq,
                                  std::string_view body);

// Fetches and verifies; records an alert when the answer does not verify (or the
// enterprise has no proof for its own checkpoint). kFailedPrecondition when no checkpoint
// of `origin` is held, kInvalidArgument for seq >= its size, kUnavailable /
// kUnauthenticated / kPermissionDenied when the enterprise cannot be asked.
core::Result<SpotCheckReport> SpotCheck(Supervision& supervision, const std::string& enterprise_url,
                                        const std::string& bearer_token, const std::string& origin,
                                        std::uint64_t seq, int timeout_seconds = 10);

core::Json SpotCheckToJson(const SpotCheckReport& r);

}  // namespace wg::regulator

#pragma once
// The enterprise side of the dual chain: pushing an organization's latest checkpoint to
// the regulator (docs/adr/0009-regulator-dual-chain.md, wire format in
// docs/formats/regulator.md) and keeping the co-signature it returns.
//
// PushCheckpoint signs (or reuses) the latest checkpoint with Evidence::Checkpoint, sends
// it with the consistency proof from the size the regulator last accepted and the leaf
// hashes the regulator does not hold yet, in pages of at most 10000 (one request per page,
// the same checkpoint each time), and merges the regulator's co-signature into the stored
// checkpoint (Evidence::AddCosignatures). What the regulator last accepted is remembered in
// a PushState; when the regulator answers STALE_BASE or LEAF_GAP (the state was lost, or
// the regulator's is older) the push starts again from the regulator's numbers, so the
// state is an optimisation, never a source of false alarms.
//
// Blocking; no thread of its own. Errors: kUnavailable when the regulator cannot be
// reached, kUnauthenticated for a refused token, kFailedPrecondition naming the reason
// (and alert) when the regulator refuses the checkpoint, kCorruption when a pinned
// regulator key does not verify the co-signature.

#include <cstdint>
#include <string>

#include "wg/core/ids.h"
#include "wg/core/status.h"
#include "wg/evidence/evidence.h"

namespace wg::regulator {

struct RegulatorEndpoint {
  std::string url;             // "http://host:port" or "https://host[:port]", path prefix kept
  std::string token;           // this enterprise's push token
  std::string regulator_vkey;  // optional: the regulator's vkey; co-signatures must verify
  int timeout_seconds = 10;    // connect, read and write timeouts
};

// What the regulator last told this enterprise (DATA/ledger/<org>/regulator.json).
struct PushState {
  std::string url;                  // the regulator it is about; another URL starts afresh
  std::uint64_t accepted_size = 0;  // the regulator's accepted checkpoint size
  std::uint64_t leaves_held = 0;    // leaf hashes the regulator holds
  std::uint64_t cosigned_size = 0;  // size whose co-signature is merged into the store
};

struct PushReport {
  std::uint64_t size = 0;  // the checkpoint's size
  std::uint64_t leaves_sent = 0;
  int requests = 0;
  bool up_to_date = false;    // nothing was sent: already accepted and co-signed
  std::string cosigned_note;  // the regulator's co-signed note (when sent)
  std::string detail;         // the regulator's last decision detail
};

core::Result<PushReport> PushCheckpoint(evidence::Evidence& ev, core::OrgId org,
                                        const RegulatorEndpoint& endpoint, PushState& state);

// DATA/ledger/<org code>/regulator.json.
core::Result<std::string> PushStatePath(evidence::Evidence& ev, core::OrgId org);
// A fresh state when the file does not exist; kCorruption when it does not parse.
core::Result<PushState> LoadPushState(const std::string& path);
core::Status SavePushState(const std::string& path, const PushState& state);  // atomic

// Load the state, push, save what was learned (also after a failure), as the enterprise
// server does after each periodic checkpoint.
core::Result<PushReport> PushCheckpointRemembered(evidence::Evidence& ev, core::OrgId org,
                                                  const RegulatorEndpoint& endpoint);

}  // namespace wg::regulator

#pragma once
// Evidence: the service that turns each organization's fact outbox (store) into its
// tamper-evident evidence log (ledger), signs checkpoints, and answers proofs and
// exports (docs/adr/0007-facts-outbox.md, docs/formats/evidence-log.md).
//
//   DATA/ledger/<org code>/        the organization's EvidenceLog (ledger/log.h)
//   DATA/ledger/<org code>/checkpoints.log   every signed checkpoint, appended
//
// Consistency with the store: a write commits its projection rows and its facts in one
// store transaction (outbox); Sync(org) then appends the facts the log lacks, in seq
// order, and returns once they are durable. A crash anywhere leaves the log a prefix of
// the outbox; Open() + SyncAll() brings them back into agreement. A log *longer* than
// the outbox (a database restored from an older backup) or an entry that differs from
// its outbox row is kCorruption: history never silently forks.
//
// One process appends to a log at a time (the log's LOCK). Another process (the CLI
// while the server runs) gets kUnavailable from Sync and leaves its facts in the outbox;
// the log owner appends them on its next Sync.
//
// Thread-safety: all methods may be called concurrently.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/evidence/fact.h"
#include "wg/evidence/keyring.h"
#include "wg/ledger/checkpoint.h"
#include "wg/ledger/log.h"
#include "wg/store/store.h"

namespace wg::evidence {

struct EvidenceOptions {
  std::string ledger_dir;             // DATA/ledger
  ledger::HashAlg alg = ledger::HashAlg::kSm3;
  bool sync = true;                   // fdatasync (tests may turn it off)
  bool read_only = false;             // verification tools: no appends, no checkpoints
};

struct FactProof {
  Fact fact;
  std::string entry;                  // EncodeFact(fact), the leaf entry
  std::uint64_t tree_size = 0;
  std::vector<ledger::Hash> proof;    // inclusion proof against the checkpoint
  std::string checkpoint;             // signed note text of that size
};

struct OrgVerifyReport {
  std::string org;
  std::uint64_t log_size = 0;
  std::int64_t outbox_size = 0;
  std::uint64_t checkpoints = 0;
  ledger::Hash root{};
  // Filled by callers that also check the projection (registry::VerifyProjection).
  std::int64_t projection_certificates = 0;
  std::int64_t projection_unrecorded = 0;
};

class Evidence {
 public:
  static core::Result<std::unique_ptr<Evidence>> Open(const EvidenceOptions& options,
                                                      store::Store& store, KeyRing& keys,
                                                      const core::Clock& clock);
  ~Evidence();

  // Appends the outbox facts of `org` its log lacks; returns the durable log size.
  core::Result<std::uint64_t> Sync(core::OrgId org);
  // Sync for a caller whose write has just committed its facts: OK when they are durable
  // or queued for the process that owns the log (Sync's kUnavailable); any other failure
  // says the write is committed but not yet logged.
  core::Status SyncAfterWrite(core::OrgId org);
  // Sync for every organization; the first error (others still attempted).
  core::Status SyncAll();

  // Syncs, then signs a checkpoint of the current size with the org's current key and
  // appends it to checkpoints.log (unless the latest already has this size). Returns the
  // signed note.
  core::Result<std::string> Checkpoint(core::OrgId org);
  // The latest stored checkpoint note; kNotFound when none.
  core::Result<std::string> LatestCheckpoint(core::OrgId org);
  // The stored checkpoint of exactly `size`; kNotFound when none.
  core::Result<std::string> CheckpointAt(core::OrgId org, std::uint64_t size);
  // Merges a co-signature (e.g. the regulator's) into the stored checkpoint of the same
  // text; kNotFound when no checkpoint has that text.
  core::Status AddCosignatures(core::OrgId org, const std::string& cosigned_note);

  // Fact `seq` with its inclusion proof against the stored checkpoint of `tree_size`
  // (default: the latest checkpoint).
  core::Result<FactProof> Prove(core::OrgId org, std::uint64_t seq,
                                std::optional<std::uint64_t> tree_size = std::nullopt);
  core::Result<std::vector<ledger::Hash>> Consistency(core::OrgId org, std::uint64_t old_size,
                                                      std::uint64_t new_size);
  // Leaf hashes [from, from+count) — what a regulator receives instead of payloads.
  core::Result<std::vector<ledger::Hash>> LeafHashes(core::OrgId org, std::uint64_t from,
                                                     std::uint64_t count);

  // Full verification of one organization: log files (ledger::VerifyLogFiles), every
  // entry equal to its outbox row, every stored checkpoint's signature, root and
  // consistency with the previous one.
  core::Result<OrgVerifyReport> Verify(
      core::OrgId org,
      const std::function<void(std::uint64_t, std::uint64_t)>& progress = nullptr);

  // The organization's current signing key, created (and recorded as a "key.created"
  // fact) when it has none.
  core::Result<OrgKey> EnsureKey(core::OrgId org, const std::string& actor = "system");
  // Creates the next key version and records "key.rotated" (old and new verifier keys);
  // later checkpoints and QR codes are signed with the new key.
  core::Result<OrgKey> RotateKey(core::OrgId org, const std::string& actor);

  KeyRing& keys() { return keys_; }
  store::Store& store() { return store_; }
  ledger::HashAlg alg() const { return options_.alg; }
  std::string Origin(const std::string& org_code) const { return keys_.Origin(org_code); }
  core::Result<std::string> OrgCode(core::OrgId org);
  std::string LogDir(const std::string& org_code) const;

 private:
  struct OrgLog;
  Evidence(EvidenceOptions options, store::Store& store, KeyRing& keys, const core::Clock& clock);
  core::Result<OrgLog*> LogOf(core::OrgId org);
  core::Result<const std::vector<std::string>*> ReadCheckpoints(OrgLog& log);
  static void RememberCheckpoint(OrgLog& log, const std::string& text, std::string note);
  static core::Status StoreCheckpoint(OrgLog& log, const ledger::SignedNote& note);

  EvidenceOptions options_;
  store::Store& store_;
  KeyRing& keys_;
  const core::Clock& clock_;
  std::mutex mu_;  // guards logs_
  std::map<std::int64_t, std::unique_ptr<OrgLog>> logs_;
};

}  // namespace wg::evidence

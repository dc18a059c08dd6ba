#pragma once
// Supervision: the regulator's book of enrolled enterprises and the decisions it takes on
// the checkpoints they push (双链同步, docs/adr/0009-regulator-dual-chain.md). The regulator
// never sees fact payloads: it receives an enterprise's signed checkpoint, a consistency
// proof from the size it last accepted, and optionally the leaf hashes (fact digests) it
// has not yet seen. For every submission it decides, and names why:
//
//   - the note must be signed by a key enrolled for its origin, and the origin must be the
//     one the pushing enterprise authenticated as;
//   - a size below the accepted one is a ROLLBACK alert; the same size with another root,
//     or a consistency proof that fails, is a FORK alert (both checkpoints are kept as
//     evidence); neither is accepted;
//   - leaf hashes must continue the ones held (no gaps); whenever the held leaves reach the
//     size of an accepted checkpoint or of the submitted one, the root recomputed from
//     them (TreeAppender) must equal that checkpoint's root, else DIGEST_MISMATCH;
//   - on acceptance the note is co-signed with the regulator's SM2 key and returned.
//
// State lives in a directory (docs/formats/regulator.md):
//
//   DIR/regulator.key                 the regulator's SM2 private key (PKCS#8 PEM, 0600)
//   DIR/journal.wgr                   append-only records: enrolments, keys, acceptances,
//                                     alerts (u32be length | 4-byte check | JSON)
//   DIR/enterprises/<id>/leaves.bin   the leaf hashes held for enterprise <id>, 32 bytes each
//   DIR/LOCK                          flock()ed around every operation
//
// Every operation takes DIR/LOCK and first applies the records other processes appended
// (the CLI enrolling while the server runs), so several processes may share a directory.
// Writes are fsynced before a decision is returned. Open() cuts a torn journal tail and
// leaf hashes past the last acceptance (a crash mid-submission), and reports it in
// recovery(); a damaged record before the tail is kCorruption.
//
// The clock is injected (times of enrolment, acceptance and alerts). Thread-safety: all
// methods may be called concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/ledger/checkpoint.h"
#include "wg/ledger/merkle.h"

namespace wg::regulator {

// Why a submission was accepted or refused. Names (ReasonName) are the wire form.
enum class Reason : std::uint8_t {
  kAccepted,        // ACCEPTED: a new checkpoint, consistent with the last accepted
  kUnchanged,       // UNCHANGED: the accepted checkpoint again (more leaves, a retry)
  kMalformed,       // MALFORMED: note, proof or leaves do not parse
  kNotEnrolled,     // NOT_ENROLLED: no enterprise has the note's origin
  kOriginMismatch,  // ORIGIN_MISMATCH: the note names another origin than the pusher's
  kUnknownKey,      // UNKNOWN_KEY: no signature by a key enrolled for the origin
  kBadSignature,    // BAD_SIGNATURE: a signature by an enrolled key does not verify
  kStaleBase,       // STALE_BASE: the proof starts from a size other than the accepted one
  kLeafGap,         // LEAF_GAP: leaf hashes do not continue the held ones
  kRollback,        // ROLLBACK (alert): size below the accepted size
  kFork,            // FORK (alert): same size, other root; or the consistency proof fails
  kDigestMismatch,  // DIGEST_MISMATCH (alert): leaf hashes do not give the signed root
};
std::string_view ReasonName(Reason r);

enum class AlertKind : std::uint8_t {
  kRollback,
  kFork,
  kDigestMismatch,
  kSpotCheckFailed,  // SPOT_CHECK_FAILED: a fact's proof did not verify (spot_check.h)
};
std::string_view AlertKindName(AlertKind k);
core::Result<AlertKind> ParseAlertKind(std::string_view s);

struct Alert {
  std::uint64_t id = 0;  // 1, 2, ... in the order raised
  AlertKind kind = AlertKind::kFork;
  std::string origin;
  core::Timestamp time;
  std::string detail;                // what was found, with sizes and roots
  std::string held_checkpoint;       // the regulator's accepted note at the time (may be "")
  std::string submitted_checkpoint;  // the note that raised it (may be "")
};

struct LeafBatch {
  std::uint64_t from = 0;
  std::vector<ledger::Hash> hashes;
};

struct Submission {
  std::string note;                       // signed checkpoint note
  std::optional<std::uint64_t> old_size;  // size the proof starts from; default: accepted
  std::vector<ledger::Hash> consistency;  // proof from old_size to the note's size
  std::optional<LeafBatch> leaves;
};

struct Decision {
  Reason reason = Reason::kMalformed;
  std::string detail;               // one sentence naming what was checked and found
  std::string field;                // the input the reason is about, when one is
  std::string cosigned_note;        // accepted: the note with the regulator's signature
  std::uint64_t accepted_size = 0;  // the regulator's accepted size after this decision
  std::uint64_t leaves_held = 0;    // leaf hashes held after this decision
  std::optional<std::uint64_t> alert_id;
  bool accepted() const { return reason == Reason::kAccepted || reason == Reason::kUnchanged; }
};

struct EnrolledKey {
  std::string vkey;
  std::string name;
  core::Timestamp added;
};

struct EnterpriseView {
  std::uint64_t id = 0;
  std::string origin;
  ledger::HashAlg alg = ledger::HashAlg::kSm3;
  core::Timestamp enrolled;
  std::vector<EnrolledKey> keys;
  std::string checkpoint;    // accepted co-signed note; "" before the first
  std::uint64_t size = 0;    // its size
  ledger::Hash root{};       // its root
  core::Timestamp accepted;  // when it was accepted
  std::uint64_t leaves_held = 0;
  std::uint64_t alerts = 0;
};

struct SupervisionOptions {
  std::string dir;
  // Name of the regulator's note key when the directory is created; an existing
  // directory keeps its own. [!-~] without '+'.
  std::string key_name = "workguard-regulator";
  bool sync = true;  // fsync writes (tests may turn it off)
};

struct SupervisionRecovery {
  std::uint64_t truncated_journal_bytes = 0;
  std::uint64_t truncated_leaves = 0;  // leaf hashes cut past the last acceptance
  std::string detail;                  // empty when clean
};

class Supervision {
 public:
  static core::Result<std::unique_ptr<Supervision>> Open(const SupervisionOptions& options,
                                                         const core::Clock& clock);
  ~Supervision();
  Supervision(const Supervision&) = delete;
  Supervision& operator=(const Supervision&) = delete;

  // The regulator's verifier key (vkey text), for enterprises to pin.
  std::string VerifierKey() const;
  const std::string& key_name() const;
  const SupervisionRecovery& recovery() const { return recovery_; }

  // Enrolls `origin` with at least one verifier key; returns the push token, which is
  // shown once and stored only as its SHA-256. kAlreadyExists when enrolled.
  core::Result<std::string> Enroll(const std::string& origin, ledger::HashAlg alg,
                                   const std::vector<std::string>& vkeys);
  // Adds a verifier key to an enrolled origin (key rotation); recorded with its time.
  // kAlreadyExists when the key is enrolled already.
  core::Status AddKey(const std::string& origin, const std::string& vkey);
  // Replaces the push token of an enrolled origin (a lost or leaked token); returns the new
  // one, shown once. The old token stops working at once.
  core::Result<std::string> IssueToken(const std::string& origin);
  // The origin whose push token this is; kUnauthenticated otherwise.
  core::Result<std::string> AuthenticatePush(std::string_view token);

  // Decides on a submission from the enterprise authenticated as `pusher_origin`.
  // Every verdict, including refusals and alerts, is a Decision; a non-OK Status means
  // the regulator itself failed (I/O) and nothing was decided.
  core::Result<Decision> Submit(std::string_view pusher_origin, const Submission& s);

  // Records an alert found outside Submit (a failed spot check).
  core::Result<Alert> RaiseAlert(const std::string& origin, AlertKind kind, std::string detail,
                                 std::string submitted_checkpoint);

  core::Result<std::vector<EnterpriseView>> Enterprises();
  core::Result<EnterpriseView> Enterprise(const std::string& origin);
  // Alerts, oldest first; only those of `origin` when given.
  core::Result<std::vector<Alert>> Alerts(const std::optional<std::string>& origin = std::nullopt);
  // The leaf hash held for `seq` of `origin`; nullopt when not (yet) held.
  core::Result<std::optional<ledger::Hash>> HeldLeaf(const std::string& origin, std::uint64_t seq);

  struct Impl;

 private:
  explicit Supervision(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  SupervisionRecovery recovery_;
};

}  // namespace wg::regulator

#pragma once
// Book: the regulator's in-memory state (enterprises, accepted checkpoints, alerts) and
// the pure decision on a submission. No files, sockets or clocks: the journal records
// are applied to it (Apply*), and Evaluate() returns what to record without recording it
// (supervision.cc does the I/O). Held leaf hashes are read through a LeafReader, because
// they are too many to keep in memory; only the right edge of their Merkle tree
// (TreeAppender) is kept.
//
// Not thread-safe: Supervision serialises every call.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/ledger/checkpoint.h"
#include "wg/ledger/merkle.h"
#include "wg/regulator/supervision.h"

namespace wg::regulator::internal {

// Reads held leaf hashes of enterprise `id` (its leaves.bin).
class LeafReader {
 public:
  virtual ~LeafReader() = default;
  virtual core::Result<std::vector<ledger::Hash>> Read(std::uint64_t id, std::uint64_t from,
                                                       std::uint64_t count) = 0;
};

struct EnterpriseState {
  std::uint64_t id = 0;
  std::string origin;
  ledger::HashAlg alg = ledger::HashAlg::kSm3;
  core::Timestamp enrolled;
  std::string token_sha256;  // hex
  std::vector<EnrolledKey> keys;
  std::vector<ledger::NoteKey> verifiers;  // parallel to keys
  std::string note;                        // accepted co-signed note, "" before the first
  std::string note_text;                   // its text (the checkpoint body)
  ledger::Checkpoint checkpoint;           // parsed `note`
  core::Timestamp accepted;
  std::map<std::uint64_t, ledger::Hash> accepted_roots;  // size -> root, every acceptance
  std::uint64_t leaves_held = 0;
  ledger::Hash leaves_root{};  // recorded root over the held leaves
  std::uint64_t alerts = 0;
  std::optional<ledger::TreeAppender> appender;  // over held leaves; rebuilt on demand
};

// What Evaluate decided, and what must be written for it.
struct Evaluation {
  Decision decision;
  std::optional<Alert> alert;  // an alert to record (id assigned)
  // Acceptance to record (absent for refusals and for an unchanged retry with nothing new).
  struct Acceptance {
    std::string note;  // co-signed
    std::uint64_t leaves_from = 0;
    std::vector<ledger::Hash> new_leaves;  // to write at leaves_from
    std::uint64_t leaves_held = 0;
    ledger::Hash leaves_root{};
    std::optional<ledger::TreeAppender> appender;
  };
  std::optional<Acceptance> acceptance;
};

inline constexpr std::size_t kMaxLeavesPerSubmission = 10000;
inline constexpr std::size_t kMaxProofHashes = 128;

class Book {
 public:
  // Journal records (docs/formats/regulator.md). Each returns kCorruption naming the
  // record when it contradicts the state (an unknown origin, a duplicate id, ...).
  core::Status Apply(const core::Json& record);

  bool initialised() const { return !key_name_.empty(); }
  const std::string& key_name() const { return key_name_; }
  const std::string& vkey() const { return vkey_; }

  EnterpriseState* Find(std::string_view origin);
  const std::map<std::string, EnterpriseState, std::less<>>& enterprises() const {
    return enterprises_;
  }
  const std::vector<Alert>& alerts() const { return alerts_; }
  std::uint64_t next_enterprise_id() const { return enterprises_.size() + 1; }
  std::uint64_t next_alert_id() const { return alerts_.size() + 1; }

  // Decides on `s` pushed by `pusher_origin`; signs with `regulator` on acceptance.
  // Errors are failures to read held leaves (kIoError) or a held-leaf file that does not
  // give its recorded root (kCorruption), never a verdict.
  core::Result<Evaluation> Evaluate(std::string_view pusher_origin, const Submission& s,
                                    const ledger::NoteKey& regulator, core::Timestamp now,
                                    LeafReader& leaves);

  // Brings e.appender up to e.leaves_held leaves and checks it against e.leaves_root.
  core::Status EnsureAppender(EnterpriseState& e, LeafReader& leaves);

  // Record builders (the JSON written to the journal).
  static core::Json InitRecord(const std::string& key_name, const std::string& vkey,
                               core::Timestamp now);
  static core::Json EnrollRecord(std::uint64_t id, const std::string& origin, ledger::HashAlg alg,
                                 const std::vector<std::string>& vkeys,
                                 const std::string& token_sha256, core::Timestamp now);
  static core::Json TokenRecord(const std::string& origin, const std::string& token_sha256,
                                core::Timestamp now);
  static core::Json KeyRecord(const std::string& origin, const std::string& vkey,
                              core::Timestamp now);
  static core::Json AcceptRecord(const std::string& origin, const Evaluation::Acceptance& a,
                                 core::Timestamp now);
  static core::Json AlertRecord(const Alert& a);

  // Applies an acceptance decided in this process (keeps its appender).
  core::Status ApplyAcceptance(const std::string& origin, Evaluation::Acceptance a,
                               core::Timestamp now);

 private:
  core::Status ApplyInit(const core::Json& r);
  core::Status ApplyEnroll(const core::Json& r);
  core::Status ApplyKey(const core::Json& r);
  core::Status ApplyToken(const core::Json& r);
  core::Status AddVerifier(EnterpriseState& e, const std::string& vkey, core::Timestamp t);
  core::Status ApplyAccept(const core::Json& r);
  core::Status ApplyAlert(const core::Json& r);

  std::string key_name_;
  std::string vkey_;
  std::map<std::string, EnterpriseState, std::less<>> enterprises_;
  std::vector<Alert> alerts_;
};

}  // namespace wg::regulator::internal

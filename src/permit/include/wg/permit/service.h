#pragma once
// PermitService: the permit lifecycle over the store, the registry (certificates), the
// organization's evidence log and the users' SM2 signing keys. Every accepted action is
// one store transaction carrying its fact ("permit.created", "permit.signed",
// "permit.activated", ...; subject "permit:<number>"), synced into the evidence log before
// the call returns. Every action that the rulebook refuses is recorded too
// ("permit.refused", with the decision's rule ids) — a refused approval is evidence.
//
// Checks run with a Directory built per call over the store and registry, and against
// the in-memory OpenPermitIndex of every open permit (approved, active, suspended) of
// every organization, kept current by this service's writes and by CatchUp() for writes
// of other processes.
//
// Users' signing keys: SM2, generated on first signature, private key sealed with
// WGAE1 under DATA/keys/master.key (aad "wg-user-key|<org>|<user id>|<version>"), key id
// "<username>/k<n>"; recorded as "user_key.created". A signature requires the signer's
// password again (step-up): a stolen session token alone cannot sign.
//
// Thread-safety: all methods may be called concurrently.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/evidence/evidence.h"
#include "wg/permit/check.h"
#include "wg/permit/conflict.h"
#include "wg/permit/lifecycle.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::permit {

// Who acts. API calls carry the session's user; CLI calls "cli:<os user>" with no user.
struct Actor {
  std::string name;                     // "user:<username>" / "cli:<user>" / "system:expiry"
  std::optional<core::UserId> user_id;  // the account, when a person acts through the API
  std::string username;
  std::string role;                     // domain::Role name; "" for the CLI
};

// The result of a lifecycle action. When the rulebook blocks it, `applied` is false, the
// permit is unchanged (apart from additions that are observations: gas readings are kept
// even when they fail) and `decision` says why.
struct Outcome {
  bool applied = false;
  Permit permit;
  std::optional<Decision> decision;
  std::string fact_kind;  // the fact recorded
};

struct SignRequest {
  std::string role;      // the signature-chain step being signed
  std::string password;  // the signer's password (step-up)
  std::string opinion;   // 意见
  std::optional<Point> position;  // where the signer stands, when the device knows
};

struct ListQuery {
  store::PermitFilter filter;
  std::int64_t before_id = 0;
  int limit = 100;
};

// One event of a permit's history (a fact of the evidence log).
struct HistoryEvent {
  std::int64_t seq = 0;
  core::Timestamp time;
  std::string kind;
  std::string actor;
  core::Json payload;
};

// The answer of the verification page the printed QR code opens.
struct PermitVerification {
  bool found = false;
  bool digest_matches = false;   // the printed digest prefix matches the current content
  bool signatures_valid = false; // every signature verifies with its signer's key
  Permit permit;
  std::vector<bool> signature_valid;
  std::string content_digest;    // hex
};

// Authorization documents: {"scopes": [{"level", "types", "grades", "sites",
// "delegated_by", "reference", "valid_until"}]} (docs/formats/permit.md#authorizations).
// Strict; errors name "scopes[i].<member>". Levels must exist in the rulebook.
core::Result<std::vector<AuthorityScope>> ParseScopes(const PermitRulebook& book,
                                                      const core::Json& doc);
core::Json ScopesToJson(const std::vector<AuthorityScope>& scopes);
core::Json ToJson(const HistoryEvent& e);
core::Json ToJson(const PermitVerification& v);

class PermitService {
 public:
  // `master_key` (32 bytes) seals users' private keys. Store, registry, evidence,
  // rulebook and clock must outlive the service.
  PermitService(store::Store& store, registry::Registry& registry, evidence::Evidence& evidence,
                const PermitRulebook& book, const core::Clock& clock, std::string master_key);
  ~PermitService();
  PermitService(const PermitService&) = delete;
  PermitService& operator=(const PermitService&) = delete;

  // Builds the open-permit index and the approvers' track records from the store and the
  // facts. Until called, actions still work but the index starts empty (CLI one-shots
  // call it too: conflicts must be checked there as well).
  core::Status LoadIndex();
  // Applies permits and facts written by other processes since the last load/catch-up.
  core::Status CatchUp();
  std::size_t open_permits() const;

  // Dry run of the full rulebook and the conflict check (no write).
  core::Result<Decision> CheckDocument(core::OrgId org, const Permit& doc,
                                       std::optional<core::Timestamp> at,
                                       std::optional<Stage> stage);

  // Lifecycle. Each validates its input, checks the transition, runs the rulebook at the
  // action's stage and records the fact.
  core::Result<Outcome> Create(core::OrgId org, const Permit& doc, const Actor& actor);
  core::Result<Outcome> Edit(core::OrgId org, std::int64_t id, const Permit& doc,
                             std::int64_t expected_version, const Actor& actor);
  core::Result<Outcome> Submit(core::OrgId org, std::int64_t id, const Actor& actor);
  // The caller confirms in person that safety measure `code` is in place (安全措施确认人):
  // the measure records them and the instant. Only before the first signature — the
  // signatures cover the measures, so a later confirmation would alter signed content.
  core::Result<Outcome> ConfirmMeasure(core::OrgId org, std::int64_t id, const std::string& code,
                                       const Actor& actor);
  core::Result<Outcome> RecordGas(core::OrgId org, std::int64_t id,
                                  const std::vector<GasReading>& readings, const Actor& actor);
  core::Result<Outcome> Sign(core::OrgId org, std::int64_t id, const SignRequest& request,
                             const Actor& actor);
  core::Result<Outcome> Activate(core::OrgId org, std::int64_t id, const Actor& actor);
  core::Result<Outcome> Suspend(core::OrgId org, std::int64_t id, const std::string& reason,
                                const Actor& actor);
  core::Result<Outcome> Resume(core::OrgId org, std::int64_t id, const Actor& actor);
  core::Result<Outcome> Complete(core::OrgId org, std::int64_t id, const std::string& note,
                                 const Actor& actor);
  core::Result<Outcome> Cancel(core::OrgId org, std::int64_t id, const std::string& reason,
                               const Actor& actor);
  // An incident on a permit (counts against the approver's track record).
  core::Result<Outcome> RecordIncident(core::OrgId org, std::int64_t id,
                                       const std::string& description, const Actor& actor);
  // Expires every open or pending permit whose planned end has passed (all
  // organizations); returns how many. The server calls it every second.
  core::Result<int> ExpireDue();

  core::Result<Permit> Get(core::OrgId org, std::int64_t id);
  core::Result<Permit> GetByNumber(core::OrgId org, const std::string& number);
  core::Result<std::vector<Permit>> List(core::OrgId org, const ListQuery& query);
  core::Result<std::vector<HistoryEvent>> History(core::OrgId org, std::int64_t id);
  // For the QR verification page: `digest_prefix` is the printed first 16 hex characters.
  core::Result<PermitVerification> Verify(core::OrgId org, const std::string& number,
                                          const std::string& digest_prefix);

  // Approver authorizations (docs/formats/permit.md#authorizations).
  core::Result<std::vector<AuthorityScope>> GetAuthorization(core::OrgId org,
                                                             const std::string& username);
  core::Status PutAuthorization(core::OrgId org, const std::string& username,
                                const std::vector<AuthorityScope>& scopes, const Actor& actor);

  // The user's current public key ("<username>/k<n>", PEM), creating the key pair when
  // the user has none.
  struct UserKeyInfo {
    std::string key_id;
    std::string public_pem;
    bool created = false;
  };
  core::Result<UserKeyInfo> EnsureUserKey(core::OrgId org, const std::string& username,
                                          const Actor& actor);

  const PermitRulebook& rulebook() const { return book_; }

  // A guard consulted by Resume before the rulebook: returns why the permit may not
  // resume yet (live monitoring: an alarm of its zone still active, or no gas re-test
  // since the alarm cleared), or nullopt. A refusal is recorded as "permit.refused" with
  // rule "monitor.resume_guard". Set once at start, before concurrent use.
  using ResumeGuard = std::function<std::optional<std::string>(core::OrgId, const Permit&)>;
  void SetResumeGuard(ResumeGuard guard) { resume_guard_ = std::move(guard); }

  // Where a user's tag last placed them on a site (people on site): position in the site
  // frame and its time, or nullopt. Consulted by the approver_on_site rule, so an approval
  // signed away from the work is refused whenever the approver's position is known. Set
  // once at start, before concurrent use.
  using PositionSource = std::function<std::optional<std::pair<Point, core::Timestamp>>(
      core::OrgId, const std::string& site, const std::string& username)>;
  void SetPositionSource(PositionSource source) { position_source_ = std::move(source); }

  // A guard consulted by Complete: a violation when the permit may not be completed yet
  // (people on site: someone, or a declared tool, still inside a confined space). The
  // refusal is recorded as "permit.refused" with the violation's rule. Set once at start.
  using CompleteGuard = std::function<std::optional<Violation>(core::OrgId, const Permit&)>;
  void SetCompleteGuard(CompleteGuard guard) { complete_guard_ = std::move(guard); }

  class DirectoryImpl;  // the Directory over store + registry (service.cc)

 private:
  struct Record;  // an approver's track record
  friend class DirectoryImpl;

  core::Result<Permit> Load(core::OrgId org, std::int64_t id, std::int64_t* version);
  core::Result<Permit> FromRow(const store::PermitRow& row);
  store::PermitRow ToRow(core::OrgId org, const Permit& p);
  // Runs the rulebook for `p` at `stage` as of `at`.
  Decision RunCheck(core::OrgId org, const Permit& p, core::Timestamp at,
                    std::optional<Stage> stage, std::optional<core::Duration> break_length,
                    const std::optional<std::pair<std::string, Point>>& position = {});
  // Writes `p` (CAS on `version`) with its fact, updates the index, syncs evidence.
  core::Result<Permit> Save(core::OrgId org, Permit p, std::int64_t version,
                            const std::string& kind, core::Json payload, const Actor& actor);
  core::Status RecordRefusal(core::OrgId org, const Permit& p, Action action,
                             const Decision& d, const Actor& actor);
  core::Json FactPayload(const Permit& p, core::Json extra) const;
  void IndexUpsert(const Permit& p);
  void ApplyFact(const store::StoredFact& f);
  // Applies `org`'s track-record facts recorded since the last call (after each write, and
  // for every organization in CatchUp).
  core::Status ApplyRecordFacts(core::OrgId org);
  core::Result<std::optional<crypto::Sm2PublicKey>> PublicKeyFor(core::OrgId org,
                                                                 const std::string& key_id);
  core::Result<std::string> OrgCode(core::OrgId org);
  bool GasNeeded(const Permit& p) const;

  store::Store& store_;
  registry::Registry& registry_;
  evidence::Evidence& evidence_;
  const PermitRulebook& book_;
  const core::Clock& clock_;
  std::string master_key_;
  ResumeGuard resume_guard_;
  PositionSource position_source_;
  CompleteGuard complete_guard_;

  mutable std::shared_mutex mu_;  // guards index_, records_, fact_seq_, revision_
  OpenPermitIndex index_;
  std::map<std::pair<std::int64_t, std::string>, std::unique_ptr<Record>> records_;
  std::map<std::int64_t, std::int64_t> fact_seq_;  // org -> next fact seq applied
  std::int64_t revision_ = 0;
  std::mutex key_mu_;  // serializes key creation
  std::map<std::string, crypto::Sm2PublicKey> key_cache_;  // "<org>|<key id>"
};

}  // namespace wg::permit

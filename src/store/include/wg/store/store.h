#pragma once
// Store: the persistence interface every caller uses; backends implement it.
//
// Contract
// - Every method is one transaction: it either commits completely or changes nothing.
//   ImportBatch commits a whole batch (thousands to millions of rows) atomically.
// - Every read and write of tenant data takes the caller's OrgId and filters by it; a
//   row of another organization is reported as kNotFound, never returned. This is the
//   second wall behind the API's role checks.
// - Errors: kNotFound, kAlreadyExists (unique key), kInvalidArgument (foreign key or
//   check violated), kUnavailable (busy past the timeout), kIoError, kCorruption.
// - Implementations are thread-safe: one Store is shared by all server threads.
// - Every worker, certificate and permit write bumps a store-wide revision counter and
//   stamps the row with it, so an in-memory index can catch up with ChangesSince(rev) or
//   PermitChangesSince(rev) after another process (the CLI) wrote to the same data
//   directory.
// - Callbacks the store calls (ScanAll, ScanPermits, CreatePermitWith) run while the store
//   holds its lock: calling back into the store from one is kFailedPrecondition.
//
// The SQLite backend lives in sqlite/ (OpenSqliteStore); a PostgreSQL backend comes
// later behind the same interface (docs/adr/0002-store-interface.md).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/domain/types.h"

namespace wg::store {

using core::Result;
using core::Status;

struct NewOrganization {
  std::string code;
  std::string name;
};

struct NewSite {
  std::string code;
  std::string name;
  std::string address;
};

// A bearer token's server-side record. The token itself is never stored: only
// SHA-256(token), hex.
struct TokenRecord {
  std::string token_digest;
  core::UserId user_id;
  core::OrgId org_id;
  core::Timestamp issued_at;
  core::Timestamp expires_at;
};

struct Page {
  std::int64_t after_id = 0;  // keyset pagination: rows with id > after_id
  int limit = 100;            // 1..1000
};

// One worker row of an import batch, upserted by (org, code).
struct ImportWorker {
  domain::Worker worker;  // id ignored; matched by code
};

// A batch to commit atomically. Certificates reference workers by code
// (`worker_code`), resolved inside the transaction.
struct ImportCertificate {
  std::string worker_code;
  domain::Certificate certificate;  // id, worker_id ignored
};

struct ImportSummary {
  std::int64_t workers_created = 0;
  std::int64_t workers_updated = 0;
  std::int64_t certificates_created = 0;
  std::int64_t certificates_updated = 0;
};

// A fact to record in the same transaction as a write (docs/adr/0007-facts-outbox.md).
// The store assigns the organization's next sequence number and the time; the evidence
// service later copies the fact into the organization's evidence log at leaf index seq.
//   kind     [a-z0-9_.]{1,64}, e.g. "cert.issued"
//   actor    who caused it, 1..128 bytes: "user:<username>", "cli:<os user>", "system"
//   subject  what it is about, 1..256 bytes: "cert:<kind>/<number>", "worker:<code>"
//   site     site code or "" (1..64 bytes when set)
//   payload  canonical JSON (sorted keys, no whitespace), at most 1 MiB, valid UTF-8
struct FactDraft {
  std::string kind;
  std::string actor;
  std::string subject;
  std::string site;
  std::string payload;
};
using FactDrafts = std::vector<FactDraft>;

// A fact as recorded in the outbox.
struct StoredFact {
  core::OrgId org_id;
  std::int64_t seq = 0;
  core::Timestamp time;
  std::string site;
  std::string kind;
  std::string actor;
  std::string subject;
  std::string payload;
};

// Checks a draft; kInvalidArgument naming "facts[i].<field>".
Status ValidateFactDraft(const FactDraft& f, std::size_t i);

// A worker or certificate row changed at `revision`.
struct Change {
  std::int64_t revision = 0;
  std::optional<domain::Worker> worker;
  std::optional<domain::Certificate> certificate;
};

// A bulk import spanning many chunks in ONE transaction (a 30-million-row CSV is streamed
// in chunks of e.g. 50,000 rows but must commit all or nothing). While a session is open
// it holds the store's write lock; other writers wait. Destroying a session without
// Commit() rolls everything back. Worker codes resolve across chunks (a certificate in
// chunk 9 may name a worker created in chunk 1). Not thread-safe itself.
class ImportSession {
 public:
  virtual ~ImportSession() = default;
  // `facts` are recorded in the same transaction (typically one per row).
  virtual Status Add(const std::vector<ImportWorker>& workers,
                     const std::vector<ImportCertificate>& certs, const FactDrafts& facts) = 0;
  Status Add(const std::vector<ImportWorker>& workers,
             const std::vector<ImportCertificate>& certs) {
    return Add(workers, certs, {});
  }
  virtual Result<ImportSummary> Commit() = 0;
};

// A permit as the store keeps it: indexed columns plus the full document (JSON text in
// docs/formats/permit.md; the store does not parse it). `version` increases by one on
// every update; UpdatePermit is compare-and-set on it.
// Checked on every write (kInvalidArgument naming the field): site, type and state 1..64
// bytes, grade 0..64 bytes (UTF-8, no control characters); document at most 1 MiB of
// valid UTF-8.
struct PermitRow {
  std::int64_t id = 0;
  core::OrgId org_id;
  std::string number;      // unique per organization; assigned by CreatePermit
  std::string site;        // site code
  std::string type;        // permit type code
  std::string grade;       // "" when ungraded
  std::string state;       // state code
  core::Timestamp planned_start;
  core::Timestamp planned_end;
  std::int64_t version = 1;
  std::string document;    // JSON
  core::Timestamp created_at;
  core::Timestamp updated_at;
};

struct PermitFilter {
  std::vector<std::string> states;  // empty: any
  std::string site;                 // "": any
  std::string type;
  std::string grade;
  // Windows overlapping [from, to) (either bound optional).
  std::optional<core::Timestamp> from;
  std::optional<core::Timestamp> to;
};

// A user's SM2 signing key: the private key sealed (WGAE1) by the caller, never in clear.
struct UserKeyRow {
  core::OrgId org_id;
  core::UserId user_id;
  int version = 1;
  std::string public_pem;
  std::string sealed_private;  // bytes
  core::Timestamp created_at;
};


// --- Live monitoring (schema v5) --------------------------------------------------------

// A monitoring point's configuration: indexed columns plus the JSON document
// (docs/formats/monitor-points.md; the store does not parse it). `version` starts at 1.
struct PointRow {
  core::OrgId org_id;
  std::string id;        // [A-Za-z0-9._-]{1,64}, unique per organization
  std::string site;      // 1..64
  std::string kind;      // 1..64
  std::string document;  // JSON, <= 64 KiB
  std::int64_t version = 0;
  bool deleted = false;  // a removed point keeps its row (alarms and blocks name it)
  core::Timestamp updated_at;
};

// An alarm's current state: indexed columns plus the JSON document (monitor::ToJson(Alarm)).
// Upserted by (org_id, id); ids are assigned by the monitor engine.
struct AlarmRow {
  std::int64_t id = 0;
  core::OrgId org_id;
  std::string site, point, rule;
  int level = 1;          // 1 blue, 2 yellow, 3 red
  std::string state;      // "active_unacked", "active_acked", "cleared_unacked", "cleared_acked"
  core::Timestamp raised_at;
  core::Timestamp updated_at;
  std::string document;   // JSON, <= 64 KiB
};

struct AlarmFilter {
  std::vector<std::string> states;  // empty: any (<= 4)
  std::string site, point;
  int min_level = 0;
  std::optional<core::Timestamp> from, to;  // raised_at in [from, to)
};

// A sealed block of readings (docs/formats/reading-block.md). Unique per
// (org_id, point, minute, part).
struct ReadingBlockRow {
  core::OrgId org_id;
  std::string point, site;
  core::Timestamp minute;
  int part = 0;
  core::Timestamp first, last;
  std::int64_t count = 0;
  double min = 0, max = 0;
  std::string data;     // WGRB1 bytes, <= 4 MiB
  std::string sm3_hex;  // 64 hex
  std::int64_t fact_seq = -1;  // seq of the "readings.sealed" fact holding the digest
                               // (set by the store: the seq of the facts it records with
                               // the blocks, see AppendReadingBlocks)
};

// A notification to deliver (outbox other channels read; webhooks are delivered by the
// service and marked here).
struct NotificationRow {
  std::int64_t id = 0;     // assigned by the store
  core::OrgId org_id;
  std::string channel;     // "outbox" (read by other channels) / "webhook"
  std::string target;      // role name, user, or URL
  std::string subject;     // "alarm:<id>"
  std::string payload;     // JSON, <= 64 KiB
  core::Timestamp created_at;
  core::Timestamp next_attempt_at;
  int attempts = 0;
  std::optional<core::Timestamp> delivered_at;
  std::string last_error;
};

// --- People on site (schema v6) ----------------------------------------------------------
// A presence configuration object: a tag, a zone fence, a site frame or a site plan (kind
// "tag", "fence", "site_frame", "site_plan" (schema v7)), stored as its JSON document
// (presence::ToJson) with indexed columns. Same create/replace/delete semantics as points.
struct PresenceObjectRow {
  core::OrgId org_id;
  std::string kind;      // "tag" | "fence" | "site_frame" | "site_plan"
  std::string id;        // [A-Za-z0-9._-]{1,64} (a site frame's or plan's id is its site code)
  std::string site;      // 1..64
  std::string document;  // JSON, <= 256 KiB (a site plan: <= 1 MiB)
  std::int64_t version = 0;
  bool deleted = false;
  core::Timestamp updated_at;
};

// A tag <-> person binding (history kept: a binding is ended, never deleted).
struct TagBindingRow {
  std::int64_t id = 0;       // assigned by the store
  core::OrgId org_id;
  std::string tag;
  std::string person;        // "worker:<code>" / "user:<username>", 1..80
  core::Timestamp valid_from;
  std::optional<core::Timestamp> valid_until;  // exclusive; nullopt = open
  std::string note;          // <= 256 bytes
  core::Timestamp created_at;
};

// A sealed trajectory block (presence::SealedTrajectory), like ReadingBlockRow.
struct TrajectoryBlockRow {
  core::OrgId org_id;
  std::string tag, site;
  core::Timestamp minute;
  int part = 0;
  core::Timestamp first, last;
  std::int64_t count = 0;
  std::string data;     // WGTB1 bytes, <= 4 MiB
  std::string sm3_hex;  // 64 hex
  std::int64_t fact_seq = -1;
};

class Store {
 public:
  virtual ~Store() = default;

  // Schema version after migrations (see docs/formats/sqlite-schema.md).
  virtual int SchemaVersion() const = 0;
  // Installation-wide key/value settings (e.g. the ID-digest key is kept outside the DB;
  // settings hold non-secret values such as the demo flag).
  virtual Result<std::optional<std::string>> GetSetting(const std::string& key) = 0;
  virtual Status PutSetting(const std::string& key, const std::string& value) = 0;

  // Organizations and sites.
  // Write methods take the facts to record in the same transaction (see FactDraft);
  // the overloads without facts are for tests and tools that write no evidence.
  virtual Result<domain::Organization> CreateOrganization(const NewOrganization& org,
                                                          const FactDrafts& facts) = 0;
  Result<domain::Organization> CreateOrganization(const NewOrganization& org) {
    return CreateOrganization(org, {});
  }
  virtual Result<domain::Organization> GetOrganization(core::OrgId id) = 0;
  virtual Result<domain::Organization> FindOrganizationByCode(const std::string& code) = 0;
  virtual Result<std::vector<domain::Organization>> ListOrganizations() = 0;
  virtual Result<domain::Site> CreateSite(core::OrgId org, const NewSite& site,
                                          const FactDrafts& facts) = 0;
  Result<domain::Site> CreateSite(core::OrgId org, const NewSite& site) {
    return CreateSite(org, site, {});
  }
  virtual Result<std::vector<domain::Site>> ListSites(core::OrgId org) = 0;

  // Users and tokens.
  virtual Result<domain::User> CreateUser(const domain::User& user,  // id ignored
                                          const FactDrafts& facts) = 0;
  Result<domain::User> CreateUser(const domain::User& user) { return CreateUser(user, {}); }
  virtual Result<domain::User> GetUser(core::OrgId org, core::UserId id) = 0;
  // Usernames are unique across the installation (login does not name the org).
  virtual Result<domain::User> FindUserByUsername(const std::string& username) = 0;
  virtual Result<std::vector<domain::User>> ListUsers(core::OrgId org) = 0;
  virtual Status SaveToken(const TokenRecord& token) = 0;
  virtual Result<TokenRecord> FindToken(const std::string& token_digest) = 0;
  virtual Status DeleteToken(const std::string& token_digest) = 0;
  virtual Result<std::int64_t> DeleteExpiredTokens(core::Timestamp now) = 0;

  // Workers.
  virtual Result<domain::Worker> CreateWorker(const domain::Worker& worker,  // id ignored
                                              const FactDrafts& facts) = 0;
  Result<domain::Worker> CreateWorker(const domain::Worker& worker) {
    return CreateWorker(worker, {});
  }
  virtual Result<domain::Worker> GetWorker(core::OrgId org, core::WorkerId id) = 0;
  virtual Result<domain::Worker> FindWorkerByCode(core::OrgId org, const std::string& code) = 0;
  // The worker whose national-ID lookup digest is `id_lookup` (domain::Worker::id_lookup).
  virtual Result<domain::Worker> FindWorkerByIdLookup(core::OrgId org,
                                                      const std::string& id_lookup) = 0;
  virtual Result<std::vector<domain::Worker>> ListWorkers(core::OrgId org, const Page& page) = 0;
  virtual Status UpdateWorkerStatus(core::OrgId org, core::WorkerId id,
                                    domain::WorkerStatus status, const FactDrafts& facts) = 0;
  Status UpdateWorkerStatus(core::OrgId org, core::WorkerId id, domain::WorkerStatus status) {
    return UpdateWorkerStatus(org, id, status, {});
  }

  // Certificates.
  virtual Result<domain::Certificate> CreateCertificate(const domain::Certificate& cert,
                                                        const FactDrafts& facts) = 0;
  Result<domain::Certificate> CreateCertificate(const domain::Certificate& cert) {
    return CreateCertificate(cert, {});
  }
  virtual Result<domain::Certificate> GetCertificate(core::OrgId org, core::CertificateId id) = 0;
  virtual Result<std::vector<domain::Certificate>> ListCertificatesOfWorker(
      core::OrgId org, core::WorkerId worker) = 0;
  // Replaces the mutable fields (status, reason, last_review_date, practice_since,
  // review_extension_granted, violations, expiry_date) of an existing certificate.
  virtual Result<domain::Certificate> UpdateCertificate(const domain::Certificate& cert,
                                                        const FactDrafts& facts) = 0;
  Result<domain::Certificate> UpdateCertificate(const domain::Certificate& cert) {
    return UpdateCertificate(cert, {});
  }

  // Bulk import: every row or none. ImportBatch is BeginImport + one Add + Commit.
  virtual Result<std::unique_ptr<ImportSession>> BeginImport(core::OrgId org) = 0;
  virtual Result<ImportSummary> ImportBatch(core::OrgId org,
                                            const std::vector<ImportWorker>& workers,
                                            const std::vector<ImportCertificate>& certs) = 0;

  // Streams every worker and certificate of every organization (index build at start).
  // The callback returns false to stop early. Returns the revision the scan reflects.
  virtual Result<std::int64_t> ScanAll(
      const std::function<bool(const domain::Worker&)>& on_worker,
      const std::function<bool(const domain::Certificate&)>& on_cert) = 0;
  // Rows changed after `revision`, oldest first, at most `limit`.
  virtual Result<std::vector<Change>> ChangesSince(std::int64_t revision, int limit) = 0;
  virtual Result<std::int64_t> CurrentRevision() = 0;

  // Facts (the outbox of the evidence logs).
  // Records facts that accompany no other write (key rotation, vault events).
  virtual Status AppendFacts(core::OrgId org, const FactDrafts& facts) = 0;
  // Facts of `org` with seq >= from_seq, in seq order, at most `limit` (1..100000).
  virtual Result<std::vector<StoredFact>> FactsFrom(core::OrgId org, std::int64_t from_seq,
                                                    int limit) = 0;
  // Facts of `org` about `subject` with seq >= from_seq, in seq order, at most `limit`.
  virtual Result<std::vector<StoredFact>> FactsAbout(core::OrgId org, const std::string& subject,
                                                     std::int64_t from_seq, int limit) = 0;
  // Facts of `org` whose kind is one of `kinds` (1..16 kinds), with seq >= from_seq, in seq
  // order, at most `limit` (1..100000). Served by an index on (org_id, kind, seq).
  virtual Result<std::vector<StoredFact>> FactsOfKinds(core::OrgId org,
                                                       const std::vector<std::string>& kinds,
                                                       std::int64_t from_seq, int limit) = 0;
  // Number of facts of `org` (= the next seq).
  virtual Result<std::int64_t> FactCount(core::OrgId org) = 0;

  // Permits (schema v4). CreatePermit assigns the id and the number: `number_prefix`
  // ([A-Z0-9-]{1,32}, else kInvalidArgument "number_prefix") followed by a 4-digit (or
  // longer) sequence unique per (organization, prefix), e.g.
  // "DH-20261129-" -> "DH-20261129-0001"; row.id, row.number and row.version are ignored
  // (the version starts at 1), created_at/updated_at left at 0 become the store's now.
  // A number already taken (one prefix extending another with digits) is skipped. The
  // row's document is stored as given; the caller rewrites it with the assigned id/number
  // via UpdatePermit, passes a document without them, or uses CreatePermitWith.
  // A missing organization is kInvalidArgument naming "org_id".
  virtual Result<PermitRow> CreatePermit(const PermitRow& row, const std::string& number_prefix,
                                         const FactDrafts& facts) = 0;
  // The same, when the facts (and the stored document) need the assigned id and number:
  // inside the transaction, after assigning them, the store calls `finish(row, facts)`
  // with the row carrying the id and number; `finish` may rewrite row.document and adds
  // the facts; an error from it rolls everything back. Only row.document is taken back
  // from `assigned`. `finish` runs under the store's lock and must not call the store.
  using PermitFinisher = std::function<Status(PermitRow& assigned, FactDrafts& facts)>;
  virtual Result<PermitRow> CreatePermitWith(const PermitRow& row,
                                             const std::string& number_prefix,
                                             const PermitFinisher& finish) {
    (void)row;
    (void)number_prefix;
    (void)finish;
    return Status::Internal("CreatePermitWith is not implemented by this store");
  }
  // Replaces the mutable columns (site, type, grade, state, planned window, document) of
  // permit row.id of row.org_id when its stored version equals `expected_version`
  // (>= 1, else kInvalidArgument "version"); the stored version becomes
  // expected_version + 1 and updated_at the store's now. id, org_id, number and
  // created_at never change; row.version is ignored. Returns the stored row.
  // kFailedPrecondition naming "version" (the message names the stored version) when it
  // differs: someone else changed it first, and the write and its facts are dropped.
  // kNotFound when absent or of another organization.
  virtual Result<PermitRow> UpdatePermit(const PermitRow& row, std::int64_t expected_version,
                                         const FactDrafts& facts) = 0;
  virtual Result<PermitRow> GetPermit(core::OrgId org, std::int64_t id) = 0;
  virtual Result<PermitRow> FindPermitByNumber(core::OrgId org, const std::string& number) = 0;
  // Newest first (id descending), keyset pagination: rows with id < before_id, or from the
  // newest when before_id is 0 (negative: kInvalidArgument). At most `limit` (1..1000).
  // Filters combine with AND; at most 16 states.
  virtual Result<std::vector<PermitRow>> ListPermits(core::OrgId org, const PermitFilter& filter,
                                                     std::int64_t before_id, int limit) = 0;
  // Every permit in one of `states` (empty: every permit), all organizations, in id order
  // (index build at start); `on_row` returns false to stop early. Reads one snapshot; to
  // catch up afterwards read CurrentRevision() before the scan and continue with
  // PermitChangesSince from it (a change between the two is seen twice, never missed).
  virtual Status ScanPermits(const std::vector<std::string>& states,
                             const std::function<bool(const PermitRow&)>& on_row) = 0;
  // Permits changed (created or updated) after `revision` (the store-wide revision counter
  // shared with workers and certificates), oldest change first, at most `limit`: how a
  // server's open-permit index catches up with permits the CLI wrote. A permit written
  // several times appears once, at its latest revision. `limit` 1..100000.
  struct PermitChange {
    std::int64_t revision = 0;
    PermitRow row;
  };
  virtual Result<std::vector<PermitChange>> PermitChangesSince(std::int64_t revision,
                                                               int limit) = 0;

  // Users' signing keys (schema v4). key.version must be exactly the user's latest + 1
  // (1 for the first): an existing version is kAlreadyExists, a gap kFailedPrecondition,
  // both naming "version". A user not of key.org_id is kNotFound naming "user_id".
  // public_pem 1..64 KiB UTF-8, sealed_private 1..64 KiB bytes; created_at 0 = now.
  virtual Status AddUserKey(const UserKeyRow& key, const FactDrafts& facts) = 0;
  // Oldest first; empty when the user has none; kNotFound for a user of another org.
  virtual Result<std::vector<UserKeyRow>> ListUserKeys(core::OrgId org, core::UserId user) = 0;

  // Approver authorizations (schema v4): one JSON document per user (the caller's format,
  // docs/formats/permit.md#authorizations, at most 1 MiB of UTF-8; the store does not
  // parse it); "" removes it (removing none is fine). The user must belong to `org`, else
  // kNotFound naming "user_id" (also for GetAuthorization, which returns nullopt when the
  // user has none).
  virtual Status PutAuthorization(core::OrgId org, core::UserId user, const std::string& scope_json,
                                  const FactDrafts& facts) = 0;
  virtual Result<std::optional<std::string>> GetAuthorization(core::OrgId org,
                                                              core::UserId user) = 0;


  // --- Live monitoring (schema v5) ----------------------------------------------------
  // Points: create (expected_version 0: kAlreadyExists when a live row exists; a deleted
  // row is revived) or replace (compare-and-set: kFailedPrecondition naming "version").
  // Returns the stored row (version bumped). kInvalidArgument naming the field for bad
  // ids/sizes; a missing organization is kInvalidArgument "org_id".
  virtual Result<PointRow> PutPoint(const PointRow& row, std::int64_t expected_version,
                                    const FactDrafts& facts) = 0;
  // Marks deleted (kNotFound when absent or already deleted).
  virtual Status DeletePoint(core::OrgId org, const std::string& id, const FactDrafts& facts) = 0;
  virtual Result<PointRow> GetPoint(core::OrgId org, const std::string& id) = 0;
  // Live (not deleted) points of `org`, by id.
  virtual Result<std::vector<PointRow>> ListPoints(core::OrgId org) = 0;
  // Every live point of every organization (engine load at start).
  virtual Status ScanPoints(const std::function<bool(const PointRow&)>& on_row) = 0;

  // Alarms: upserts every row, records the notifications and the facts, one transaction.
  virtual Status RecordAlarms(const std::vector<AlarmRow>& alarms,
                              const std::vector<NotificationRow>& notifications,
                              core::OrgId org, const FactDrafts& facts) = 0;
  virtual Result<AlarmRow> GetAlarm(core::OrgId org, std::int64_t id) = 0;
  // Newest first (id descending), rows with id < before_id (0: from the newest), <= limit
  // (1..1000).
  virtual Result<std::vector<AlarmRow>> ListAlarms(core::OrgId org, const AlarmFilter& filter,
                                                   std::int64_t before_id, int limit) = 0;
  // Every alarm not cleared_acked, all organizations (engine restore at start).
  virtual Result<std::vector<AlarmRow>> OpenAlarms() = 0;
  virtual Result<std::int64_t> MaxAlarmId() = 0;  // 0 when none

  // Sealed blocks with their facts, one transaction; every block's fact_seq is set to the
  // seq of the first fact of `facts` plus the index given in `fact_index[i]` (the fact
  // that lists block i). kAlreadyExists when a (point, minute, part) exists.
  virtual Status AppendReadingBlocks(core::OrgId org, const std::vector<ReadingBlockRow>& blocks,
                                     const std::vector<int>& fact_index,
                                     const FactDrafts& facts) = 0;
  // Blocks of a point whose minute is in [from, to), oldest first, <= limit (1..10000).
  virtual Result<std::vector<ReadingBlockRow>> ReadingBlocks(core::OrgId org,
                                                             const std::string& point,
                                                             core::Timestamp from,
                                                             core::Timestamp to, int limit) = 0;

  // Notifications: due (next_attempt_at <= now, not delivered, attempts < max_attempts),
  // oldest first, all organizations, channel "webhook" only.
  virtual Result<std::vector<NotificationRow>> DueNotifications(core::Timestamp now,
                                                                int max_attempts, int limit) = 0;
  // Records one delivery attempt: delivered (delivered_at = now) or failed (attempts + 1,
  // last_error, next_attempt_at).
  virtual Status MarkNotification(std::int64_t id, bool delivered, core::Timestamp now,
                                  core::Timestamp next_attempt_at, const std::string& error) = 0;
  // The outbox of `org`, id ascending from after_id, <= limit (1..1000).
  virtual Result<std::vector<NotificationRow>> ListNotifications(core::OrgId org,
                                                                 std::int64_t after_id,
                                                                 int limit) = 0;
  virtual Result<std::int64_t> CountPendingNotifications() = 0;

  // --- People on site (schema v6) ------------------------------------------------------
  // Create (expected_version 0: kAlreadyExists when a live row of (org, kind, id) exists;
  // a deleted one is revived) or replace (CAS: kFailedPrecondition naming "version").
  virtual Result<PresenceObjectRow> PutPresenceObject(const PresenceObjectRow& row,
                                                      std::int64_t expected_version,
                                                      const FactDrafts& facts) = 0;
  // Marks deleted (kNotFound when absent or already deleted).
  virtual Status DeletePresenceObject(core::OrgId org, const std::string& kind,
                                      const std::string& id, const FactDrafts& facts) = 0;
  virtual Result<PresenceObjectRow> GetPresenceObject(core::OrgId org, const std::string& kind,
                                                      const std::string& id) = 0;
  // Live objects of one kind of `org`, by id.
  virtual Result<std::vector<PresenceObjectRow>> ListPresenceObjects(core::OrgId org,
                                                                     const std::string& kind) = 0;
  // Every live object of every organization (engine load at start), kind then id order.
  virtual Status ScanPresenceObjects(
      const std::function<bool(const PresenceObjectRow&)>& on_row) = 0;

  // Bindings. AddTagBinding: kInvalidArgument naming the field for a bad row; the tag must
  // exist (live) in the organization ("tag"); kFailedPrecondition when the window
  // overlaps another binding of the same tag. Returns the row with its id.
  virtual Result<TagBindingRow> AddTagBinding(const TagBindingRow& row,
                                              const FactDrafts& facts) = 0;
  // Sets valid_until of an open binding (kNotFound; kFailedPrecondition when already
  // ended or `until` <= valid_from).
  virtual Result<TagBindingRow> EndTagBinding(core::OrgId org, std::int64_t id,
                                              core::Timestamp until, const FactDrafts& facts) = 0;
  // Bindings of `org` ("" tag = every tag), by tag then valid_from.
  virtual Result<std::vector<TagBindingRow>> ListTagBindings(core::OrgId org,
                                                             const std::string& tag) = 0;
  virtual Status ScanTagBindings(const std::function<bool(const TagBindingRow&)>& on_row) = 0;

  // Sealed trajectory blocks with their facts (as AppendReadingBlocks).
  virtual Status AppendTrajectoryBlocks(core::OrgId org,
                                        const std::vector<TrajectoryBlockRow>& blocks,
                                        const std::vector<int>& fact_index,
                                        const FactDrafts& facts) = 0;
  // Blocks of a tag whose minute is in [from, to), oldest first, <= limit (1..10000).
  virtual Result<std::vector<TrajectoryBlockRow>> TrajectoryBlocks(core::OrgId org,
                                                                   const std::string& tag,
                                                                   core::Timestamp from,
                                                                   core::Timestamp to,
                                                                   int limit) = 0;

  // Sizes for /metrics and the benchmarks.
  virtual Result<std::int64_t> CountWorkers() = 0;
  virtual Result<std::int64_t> CountCertificates() = 0;
};

struct SqliteOptions {
  std::string path;             // database file; ":memory:" for tests
  int busy_timeout_ms = 5000;
  bool read_only = false;
  // Time source for the stamps the store sets itself: created_at of organizations and
  // sites, applied_at of migrations, updated_at of UpdateWorkerStatus/UpdateCertificate
  // and of re-imported rows, and created_at/updated_at of users, workers and
  // certificates whose caller left them at 0. Not owned; must outlive the store.
  // nullptr means the system clock.
  const core::Clock* clock = nullptr;
};

// Opens (creating if needed) a SQLite database, applies pending migrations in order and
// returns the store. Fails with kFailedPrecondition when the file's schema is newer than
// this binary knows.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace wg::store

#include "migrations.h"

#include <array>
#include <string>

namespace wg::store::sqlite {
namespace {

// Version 1: the initial schema. Conventions (see docs/formats/sqlite-schema.md):
// STRICT tables; ids are INTEGER PRIMARY KEY (rowid aliases, never reused because rows
// of tenant data are never deleted); instants are INTEGER microseconds since the Unix
// epoch, UTC; calendar dates are INTEGER days since 1970-01-01; enums are TEXT names;
// booleans are INTEGER 0/1. Enum names carry no CHECK so a new enum value needs no table
// rebuild; the reader rejects unknown names as corruption instead.
constexpr std::array<const char*, 16> kV1 = {
    R"sql(CREATE TABLE settings (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) STRICT)sql",

    // The store-wide revision counter: exactly one row.
    R"sql(CREATE TABLE revision (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL CHECK (value >= 0)
) STRICT)sql",
    "INSERT INTO revision (id, value) VALUES (1, 0)",

    R"sql(CREATE TABLE organizations (
  id         INTEGER PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT)sql",

    R"sql(CREATE TABLE sites (
  id         INTEGER PRIMARY KEY,
  org_id     INTEGER NOT NULL REFERENCES organizations (id),
  code       TEXT NOT NULL,
  name       TEXT NOT NULL,
  address    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (org_id, code)
) STRICT)sql",

    // UNIQUE (org_id, id) is the parent key of tokens' composite foreign key (a token's
    // org must be its user's org) and serves ListUsers.
    R"sql(CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  org_id        INTEGER NOT NULL REFERENCES organizations (id),
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  active        INTEGER NOT NULL CHECK (active IN (0, 1)),
  created_at    INTEGER NOT NULL,
  UNIQUE (org_id, id)
) STRICT)sql",

    R"sql(CREATE TABLE tokens (
  token_digest TEXT NOT NULL PRIMARY KEY,
  user_id      INTEGER NOT NULL,
  org_id       INTEGER NOT NULL,
  issued_at    INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT)sql",
    "CREATE INDEX tokens_by_user ON tokens (org_id, user_id)",
    "CREATE INDEX tokens_by_expiry ON tokens (expires_at)",

    // UNIQUE (org_id, id): parent key of certificates' composite foreign key and the
    // keyset-pagination index of ListWorkers.
    R"sql(CREATE TABLE workers (
  id         INTEGER PRIMARY KEY,
  org_id     INTEGER NOT NULL REFERENCES organizations (id),
  code       TEXT NOT NULL,
  name       TEXT NOT NULL,
  employer   TEXT NOT NULL,
  id_salt    TEXT NOT NULL,
  id_digest  TEXT NOT NULL,
  id_last4   TEXT NOT NULL,
  phone      TEXT NOT NULL,
  photo_ref  TEXT NOT NULL,
  status     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  rev        INTEGER NOT NULL,
  UNIQUE (org_id, code),
  UNIQUE (org_id, id)
) STRICT)sql",
    "CREATE INDEX workers_by_rev ON workers (rev)",

    // The composite foreign key makes "a certificate belongs to a worker of the same
    // organization" a database invariant, not only an application one.
    R"sql(CREATE TABLE certificates (
  id                       INTEGER PRIMARY KEY,
  org_id                   INTEGER NOT NULL,
  worker_id                INTEGER NOT NULL,
  kind                     TEXT NOT NULL,
  category                 TEXT NOT NULL,
  item                     TEXT NOT NULL,
  number                   TEXT NOT NULL,
  authority                TEXT NOT NULL,
  issue_date               INTEGER NOT NULL,
  expiry_date              INTEGER NOT NULL,
  last_review_date         INTEGER,
  practice_since           INTEGER,
  review_extension_granted INTEGER NOT NULL CHECK (review_extension_granted IN (0, 1)),
  violations               INTEGER NOT NULL CHECK (violations >= 0),
  status                   TEXT NOT NULL,
  status_reason            TEXT NOT NULL,
  created_at               INTEGER NOT NULL,
  updated_at               INTEGER NOT NULL,
  rev                      INTEGER NOT NULL,
  UNIQUE (org_id, kind, number),
  FOREIGN KEY (org_id, worker_id) REFERENCES workers (org_id, id)
) STRICT)sql",
    "CREATE INDEX certificates_by_worker ON certificates (worker_id)",
    "CREATE INDEX certificates_by_rev ON certificates (rev)",
    "CREATE INDEX sites_by_org ON sites (org_id)",
    "CREATE INDEX users_by_org ON users (org_id)",
};

// Version 2: an unsalted keyed digest of the national ID (ADR 0003), unique per
// organization, so one person cannot be registered twice under two worker codes. Rows
// written before it hold NULL, which the unique index ignores.
constexpr std::array<const char*, 2> kV2 = {
    "ALTER TABLE workers ADD COLUMN id_lookup TEXT",
    "CREATE UNIQUE INDEX workers_by_id_lookup ON workers (org_id, id_lookup)",
};

// Version 3: the fact outbox (docs/adr/0007-facts-outbox.md). Every safety-relevant
// write appends its facts here in the same transaction as the projection rows; the
// evidence service copies them, in seq order, into the organization's evidence log.
// seq is the 0-based leaf index in that log. Rows are never updated or deleted.
constexpr std::array<const char*, 2> kV3 = {
    R"sql(CREATE TABLE facts (
  org_id  INTEGER NOT NULL REFERENCES organizations (id),
  seq     INTEGER NOT NULL CHECK (seq >= 0),
  time    INTEGER NOT NULL,
  site    TEXT NOT NULL,
  kind    TEXT NOT NULL,
  actor   TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (org_id, seq)
) STRICT, WITHOUT ROWID)sql",
    "CREATE INDEX facts_by_subject ON facts (org_id, subject, seq)",
};

// Version 4: electronic work permits, users' signing keys and approver authorizations.
// Permits carry the indexed columns of the list filters plus the whole document (JSON
// the store does not parse); `version` is the compare-and-set counter of UpdatePermit and
// `revision` the store-wide revision of the last write, shared with workers and
// certificates (PermitChangesSince). permit_sequences hands out the per-(organization,
// prefix) sequence of permit numbers inside CreatePermit's transaction. user_keys and
// authorizations reference their user through (org_id, user_id), so a row always belongs
// to a user of its own organization. Every statement only creates: an existing v3 file
// migrates in place without touching its rows.
constexpr std::array<const char*, 11> kV4 = {
    R"sql(CREATE TABLE permits (
  id            INTEGER PRIMARY KEY,
  org_id        INTEGER NOT NULL REFERENCES organizations (id),
  number        TEXT NOT NULL,
  site          TEXT NOT NULL,
  type          TEXT NOT NULL,
  grade         TEXT NOT NULL,
  state         TEXT NOT NULL,
  planned_start INTEGER NOT NULL,
  planned_end   INTEGER NOT NULL,
  version       INTEGER NOT NULL CHECK (version >= 1),
  document      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  revision      INTEGER NOT NULL,
  UNIQUE (org_id, number)
) STRICT)sql",
    // ListPermits' filters (an unfiltered page of one organization reads the UNIQUE
    // (org_id, number) index and sorts the ids), ScanPermits across organizations, and the
    // change feed. No (org_id, id) index on purpose: with it SQLite prefers walking every
    // row of the organization in id order over the state index plus a sort, which is the
    // slow choice once most permits are closed.
    "CREATE INDEX permits_by_org_state ON permits (org_id, state)",
    "CREATE INDEX permits_by_org_site_state ON permits (org_id, site, state)",
    "CREATE INDEX permits_by_org_type ON permits (org_id, type)",
    "CREATE INDEX permits_by_org_start ON permits (org_id, planned_start)",
    "CREATE INDEX permits_by_state ON permits (state)",
    "CREATE INDEX permits_by_revision ON permits (revision)",
    // FactsOfKinds: the permit service's track records read only the few kinds they count
    // (approvals, suspensions, incidents), never the millions of certificate facts.
    "CREATE INDEX facts_by_kind ON facts (org_id, kind, seq)",

    R"sql(CREATE TABLE permit_sequences (
  org_id INTEGER NOT NULL REFERENCES organizations (id),
  prefix TEXT NOT NULL,
  last   INTEGER NOT NULL CHECK (last >= 1),
  PRIMARY KEY (org_id, prefix)
) STRICT, WITHOUT ROWID)sql",

    R"sql(CREATE TABLE user_keys (
  user_id        INTEGER NOT NULL,
  org_id         INTEGER NOT NULL,
  version        INTEGER NOT NULL CHECK (version >= 1),
  public_pem     TEXT NOT NULL,
  sealed_private BLOB NOT NULL,
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (user_id, version),
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT, WITHOUT ROWID)sql",

    R"sql(CREATE TABLE authorizations (
  user_id    INTEGER PRIMARY KEY,
  org_id     INTEGER NOT NULL,
  scope_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT)sql",
};

// Version 5: live monitoring. monitor_points holds each point's configuration (indexed
// columns plus the JSON document the store does not parse); a removed point keeps its row
// with deleted = 1, because alarms and reading blocks name it. alarms is the current state
// of every alarm, upserted by id (ids are assigned by the monitor engine, unique across the
// installation). reading_blocks holds sealed minute blocks of readings (WGRB1) with the seq
// of the "readings.sealed" fact that carries their SM3 digest. notifications is the
// delivery outbox of alarm notifications. Every statement only creates: a v4 file migrates
// in place.
constexpr std::array<const char*, 9> kV5 = {
    R"sql(CREATE TABLE monitor_points (
  org_id     INTEGER NOT NULL REFERENCES organizations (id),
  id         TEXT NOT NULL,
  site       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  document   TEXT NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  deleted    INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) STRICT, WITHOUT ROWID)sql",

    R"sql(CREATE TABLE alarms (
  id         INTEGER PRIMARY KEY CHECK (id >= 1),
  org_id     INTEGER NOT NULL REFERENCES organizations (id),
  site       TEXT NOT NULL,
  point      TEXT NOT NULL,
  rule       TEXT NOT NULL,
  level      INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
  state      TEXT NOT NULL,
  raised_at  INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  document   TEXT NOT NULL
) STRICT)sql",
    // ListAlarms (newest first per organization, and by state), OpenAlarms across
    // organizations (a partial index: cleared_acked alarms are the vast majority).
    "CREATE UNIQUE INDEX alarms_by_org_id ON alarms (org_id, id)",
    "CREATE INDEX alarms_by_org_state ON alarms (org_id, state)",
    "CREATE INDEX alarms_open ON alarms (id) WHERE state <> 'cleared_acked'",

    // The UNIQUE key also serves ReadingBlocks' (org_id, point, minute) range reads as its
    // prefix; a second index on those three columns would only slow the appends.
    R"sql(CREATE TABLE reading_blocks (
  id       INTEGER PRIMARY KEY,
  org_id   INTEGER NOT NULL REFERENCES organizations (id),
  point    TEXT NOT NULL,
  site     TEXT NOT NULL,
  minute   INTEGER NOT NULL,
  part     INTEGER NOT NULL CHECK (part >= 0),
  first    INTEGER NOT NULL,
  last     INTEGER NOT NULL,
  count    INTEGER NOT NULL CHECK (count >= 1),
  min      REAL NOT NULL,
  max      REAL NOT NULL,
  data     BLOB NOT NULL,
  sm3_hex  TEXT NOT NULL,
  fact_seq INTEGER NOT NULL CHECK (fact_seq >= 0),
  UNIQUE (org_id, point, minute, part)
) STRICT)sql",

    R"sql(CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY,
  org_id          INTEGER NOT NULL REFERENCES organizations (id),
  channel         TEXT NOT NULL,
  target          TEXT NOT NULL,
  subject         TEXT NOT NULL,
  payload         TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts        INTEGER NOT NULL CHECK (attempts >= 0),
  delivered_at    INTEGER,
  last_error      TEXT NOT NULL
) STRICT)sql",
    // DueNotifications (undelivered rows have delivered_at NULL) and ListNotifications.
    "CREATE INDEX notifications_due ON notifications (delivered_at, next_attempt_at)",
    "CREATE INDEX notifications_by_org ON notifications (org_id, id)",
};

// Version 6: people on site. presence_objects holds each tag, zone fence and site frame
// (indexed columns plus the JSON document the store does not parse); a removed object keeps
// its row with deleted = 1, like monitor_points. tag_bindings is the history of which
// person wore which tag when ([valid_from, valid_until), NULL = open); rows are ended,
// never deleted. trajectory_blocks holds sealed minute blocks of tag positions (WGTB1) with
// the seq of the "trajectory.sealed" fact carrying their SM3 digest, like reading_blocks.
// Every statement only creates: a v5 file migrates in place.
constexpr std::array<const char*, 4> kV6 = {
    R"sql(CREATE TABLE presence_objects (
  org_id     INTEGER NOT NULL REFERENCES organizations (id),
  kind       TEXT NOT NULL CHECK (kind IN ('tag', 'fence', 'site_frame')),
  id         TEXT NOT NULL,
  site       TEXT NOT NULL,
  document   TEXT NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  deleted    INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, kind, id)
) STRICT, WITHOUT ROWID)sql",

    R"sql(CREATE TABLE tag_bindings (
  id          INTEGER PRIMARY KEY,
  org_id      INTEGER NOT NULL REFERENCES organizations (id),
  tag         TEXT NOT NULL,
  person      TEXT NOT NULL,
  valid_from  INTEGER NOT NULL,
  valid_until INTEGER CHECK (valid_until IS NULL OR valid_until > valid_from),
  note        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT)sql",
    // ListTagBindings and the overlap check of AddTagBinding.
    "CREATE INDEX tag_bindings_by_tag ON tag_bindings (org_id, tag, valid_from)",

    // A rowid table (the blocks are large): the PRIMARY KEY is a unique index that also
    // serves TrajectoryBlocks' (org_id, tag, minute) range reads as its prefix.
    R"sql(CREATE TABLE trajectory_blocks (
  org_id   INTEGER NOT NULL REFERENCES organizations (id),
  tag      TEXT NOT NULL,
  site     TEXT NOT NULL,
  minute   INTEGER NOT NULL,
  part     INTEGER NOT NULL CHECK (part >= 0),
  first    INTEGER NOT NULL,
  last     INTEGER NOT NULL,
  count    INTEGER NOT NULL CHECK (count >= 1),
  data     BLOB NOT NULL,
  sm3_hex  TEXT NOT NULL,
  fact_seq INTEGER NOT NULL CHECK (fact_seq >= 0),
  PRIMARY KEY (org_id, tag, minute, part)
) STRICT)sql",
};

// Version 7: site plans (docs/formats/site-plan.md). presence_objects gains the kind
// 'site_plan' (one per site, id = site code, like site frames). SQLite cannot change a
// CHECK constraint in place, so the table is rebuilt: create the new one, copy every row,
// drop the old one, rename. presence_objects has no secondary index and no table refers
// to it, so nothing else is recreated. Runs inside ApplyMigrations' write transaction.
constexpr std::array<const char*, 4> kV7 = {
    R"sql(CREATE TABLE presence_objects_v7 (
  org_id     INTEGER NOT NULL REFERENCES organizations (id),
  kind       TEXT NOT NULL CHECK (kind IN ('tag', 'fence', 'site_frame', 'site_plan')),
  id         TEXT NOT NULL,
  site       TEXT NOT NULL,
  document   TEXT NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  deleted    INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, kind, id)
) STRICT, WITHOUT ROWID)sql",
    R"sql(INSERT INTO presence_objects_v7
  (org_id, kind, id, site, document, version, deleted, updated_at)
  SELECT org_id, kind, id, site, document, version, deleted, updated_at
  FROM presence_objects)sql",
    "DROP TABLE presence_objects",
    "ALTER TABLE presence_objects_v7 RENAME TO presence_objects",
};

constexpr std::array<Migration, 7> kMigrations = {{
    {1, "initial schema", kV1},
    {2, "worker national-ID lookup digest", kV2},
    {3, "fact outbox", kV3},
    {4, "permits, user keys and authorizations", kV4},
    {5, "live monitoring: points, alarms, reading blocks, notifications", kV5},
    {6, "people on site: presence objects, tag bindings, trajectory blocks", kV6},
    {7, "site plans: presence_objects kind 'site_plan'", kV7},
}};

// Migration N sits at index N - 1; ApplyMigrations relies on it.
static_assert([] {
  for (std::size_t i = 0; i < kMigrations.size(); ++i) {
    if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
  }
  return true;
}());

constexpr const char* kCreateMigrationsTable = R"sql(CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT)sql";

Result<bool> MigrationsTableExists(Connection& conn) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND "
                                   "name = 'schema_migrations'"));
  return st.Step();
}

Result<int> CurrentVersion(Connection& conn) {
  WG_ASSIGN_OR_RETURN(bool exists, MigrationsTableExists(conn));
  if (!exists) return 0;
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  WG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("max(version) returned no row");
  const std::int64_t v = st.ColumnInt(0);
  if (v < 0 || v > 1'000'000) {
    return Status::Corruption("schema_migrations holds version " + std::to_string(v));
  }
  return static_cast<int>(v);
}

Status CheckNotNewer(int version) {
  if (version > LatestSchemaVersion()) {
    return Status::FailedPrecondition(
        "database schema version " + std::to_string(version) + " is newer than this binary (" +
        std::to_string(LatestSchemaVersion()) + "); upgrade workguard");
  }
  return Status::Ok();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations.back().version; }

Result<int> ApplyMigrations(Connection& conn, core::Timestamp now, bool read_only) {
  if (read_only) {
    WG_ASSIGN_OR_RETURN(int version, CurrentVersion(conn));
    WG_RETURN_IF_ERROR(CheckNotNewer(version));
    if (version < LatestSchemaVersion()) {
      return Status::FailedPrecondition(
          "database schema version " + std::to_string(version) + " needs migration to " +
          std::to_string(LatestSchemaVersion()) + "; open it read-write once");
    }
    return version;
  }

  WG_RETURN_IF_ERROR(conn.Exec(kCreateMigrationsTable));
  while (true) {
    // The version is re-read inside the write transaction: another process may have
    // migrated between our reads.
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(conn, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(int version, CurrentVersion(conn));
    WG_RETURN_IF_ERROR(CheckNotNewer(version));
    if (version == LatestSchemaVersion()) {
      WG_RETURN_IF_ERROR(txn.Commit());
      return version;
    }
    const Migration& m = kMigrations[static_cast<std::size_t>(version)];
    const std::string context = "migration " + std::to_string(m.version) + " (" +
                                std::string(m.description) + ")";
    for (const char* sql : m.statements) {
      if (Status s = conn.Exec(sql); !s.ok()) return s.WithContext(context);
    }
    {
      WG_ASSIGN_OR_RETURN(
          Statement st,
          conn.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)"));
      st.BindInt(1, m.version);
      st.BindTime(2, now);
      WG_RETURN_IF_ERROR(st.StepDone());
    }
    WG_RETURN_IF_ERROR(txn.Commit());
  }
}

}  // namespace wg::store::sqlite

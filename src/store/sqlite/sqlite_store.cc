// SqliteStore: the Store interface over one SQLite database file.
//
// Concurrency design (the simplest one that is correct):
// - One read-write connection, `conn_`, used by every method under `mu_`. SQLite admits
//   one writer at a time anyway; a pool of reader connections would only pay off once
//   measurements show readers queueing behind each other. The connection is opened
//   SQLITE_OPEN_NOMUTEX because `mu_` already serialises every use of it, including
//   its statement cache, which SQLite's own mutex would not protect.
// - `write_mu_` serialises writers inside the process and is held by an ImportSession for
//   its whole life ("other writers wait"). Lock order: write_mu_, then mu_.
// - An import session on a file database writes through its own connection, so readers
//   keep using `conn_` (WAL gives them the last committed snapshot) while a long import
//   runs. A private database (":memory:") is visible to one connection only, so there
//   the session borrows `conn_` and holds `mu_` too: every other call waits.
// - Another process (the CLI) writing the same file is kept out by SQLite's own locks;
//   BEGIN IMMEDIATE waits up to busy_timeout_ms, then the call fails with kUnavailable.
// - A thread that holds an open import session, or runs a store callback (ScanAll's and
//   ScanPermits' row callbacks, CreatePermitWith's finisher), and calls a method that would
//   wait for the lock it already holds gets kFailedPrecondition instead of deadlocking on
//   itself.

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "connection.h"
#include "facts.h"
#include "importer.h"
#include "migrations.h"
#include "monitor.h"
#include "presence.h"
#include "rows.h"
#include "wg/core/strings.h"
#include "wg/store/store.h"

namespace wg::store {
namespace {

using sqlite::Connection;
using sqlite::Quote;
using sqlite::Statement;
using sqlite::Transaction;

// Page cache per connection, in KiB (negative cache_size means KiB). The bulk-import
// connection gets more: its unique indexes are probed at random.
constexpr int kCacheKib = 64 * 1024;
constexpr int kImportCacheKib = 256 * 1024;
constexpr int kMaxPageLimit = 1000;
constexpr int kMaxChangesLimit = 100'000;
constexpr int kMaxBlocksLimit = 10'000;
// Permits (schema v4). Codes are ASCII names in practice ("hot_work", "approved"); the
// bound only keeps garbage out of the indexes.
constexpr std::size_t kMaxCodeBytes = 64;
constexpr std::size_t kMaxPrefixBytes = 32;
constexpr std::size_t kMinNumberDigits = 4;
constexpr std::size_t kMaxStates = 16;  // per filter or scan; there are nine states
constexpr std::size_t kMaxDocumentBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxKeyBytes = 64 * 1024;

// What an INSERT or UPDATE calls the keys it can violate, for error messages.
struct KeyNames {
  std::string duplicate{};  // UNIQUE / PRIMARY KEY
  std::string duplicate_field{};
  std::string missing_parent{};  // FOREIGN KEY
  std::string missing_field{};
};

// Rewords a constraint failure of `st` with `names`; other errors pass through.
Status Explain(const Statement& st, Status s, const KeyNames& names) {
  switch (st.last_error()) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      if (!names.duplicate.empty()) {
        return Status::AlreadyExists(names.duplicate, names.duplicate_field);
      }
      return s;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      if (!names.missing_parent.empty()) {
        return Status::InvalidArgument(names.missing_parent, names.missing_field);
      }
      return s;
    default:
      return s;
  }
}

core::Timestamp OrNow(core::Timestamp t, core::Timestamp now) { return t.micros != 0 ? t : now; }

// A code column (site, type, grade, state): min..kMaxCodeBytes bytes of UTF-8 without
// control characters.
Status CheckCode(std::string_view value, std::size_t min, const std::string& field) {
  if (value.size() < min || value.size() > kMaxCodeBytes) {
    return Status::InvalidArgument("must be " + std::to_string(min) + ".." +
                                       std::to_string(kMaxCodeBytes) + " bytes, got " +
                                       std::to_string(value.size()),
                                   field);
  }
  if (!core::IsValidUtf8(value)) return Status::InvalidArgument("is not valid UTF-8", field);
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("contains a control character", field);
    }
  }
  return Status::Ok();
}

// A text or byte string of min..max bytes, valid UTF-8 when `utf8`.
Status CheckBytes(std::string_view value, std::size_t min, std::size_t max, bool utf8,
                  const std::string& field) {
  if (value.size() < min || value.size() > max) {
    return Status::InvalidArgument("must be " + std::to_string(min) + ".." + std::to_string(max) +
                                       " bytes, got " + std::to_string(value.size()),
                                   field);
  }
  if (utf8 && !core::IsValidUtf8(value)) {
    return Status::InvalidArgument("is not valid UTF-8", field);
  }
  return Status::Ok();
}

Status CheckNumberPrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxPrefixBytes) {
    return Status::InvalidArgument("must be 1.." + std::to_string(kMaxPrefixBytes) +
                                       " characters, got " + std::to_string(prefix.size()),
                                   "number_prefix");
  }
  for (char c : prefix) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
      return Status::InvalidArgument("must match [A-Z0-9-]{1,32}, got " + Quote(prefix),
                                     "number_prefix");
    }
  }
  return Status::Ok();
}

// The columns a caller sets on CreatePermit and UpdatePermit.
Status CheckPermitColumns(const PermitRow& row) {
  WG_RETURN_IF_ERROR(CheckCode(row.site, 1, "site"));
  WG_RETURN_IF_ERROR(CheckCode(row.type, 1, "type"));
  WG_RETURN_IF_ERROR(CheckCode(row.grade, 0, "grade"));
  WG_RETURN_IF_ERROR(CheckCode(row.state, 1, "state"));
  return CheckBytes(row.document, 0, kMaxDocumentBytes, /*utf8=*/true, "document");
}

Status CheckStates(const std::vector<std::string>& states, const std::string& field) {
  if (states.size() > kMaxStates) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxStates) + " states", field);
  }
  for (std::size_t i = 0; i < states.size(); ++i) {
    WG_RETURN_IF_ERROR(CheckCode(states[i], 1, field + "[" + std::to_string(i) + "]"));
  }
  return Status::Ok();
}

// "?k, ?k+1, ..." for `n` parameters after `param`, which is advanced past them.
std::string Placeholders(int& param, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    out += "?" + std::to_string(++param);
  }
  return out;
}

// "<prefix><sequence>", the sequence zero-padded to kMinNumberDigits.
std::string PermitNumber(std::string_view prefix, std::int64_t seq) {
  std::string digits = std::to_string(seq);
  if (digits.size() < kMinNumberDigits) digits.insert(0, kMinNumberDigits - digits.size(), '0');
  return std::string(prefix) + digits;
}

// Marks the calling thread as inside a store callback (a scan's row callback, a
// PermitFinisher) for the scope's life, so a callback that calls back into the store fails
// instead of deadlocking on the lock the store holds for it.
class CallbackMark {
 public:
  explicit CallbackMark(std::atomic<std::thread::id>& id) : id_(id) {
    id_.store(std::this_thread::get_id());
  }
  ~CallbackMark() { id_.store(std::thread::id()); }
  CallbackMark(const CallbackMark&) = delete;
  CallbackMark& operator=(const CallbackMark&) = delete;

 private:
  std::atomic<std::thread::id>& id_;
};

std::string OrgMissing(core::OrgId org) {
  return "organization " + std::to_string(org.value) + " does not exist";
}

// Opens a connection and applies the per-connection settings. `main` connections also
// switch the file to WAL (a persistent property of the file).
Result<std::unique_ptr<Connection>> OpenConnection(const SqliteOptions& options, bool main,
                                                   int cache_kib) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  WG_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                      Connection::Open(options.path, flags, options.busy_timeout_ms));
  WG_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON"));
  WG_ASSIGN_OR_RETURN(std::string fk, conn->QueryText("PRAGMA foreign_keys"));
  if (fk != "1") {
    return Status::FailedPrecondition("this SQLite build cannot enforce foreign keys");
  }
  if (!options.read_only) {
    if (main) {
      // A private database answers "memory"; WAL needs a file.
      WG_ASSIGN_OR_RETURN(std::string mode, conn->QueryText("PRAGMA journal_mode = WAL"));
      (void)mode;
    }
    WG_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = NORMAL"));
  }
  const std::string cache = "PRAGMA cache_size = -" + std::to_string(cache_kib);
  WG_RETURN_IF_ERROR(conn->Exec(cache.c_str()));
  return conn;
}

class SqliteStore;

// An ImportSession: an open write transaction plus the locks that keep other writers out
// until Commit or destruction. Not thread-safe itself (see store.h).
class SqliteImportSession final : public ImportSession {
 public:
  SqliteImportSession(SqliteStore* store, std::unique_lock<std::mutex> write_lock,
                      std::unique_lock<std::mutex> conn_lock,
                      std::unique_ptr<Connection> own_conn, Connection* conn, Transaction txn,
                      sqlite::Importer importer)
      : store_(store),
        write_lock_(std::move(write_lock)),
        conn_lock_(std::move(conn_lock)),
        own_conn_(std::move(own_conn)),
        conn_(conn),
        txn_(std::move(txn)),
        importer_(std::move(importer)) {}
  ~SqliteImportSession() override { Release(); }
  SqliteImportSession(const SqliteImportSession&) = delete;
  SqliteImportSession& operator=(const SqliteImportSession&) = delete;

  Status Add(const std::vector<ImportWorker>& workers,
             const std::vector<ImportCertificate>& certs, const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(CheckOpen());
    Status s = importer_->Add(workers, certs);
    if (s.ok()) s = sqlite::InsertFacts(*conn_, importer_->org(), facts, importer_->now());
    if (!s.ok()) Fail(s);
    return s;
  }

  Result<ImportSummary> Commit() override {
    WG_RETURN_IF_ERROR(CheckOpen());
    Status s = importer_->Finish();
    if (s.ok()) s = txn_->Commit();
    if (!s.ok()) {
      Fail(s);
      return s;
    }
    ImportSummary summary = importer_->summary();
    committed_ = true;
    Release();
    return summary;
  }

 private:
  Status CheckOpen() const {
    if (committed_) return Status::FailedPrecondition("import session already committed");
    if (!failed_.ok()) {
      return Status::FailedPrecondition("import session was rolled back after an error: " +
                                        failed_.message());
    }
    return Status::Ok();
  }

  void Fail(const Status& s) {
    failed_ = s;
    Release();
  }

  // Rolls back (unless committed), closes the session's connection and lets other
  // writers in. Idempotent.
  void Release();

  SqliteStore* store_;
  std::unique_lock<std::mutex> write_lock_;
  std::unique_lock<std::mutex> conn_lock_;  // owned only when borrowing the store's conn
  std::unique_ptr<Connection> own_conn_;    // null when borrowing the store's conn
  Connection* conn_;
  std::optional<Transaction> txn_;
  std::optional<sqlite::Importer> importer_;
  bool committed_ = false;
  Status failed_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(SqliteOptions options, std::unique_ptr<Connection> conn, int schema_version)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock : &system_clock_),
        schema_version_(schema_version),
        private_db_(IsPrivate(*conn)),
        conn_(std::move(conn)) {}

  int SchemaVersion() const override { return schema_version_; }

  // ---- Settings.

  Result<std::optional<std::string>> GetSetting(const std::string& key) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT value FROM settings WHERE key = ?1"));
    st.BindText(1, key);
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(st.ColumnText(0));
  }

  Status PutSetting(const std::string& key, const std::string& value) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    st.BindText(1, key);
    st.BindText(2, value);
    return st.StepDone();
  }

  // ---- Organizations and sites.

  Result<domain::Organization> CreateOrganization(const NewOrganization& org,
                                                  const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("INSERT INTO organizations (code, name, "
                                                     "created_at) VALUES (?1, ?2, ?3) "
                                                     "RETURNING " WG_STORE_ORG_COLUMNS));
    st.BindText(1, org.code);
    st.BindText(2, org.name);
    st.BindTime(3, clock_->Now());
    auto r = sqlite::ReadOne(st, &sqlite::ReadOrganization, "insert returned no row");
    if (!r.has_value()) {
      return Explain(st, r.error(),
                     {.duplicate = "organization code " + Quote(org.code) + " already exists",
                      .duplicate_field = "code"});
    }
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, r->id, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return r;
  }

  Result<domain::Organization> GetOrganization(core::OrgId id) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_ORG_COLUMNS
                                                     " FROM organizations WHERE id = ?1"));
    st.BindInt(1, id.value);
    return sqlite::ReadOne(st, &sqlite::ReadOrganization,
                   "organization " + std::to_string(id.value) + " not found");
  }

  Result<domain::Organization> FindOrganizationByCode(const std::string& code) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_ORG_COLUMNS
                                                     " FROM organizations WHERE code = ?1"));
    st.BindText(1, code);
    return sqlite::ReadOne(st, &sqlite::ReadOrganization, "organization " + Quote(code) + " not found");
  }

  Result<std::vector<domain::Organization>> ListOrganizations() override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_ORG_COLUMNS
                                                     " FROM organizations ORDER BY id"));
    return sqlite::ReadAll(st, &sqlite::ReadOrganization);
  }

  Result<domain::Site> CreateSite(core::OrgId org, const NewSite& site,
                                  const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("INSERT INTO sites (org_id, code, name, address, "
                                       "created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                                       "RETURNING " WG_STORE_SITE_COLUMNS));
    st.BindInt(1, org.value);
    st.BindText(2, site.code);
    st.BindText(3, site.name);
    st.BindText(4, site.address);
    st.BindTime(5, clock_->Now());
    auto r = sqlite::ReadOne(st, &sqlite::ReadSite, "insert returned no row");
    if (!r.has_value()) {
      return Explain(st, r.error(),
                     {.duplicate = "site code " + Quote(site.code) + " already exists",
                      .duplicate_field = "code",
                      .missing_parent = OrgMissing(org),
                      .missing_field = "org_id"});
    }
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return r;
  }

  Result<std::vector<domain::Site>> ListSites(core::OrgId org) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_SITE_COLUMNS
                                                     " FROM sites WHERE org_id = ?1 ORDER BY id"));
    st.BindInt(1, org.value);
    return sqlite::ReadAll(st, &sqlite::ReadSite);
  }

  // ---- Users and tokens.

  Result<domain::User> CreateUser(const domain::User& user, const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("INSERT INTO users (org_id, username, display_name, role, "
                                       "password_hash, active, created_at) VALUES (?1, ?2, ?3, "
                                       "?4, ?5, ?6, ?7) RETURNING " WG_STORE_USER_COLUMNS));
    st.BindInt(1, user.org_id.value);
    st.BindText(2, user.username);
    st.BindText(3, user.display_name);
    st.BindText(4, domain::RoleName(user.role));
    st.BindText(5, user.password_hash);
    st.BindBool(6, user.active);
    st.BindTime(7, OrNow(user.created_at, clock_->Now()));
    auto r = sqlite::ReadOne(st, &sqlite::ReadUser, "insert returned no row");
    if (!r.has_value()) {
      return Explain(st, r.error(),
                     {.duplicate = "username " + Quote(user.username) + " already exists",
                      .duplicate_field = "username",
                      .missing_parent = OrgMissing(user.org_id),
                      .missing_field = "org_id"});
    }
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, user.org_id, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return r;
  }

  Result<domain::User> GetUser(core::OrgId org, core::UserId id) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_USER_COLUMNS
                                       " FROM users WHERE id = ?1 AND org_id = ?2"));
    st.BindInt(1, id.value);
    st.BindInt(2, org.value);
    return sqlite::ReadOne(st, &sqlite::ReadUser, "user " + std::to_string(id.value) + " not found");
  }

  Result<domain::User> FindUserByUsername(const std::string& username) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_USER_COLUMNS
                                                     " FROM users WHERE username = ?1"));
    st.BindText(1, username);
    return sqlite::ReadOne(st, &sqlite::ReadUser, "user " + Quote(username) + " not found");
  }

  Result<std::vector<domain::User>> ListUsers(core::OrgId org) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_USER_COLUMNS
                                                     " FROM users WHERE org_id = ?1 ORDER BY id"));
    st.BindInt(1, org.value);
    return sqlite::ReadAll(st, &sqlite::ReadUser);
  }

  Status SaveToken(const TokenRecord& token) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("INSERT INTO tokens (" WG_STORE_TOKEN_COLUMNS
                                       ") VALUES (?1, ?2, ?3, ?4, ?5)"));
    st.BindText(1, token.token_digest);
    st.BindInt(2, token.user_id.value);
    st.BindInt(3, token.org_id.value);
    st.BindTime(4, token.issued_at);
    st.BindTime(5, token.expires_at);
    Status s = st.StepDone();
    if (!s.ok()) {
      return Explain(st, s,
                     {.duplicate = "token already exists",
                      .duplicate_field = "token_digest",
                      .missing_parent = "user " + std::to_string(token.user_id.value) +
                                        " does not exist in organization " +
                                        std::to_string(token.org_id.value),
                      .missing_field = "user_id"});
    }
    return s;
  }

  Result<TokenRecord> FindToken(const std::string& token_digest) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_TOKEN_COLUMNS
                                                     " FROM tokens WHERE token_digest = ?1"));
    st.BindText(1, token_digest);
    return sqlite::ReadOne(st, &sqlite::ReadToken, "token not found");
  }

  Status DeleteToken(const std::string& token_digest) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("DELETE FROM tokens WHERE token_digest = ?1"));
    st.BindText(1, token_digest);
    WG_RETURN_IF_ERROR(st.StepDone());
    if (conn_->Changes() == 0) return Status::NotFound("token not found");
    return Status::Ok();
  }

  Result<std::int64_t> DeleteExpiredTokens(core::Timestamp now) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("DELETE FROM tokens WHERE expires_at <= ?1"));
    st.BindTime(1, now);
    WG_RETURN_IF_ERROR(st.StepDone());
    return conn_->Changes();
  }

  // ---- Workers.

  Result<domain::Worker> CreateWorker(const domain::Worker& worker,
                                      const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(std::int64_t rev, NextRevision());
    const core::Timestamp created = OrNow(worker.created_at, clock_->Now());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare(WG_STORE_WORKER_INSERT " RETURNING " WG_STORE_WORKER_COLUMNS));
    sqlite::BindWorkerInsert(st, worker, worker.org_id, created, OrNow(worker.updated_at, created),
                             rev);
    auto r = sqlite::ReadOne(st, &sqlite::ReadWorker, "insert returned no row");
    if (!r.has_value()) {
      return Explain(st, r.error(),
                     {.duplicate = "worker code " + Quote(worker.code) + " already exists",
                      .duplicate_field = "code",
                      .missing_parent = OrgMissing(worker.org_id),
                      .missing_field = "org_id"});
    }
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, worker.org_id, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return r;
  }

  Result<domain::Worker> GetWorker(core::OrgId org, core::WorkerId id) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_WORKER_COLUMNS
                                       " FROM workers WHERE id = ?1 AND org_id = ?2"));
    st.BindInt(1, id.value);
    st.BindInt(2, org.value);
    return sqlite::ReadOne(st, &sqlite::ReadWorker, "worker " + std::to_string(id.value) + " not found");
  }

  Result<domain::Worker> FindWorkerByIdLookup(core::OrgId org,
                                              const std::string& id_lookup) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_WORKER_COLUMNS
                                       " FROM workers WHERE org_id = ?1 AND id_lookup = ?2"));
    st.BindInt(1, org.value);
    st.BindText(2, id_lookup);
    return sqlite::ReadOne(st, &sqlite::ReadWorker, "no worker with this national ID");
  }

  Result<domain::Worker> FindWorkerByCode(core::OrgId org, const std::string& code) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_WORKER_COLUMNS
                                       " FROM workers WHERE org_id = ?1 AND code = ?2"));
    st.BindInt(1, org.value);
    st.BindText(2, code);
    return sqlite::ReadOne(st, &sqlite::ReadWorker, "worker " + Quote(code) + " not found");
  }

  Result<std::vector<domain::Worker>> ListWorkers(core::OrgId org, const Page& page) override {
    WG_RETURN_IF_ERROR(CheckPage(page));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_WORKER_COLUMNS
                                       " FROM workers WHERE org_id = ?1 AND id > ?2 "
                                       "ORDER BY id LIMIT ?3"));
    st.BindInt(1, org.value);
    st.BindInt(2, page.after_id);
    st.BindInt(3, page.limit);
    return sqlite::ReadAll(st, &sqlite::ReadWorker);
  }

  Status UpdateWorkerStatus(core::OrgId org, core::WorkerId id, domain::WorkerStatus status,
                            const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(std::int64_t rev, NextRevision());
    {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("UPDATE workers SET status = ?1, updated_at = ?2, "
                                         "rev = ?3 WHERE id = ?4 AND org_id = ?5"));
      st.BindText(1, domain::WorkerStatusName(status));
      st.BindTime(2, clock_->Now());
      st.BindInt(3, rev);
      st.BindInt(4, id.value);
      st.BindInt(5, org.value);
      WG_RETURN_IF_ERROR(st.StepDone());
    }
    if (conn_->Changes() == 0) {
      return Status::NotFound("worker " + std::to_string(id.value) + " not found");
    }
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, clock_->Now()));
    return txn.Commit();
  }

  // ---- Certificates.

  Result<domain::Certificate> CreateCertificate(const domain::Certificate& cert,
                                                const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(std::int64_t rev, NextRevision());
    const core::Timestamp created = OrNow(cert.created_at, clock_->Now());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare(WG_STORE_CERT_INSERT " RETURNING " WG_STORE_CERT_COLUMNS));
    sqlite::BindCertificateInsert(st, cert, cert.org_id, cert.worker_id, created,
                                  OrNow(cert.updated_at, created), rev);
    auto r = sqlite::ReadOne(st, &sqlite::ReadCertificate, "insert returned no row");
    if (!r.has_value()) {
      return Explain(st, r.error(),
                     {.duplicate = "certificate number " + Quote(cert.number) + " already exists",
                      .duplicate_field = "number",
                      .missing_parent = "worker " + std::to_string(cert.worker_id.value) +
                                        " does not exist in organization " +
                                        std::to_string(cert.org_id.value),
                      .missing_field = "worker_id"});
    }
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, cert.org_id, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return r;
  }

  Result<domain::Certificate> GetCertificate(core::OrgId org, core::CertificateId id) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_CERT_COLUMNS
                                       " FROM certificates WHERE id = ?1 AND org_id = ?2"));
    st.BindInt(1, id.value);
    st.BindInt(2, org.value);
    return sqlite::ReadOne(st, &sqlite::ReadCertificate,
                   "certificate " + std::to_string(id.value) + " not found");
  }

  Result<std::vector<domain::Certificate>> ListCertificatesOfWorker(
      core::OrgId org, core::WorkerId worker) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kRead));
    {
      // Another organization's worker is kNotFound, not an empty list.
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("SELECT 1 FROM workers WHERE id = ?1 AND org_id = ?2"));
      st.BindInt(1, worker.value);
      st.BindInt(2, org.value);
      WG_ASSIGN_OR_RETURN(bool found, st.Step());
      if (!found) return Status::NotFound("worker " + std::to_string(worker.value) + " not found");
    }
    std::vector<domain::Certificate> certs;
    {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("SELECT " WG_STORE_CERT_COLUMNS
                                         " FROM certificates WHERE worker_id = ?1 AND "
                                         "org_id = ?2 ORDER BY id"));
      st.BindInt(1, worker.value);
      st.BindInt(2, org.value);
      WG_ASSIGN_OR_RETURN(certs, sqlite::ReadAll(st, &sqlite::ReadCertificate));
    }
    WG_RETURN_IF_ERROR(txn.Commit());
    return certs;
  }

  Result<domain::Certificate> UpdateCertificate(const domain::Certificate& cert,
                                                const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(std::int64_t rev, NextRevision());
    WG_ASSIGN_OR_RETURN(
        Statement st,
        conn_->Prepare("UPDATE certificates SET status = ?1, status_reason = ?2, "
                       "last_review_date = ?3, practice_since = ?4, "
                       "review_extension_granted = ?5, violations = ?6, expiry_date = ?7, "
                       "updated_at = ?8, rev = ?9 WHERE id = ?10 AND org_id = ?11 "
                       "RETURNING " WG_STORE_CERT_COLUMNS));
    st.BindText(1, domain::CertStatusName(cert.status));
    st.BindText(2, cert.status_reason);
    st.BindOptionalDate(3, cert.last_review_date);
    st.BindOptionalDate(4, cert.practice_since);
    st.BindBool(5, cert.review_extension_granted);
    st.BindInt(6, cert.violations);
    st.BindDate(7, cert.expiry_date);
    st.BindTime(8, clock_->Now());
    st.BindInt(9, rev);
    st.BindInt(10, cert.id.value);
    st.BindInt(11, cert.org_id.value);
    WG_ASSIGN_OR_RETURN(domain::Certificate updated,
                        sqlite::ReadOne(st, &sqlite::ReadCertificate,
                                "certificate " + std::to_string(cert.id.value) + " not found"));
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, cert.org_id, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return updated;
  }

  // ---- Bulk import.

  Result<std::unique_ptr<ImportSession>> BeginImport(core::OrgId org) override;

  Result<ImportSummary> ImportBatch(core::OrgId org, const std::vector<ImportWorker>& workers,
                                    const std::vector<ImportCertificate>& certs) override {
    WG_ASSIGN_OR_RETURN(std::unique_ptr<ImportSession> session, BeginImport(org));
    WG_RETURN_IF_ERROR(session->Add(workers, certs));
    return session->Commit();
  }

  // ---- Scans and change feed.

  Result<std::int64_t> ScanAll(
      const std::function<bool(const domain::Worker&)>& on_worker,
      const std::function<bool(const domain::Certificate&)>& on_cert) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    CallbackMark mark(callback_thread_);
    // One read transaction: the revision and every row come from the same snapshot.
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kRead));
    WG_ASSIGN_OR_RETURN(std::int64_t rev, ReadRevision());
    bool go_on = true;
    {
      WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT " WG_STORE_WORKER_COLUMNS
                                                       " FROM workers ORDER BY id"));
      while (go_on) {
        WG_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        WG_ASSIGN_OR_RETURN(domain::Worker w, sqlite::ReadWorker(st));
        go_on = on_worker(w);
      }
    }
    if (go_on) {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("SELECT " WG_STORE_CERT_COLUMNS
                                         " FROM certificates ORDER BY worker_id, id"));
      while (go_on) {
        WG_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        WG_ASSIGN_OR_RETURN(domain::Certificate c, sqlite::ReadCertificate(st));
        go_on = on_cert(c);
      }
    }
    WG_RETURN_IF_ERROR(txn.Commit());
    return rev;
  }

  Result<std::vector<Change>> ChangesSince(std::int64_t revision, int limit) override {
    if (limit < 1 || limit > kMaxChangesLimit) {
      return Status::InvalidArgument(
          "limit must be in 1.." + std::to_string(kMaxChangesLimit), "limit");
    }
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kRead));
    // Up to `limit` of each kind, then a merge by revision (unique across both tables).
    std::vector<Change> workers;
    {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("SELECT " WG_STORE_WORKER_COLUMNS
                                         " FROM workers WHERE rev > ?1 ORDER BY rev LIMIT ?2"));
      st.BindInt(1, revision);
      st.BindInt(2, limit);
      while (true) {
        WG_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        WG_ASSIGN_OR_RETURN(domain::Worker w, sqlite::ReadWorker(st));
        workers.push_back(Change{st.ColumnInt(sqlite::kWorkerRevColumn), std::move(w), {}});
      }
    }
    std::vector<Change> certs;
    {
      WG_ASSIGN_OR_RETURN(
          Statement st, conn_->Prepare("SELECT " WG_STORE_CERT_COLUMNS
                                       " FROM certificates WHERE rev > ?1 ORDER BY rev LIMIT ?2"));
      st.BindInt(1, revision);
      st.BindInt(2, limit);
      while (true) {
        WG_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        WG_ASSIGN_OR_RETURN(domain::Certificate c, sqlite::ReadCertificate(st));
        certs.push_back(Change{st.ColumnInt(sqlite::kCertRevColumn), {}, std::move(c)});
      }
    }
    WG_RETURN_IF_ERROR(txn.Commit());

    std::vector<Change> out;
    out.reserve(std::min(workers.size() + certs.size(), static_cast<std::size_t>(limit)));
    std::size_t wi = 0;
    std::size_t ci = 0;
    while (out.size() < static_cast<std::size_t>(limit) &&
           (wi < workers.size() || ci < certs.size())) {
      const bool take_worker =
          ci == certs.size() || (wi < workers.size() && workers[wi].revision < certs[ci].revision);
      out.push_back(std::move(take_worker ? workers[wi++] : certs[ci++]));
    }
    return out;
  }

  Result<std::int64_t> CurrentRevision() override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return ReadRevision();
  }

  // ---- Facts.

  Status AppendFacts(core::OrgId org, const FactDrafts& facts) override {
    if (facts.empty()) return Status::Ok();
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, clock_->Now()));
    return txn.Commit();
  }

  Result<std::vector<StoredFact>> FactsFrom(core::OrgId org, std::int64_t from_seq,
                                            int limit) override {
    WG_RETURN_IF_ERROR(CheckFactRange(from_seq, limit));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT org_id, seq, time, site, kind, actor, subject, "
                                       "payload FROM facts WHERE org_id = ?1 AND seq >= ?2 "
                                       "ORDER BY seq LIMIT ?3"));
    st.BindInt(1, org.value);
    st.BindInt(2, from_seq);
    st.BindInt(3, limit);
    return sqlite::ReadAll(st, &sqlite::ReadFact);
  }

  Result<std::vector<StoredFact>> FactsAbout(core::OrgId org, const std::string& subject,
                                             std::int64_t from_seq, int limit) override {
    WG_RETURN_IF_ERROR(CheckFactRange(from_seq, limit));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT org_id, seq, time, site, kind, actor, subject, "
                                       "payload FROM facts WHERE org_id = ?1 AND subject = ?2 "
                                       "AND seq >= ?3 ORDER BY seq LIMIT ?4"));
    st.BindInt(1, org.value);
    st.BindText(2, subject);
    st.BindInt(3, from_seq);
    st.BindInt(4, limit);
    return sqlite::ReadAll(st, &sqlite::ReadFact);
  }

  Result<std::vector<StoredFact>> FactsOfKinds(core::OrgId org,
                                               const std::vector<std::string>& kinds,
                                               std::int64_t from_seq, int limit) override {
    WG_RETURN_IF_ERROR(CheckFactRange(from_seq, limit));
    if (kinds.empty() || kinds.size() > 16) {
      return Status::InvalidArgument("1 to 16 kinds", "kinds");
    }
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      if (kinds[i].empty() || kinds[i].size() > 64) {
        return Status::InvalidArgument("a kind is 1 to 64 bytes",
                                       "kinds[" + std::to_string(i) + "]");
      }
    }
    std::string sql =
        "SELECT org_id, seq, time, site, kind, actor, subject, payload FROM facts "
        "WHERE org_id = ?1 AND seq >= ?2 AND kind IN (";
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      sql += (i == 0 ? "?" : ", ?") + std::to_string(i + 4);
    }
    sql += ") ORDER BY seq LIMIT ?3";
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    // One variant per number of kinds (at most 16): cached like a static statement.
    WG_ASSIGN_OR_RETURN(Statement st, conn_->PrepareBuilt(std::move(sql)));
    st.BindInt(1, org.value);
    st.BindInt(2, from_seq);
    st.BindInt(3, limit);
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      st.BindText(static_cast<int>(i + 4), kinds[i]);
    }
    return sqlite::ReadAll(st, &sqlite::ReadFact);
  }

  Result<std::int64_t> FactCount(core::OrgId org) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT coalesce(max(seq) + 1, 0) FROM facts "
                                       "WHERE org_id = ?1"));
    st.BindInt(1, org.value);
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Internal("max(seq) returned no row");
    return st.ColumnInt(0);
  }

  // ---- Permits, user keys and authorizations (schema v4).

  Result<PermitRow> CreatePermit(const PermitRow& row, const std::string& number_prefix,
                                 const FactDrafts& facts) override {
    return InsertPermit(row, number_prefix, facts, nullptr);
  }

  Result<PermitRow> CreatePermitWith(const PermitRow& row, const std::string& number_prefix,
                                     const PermitFinisher& finish) override {
    return InsertPermit(row, number_prefix, {}, finish ? &finish : nullptr);
  }

  Result<PermitRow> UpdatePermit(const PermitRow& row, std::int64_t expected_version,
                                 const FactDrafts& facts) override {
    if (expected_version < 1 || expected_version == std::numeric_limits<std::int64_t>::max()) {
      return Status::InvalidArgument(
          "expected version must be at least 1, got " + std::to_string(expected_version),
          "version");
    }
    WG_RETURN_IF_ERROR(CheckPermitColumns(row));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const std::string not_found = "permit " + std::to_string(row.id) + " not found";
    {
      // The version is compared here, under the write lock, so the error can name the
      // stored version; the UPDATE below repeats the condition as a guard.
      WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT version FROM permits "
                                                       "WHERE id = ?1 AND org_id = ?2"));
      st.BindInt(1, row.id);
      st.BindInt(2, row.org_id.value);
      WG_ASSIGN_OR_RETURN(bool found, st.Step());
      if (!found) return Status::NotFound(not_found);
      const std::int64_t stored = st.ColumnInt(0);
      if (stored != expected_version) {
        return Status::FailedPrecondition(
            "permit " + std::to_string(row.id) + " was changed meanwhile: stored version is " +
                std::to_string(stored) + ", expected " + std::to_string(expected_version),
            "version");
      }
    }
    WG_ASSIGN_OR_RETURN(std::int64_t rev, NextRevision());
    const core::Timestamp now = clock_->Now();
    WG_ASSIGN_OR_RETURN(
        Statement st,
        conn_->Prepare("UPDATE permits SET site = ?1, type = ?2, grade = ?3, state = ?4, "
                       "planned_start = ?5, planned_end = ?6, version = ?7, document = ?8, "
                       "updated_at = ?9, revision = ?10 "
                       "WHERE id = ?11 AND org_id = ?12 AND version = ?13 "
                       "RETURNING " WG_STORE_PERMIT_COLUMNS));
    st.BindText(1, row.site);
    st.BindText(2, row.type);
    st.BindText(3, row.grade);
    st.BindText(4, row.state);
    st.BindTime(5, row.planned_start);
    st.BindTime(6, row.planned_end);
    st.BindInt(7, expected_version + 1);
    st.BindText(8, row.document);
    st.BindTime(9, now);
    st.BindInt(10, rev);
    st.BindInt(11, row.id);
    st.BindInt(12, row.org_id.value);
    st.BindInt(13, expected_version);
    WG_ASSIGN_OR_RETURN(PermitRow updated, sqlite::ReadOne(st, &sqlite::ReadPermit, not_found));
    st.Reset();
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, row.org_id, facts, now));
    WG_RETURN_IF_ERROR(txn.Commit());
    return updated;
  }

  Result<PermitRow> GetPermit(core::OrgId org, std::int64_t id) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_PERMIT_COLUMNS
                                       " FROM permits WHERE id = ?1 AND org_id = ?2"));
    st.BindInt(1, id);
    st.BindInt(2, org.value);
    return sqlite::ReadOne(st, &sqlite::ReadPermit, "permit " + std::to_string(id) + " not found");
  }

  Result<PermitRow> FindPermitByNumber(core::OrgId org, const std::string& number) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_PERMIT_COLUMNS
                                       " FROM permits WHERE org_id = ?1 AND number = ?2"));
    st.BindInt(1, org.value);
    st.BindText(2, number);
    return sqlite::ReadOne(st, &sqlite::ReadPermit, "permit " + Quote(number) + " not found");
  }

  Result<std::vector<PermitRow>> ListPermits(core::OrgId org, const PermitFilter& filter,
                                             std::int64_t before_id, int limit) override {
    if (limit < 1 || limit > kMaxPageLimit) {
      return Status::InvalidArgument("limit must be in 1.." + std::to_string(kMaxPageLimit),
                                     "limit");
    }
    if (before_id < 0) return Status::InvalidArgument("must not be negative", "before_id");
    WG_RETURN_IF_ERROR(CheckStates(filter.states, "filter.states"));
    WG_RETURN_IF_ERROR(CheckCode(filter.site, 0, "filter.site"));
    WG_RETURN_IF_ERROR(CheckCode(filter.type, 0, "filter.type"));
    WG_RETURN_IF_ERROR(CheckCode(filter.grade, 0, "filter.grade"));
    // Only the filters in use appear in the SQL, so the planner can pick the index that
    // fits them; each combination is prepared once (PrepareBuilt).
    int param = 1;  // ?1 is the organization
    auto next = [&param] { return "?" + std::to_string(++param); };
    std::string sql = "SELECT " WG_STORE_PERMIT_COLUMNS " FROM permits WHERE org_id = ?1";
    if (!filter.states.empty()) {
      sql += " AND state IN (" + Placeholders(param, filter.states.size()) + ")";
    }
    if (!filter.site.empty()) sql += " AND site = " + next();
    if (!filter.type.empty()) sql += " AND type = " + next();
    if (!filter.grade.empty()) sql += " AND grade = " + next();
    if (filter.from.has_value()) sql += " AND planned_end > " + next();
    if (filter.to.has_value()) sql += " AND planned_start < " + next();
    if (before_id > 0) sql += " AND id < " + next();
    sql += " ORDER BY id DESC LIMIT " + next();

    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->PrepareBuilt(std::move(sql)));
    int i = 1;
    st.BindInt(i, org.value);
    for (const std::string& s : filter.states) st.BindText(++i, s);
    if (!filter.site.empty()) st.BindText(++i, filter.site);
    if (!filter.type.empty()) st.BindText(++i, filter.type);
    if (!filter.grade.empty()) st.BindText(++i, filter.grade);
    if (filter.from.has_value()) st.BindTime(++i, *filter.from);
    if (filter.to.has_value()) st.BindTime(++i, *filter.to);
    if (before_id > 0) st.BindInt(++i, before_id);
    st.BindInt(++i, limit);
    if (i != param) return Status::Internal("ListPermits bound the wrong number of parameters");
    return sqlite::ReadAll(st, &sqlite::ReadPermit);
  }

  Status ScanPermits(const std::vector<std::string>& states,
                     const std::function<bool(const PermitRow&)>& on_row) override {
    WG_RETURN_IF_ERROR(CheckStates(states, "states"));
    std::string sql = "SELECT " WG_STORE_PERMIT_COLUMNS " FROM permits";
    int param = 0;
    if (!states.empty()) sql += " WHERE state IN (" + Placeholders(param, states.size()) + ")";
    sql += " ORDER BY id";
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    CallbackMark mark(callback_thread_);
    WG_ASSIGN_OR_RETURN(Statement st, conn_->PrepareBuilt(std::move(sql)));
    for (std::size_t i = 0; i < states.size(); ++i) st.BindText(static_cast<int>(i) + 1, states[i]);
    // One statement reads one snapshot; no transaction needed around it.
    while (true) {
      WG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      WG_ASSIGN_OR_RETURN(PermitRow p, sqlite::ReadPermit(st));
      if (!on_row(p)) return Status::Ok();
    }
  }

  Result<std::vector<PermitChange>> PermitChangesSince(std::int64_t revision,
                                                       int limit) override {
    if (limit < 1 || limit > kMaxChangesLimit) {
      return Status::InvalidArgument(
          "limit must be in 1.." + std::to_string(kMaxChangesLimit), "limit");
    }
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT " WG_STORE_PERMIT_COLUMNS " FROM permits "
                                       "WHERE revision > ?1 ORDER BY revision LIMIT ?2"));
    st.BindInt(1, revision);
    st.BindInt(2, limit);
    std::vector<PermitChange> out;
    while (true) {
      WG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return out;
      WG_ASSIGN_OR_RETURN(PermitRow p, sqlite::ReadPermit(st));
      out.push_back(PermitChange{st.ColumnInt(sqlite::kPermitRevisionColumn), std::move(p)});
    }
  }

  Status AddUserKey(const UserKeyRow& key, const FactDrafts& facts) override {
    if (key.version < 1) {
      return Status::InvalidArgument("must be at least 1, got " + std::to_string(key.version),
                                     "version");
    }
    WG_RETURN_IF_ERROR(CheckBytes(key.public_pem, 1, kMaxKeyBytes, /*utf8=*/true, "public_pem"));
    WG_RETURN_IF_ERROR(
        CheckBytes(key.sealed_private, 1, kMaxKeyBytes, /*utf8=*/false, "sealed_private"));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_RETURN_IF_ERROR(CheckUserInOrg(key.org_id, key.user_id));
    std::int64_t latest = 0;
    {
      WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT coalesce(max(version), 0) "
                                                       "FROM user_keys WHERE user_id = ?1"));
      st.BindInt(1, key.user_id.value);
      WG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Internal("max(version) returned no row");
      latest = st.ColumnInt(0);
    }
    const std::string user = "user " + std::to_string(key.user_id.value);
    if (key.version <= latest) {
      return Status::AlreadyExists("key version " + std::to_string(key.version) + " of " + user +
                                       " already exists (latest is " + std::to_string(latest) +
                                       ")",
                                   "version");
    }
    if (key.version != latest + 1) {
      return Status::FailedPrecondition("the next key version of " + user + " is " +
                                            std::to_string(latest + 1) + ", got " +
                                            std::to_string(key.version),
                                        "version");
    }
    const core::Timestamp now = clock_->Now();
    {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("INSERT INTO user_keys (" WG_STORE_USER_KEY_COLUMNS
                                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
      st.BindInt(1, key.user_id.value);
      st.BindInt(2, key.org_id.value);
      st.BindInt(3, key.version);
      st.BindText(4, key.public_pem);
      st.BindBlob(5, key.sealed_private);
      st.BindTime(6, OrNow(key.created_at, now));
      WG_RETURN_IF_ERROR(st.StepDone());
    }
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, key.org_id, facts, now));
    return txn.Commit();
  }

  Result<std::vector<UserKeyRow>> ListUserKeys(core::OrgId org, core::UserId user) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kRead));
    WG_RETURN_IF_ERROR(CheckUserInOrg(org, user));
    std::vector<UserKeyRow> keys;
    {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn_->Prepare("SELECT " WG_STORE_USER_KEY_COLUMNS
                                         " FROM user_keys WHERE user_id = ?1 AND org_id = ?2 "
                                         "ORDER BY version"));
      st.BindInt(1, user.value);
      st.BindInt(2, org.value);
      WG_ASSIGN_OR_RETURN(keys, sqlite::ReadAll(st, &sqlite::ReadUserKey));
    }
    WG_RETURN_IF_ERROR(txn.Commit());
    return keys;
  }

  Status PutAuthorization(core::OrgId org, core::UserId user, const std::string& scope_json,
                          const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(CheckBytes(scope_json, 0, kMaxDocumentBytes, /*utf8=*/true, "scope_json"));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_RETURN_IF_ERROR(CheckUserInOrg(org, user));
    const core::Timestamp now = clock_->Now();
    if (scope_json.empty()) {
      WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("DELETE FROM authorizations "
                                                       "WHERE user_id = ?1 AND org_id = ?2"));
      st.BindInt(1, user.value);
      st.BindInt(2, org.value);
      WG_RETURN_IF_ERROR(st.StepDone());
    } else {
      WG_ASSIGN_OR_RETURN(
          Statement st,
          conn_->Prepare("INSERT INTO authorizations (user_id, org_id, scope_json, updated_at) "
                         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) DO UPDATE SET "
                         "scope_json = excluded.scope_json, updated_at = excluded.updated_at"));
      st.BindInt(1, user.value);
      st.BindInt(2, org.value);
      st.BindText(3, scope_json);
      st.BindTime(4, now);
      WG_RETURN_IF_ERROR(st.StepDone());
    }
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, now));
    return txn.Commit();
  }

  Result<std::optional<std::string>> GetAuthorization(core::OrgId org,
                                                      core::UserId user) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kRead));
    WG_RETURN_IF_ERROR(CheckUserInOrg(org, user));
    std::optional<std::string> scope;
    {
      WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT scope_json FROM authorizations "
                                                       "WHERE user_id = ?1 AND org_id = ?2"));
      st.BindInt(1, user.value);
      st.BindInt(2, org.value);
      WG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) scope = st.ColumnText(0);
    }
    WG_RETURN_IF_ERROR(txn.Commit());
    return scope;
  }

  static Status CheckFactRange(std::int64_t from_seq, int limit) {
    if (from_seq < 0) return Status::InvalidArgument("must not be negative", "from_seq");
    if (limit < 1 || limit > 100000) {
      return Status::InvalidArgument("limit must be in 1..100000", "limit");
    }
    return Status::Ok();
  }

  Result<std::int64_t> CountWorkers() override { return Count("SELECT count(*) FROM workers"); }

  // ---- Live monitoring (schema v5); the statements are in monitor.cc.

  Result<PointRow> PutPoint(const PointRow& row, std::int64_t expected_version,
                            const FactDrafts& facts) override {
    if (expected_version < 0 || expected_version == std::numeric_limits<std::int64_t>::max()) {
      return Status::InvalidArgument(
          "expected version must be 0 (create) or at least 1, got " +
              std::to_string(expected_version),
          "version");
    }
    WG_RETURN_IF_ERROR(sqlite::CheckPointRow(row));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const core::Timestamp now = clock_->Now();
    WG_ASSIGN_OR_RETURN(PointRow stored, sqlite::PutPoint(*conn_, row, expected_version, now));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, row.org_id, facts, now));
    WG_RETURN_IF_ERROR(txn.Commit());
    return stored;
  }

  Status DeletePoint(core::OrgId org, const std::string& id, const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPointId(id, "id"));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const core::Timestamp now = clock_->Now();
    WG_RETURN_IF_ERROR(sqlite::DeletePoint(*conn_, org, id, now));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, now));
    return txn.Commit();
  }

  Result<PointRow> GetPoint(core::OrgId org, const std::string& id) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPointId(id, "id"));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::GetPoint(*conn_, org, id);
  }

  Result<std::vector<PointRow>> ListPoints(core::OrgId org) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::ListPoints(*conn_, org);
  }

  Status ScanPoints(const std::function<bool(const PointRow&)>& on_row) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    CallbackMark mark(callback_thread_);
    return sqlite::ScanPoints(*conn_, on_row);
  }

  Status RecordAlarms(const std::vector<AlarmRow>& alarms,
                      const std::vector<NotificationRow>& notifications, core::OrgId org,
                      const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(sqlite::CheckRecordAlarms(alarms, notifications, org));
    if (alarms.empty() && notifications.empty() && facts.empty()) return Status::Ok();
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const core::Timestamp now = clock_->Now();
    WG_RETURN_IF_ERROR(sqlite::UpsertAlarms(*conn_, alarms));
    WG_RETURN_IF_ERROR(sqlite::InsertNotifications(*conn_, notifications, now));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, now));
    return txn.Commit();
  }

  Result<AlarmRow> GetAlarm(core::OrgId org, std::int64_t id) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::GetAlarm(*conn_, org, id);
  }

  Result<std::vector<AlarmRow>> ListAlarms(core::OrgId org, const AlarmFilter& filter,
                                           std::int64_t before_id, int limit) override {
    WG_RETURN_IF_ERROR(sqlite::CheckLimit(limit, kMaxPageLimit));
    if (before_id < 0) return Status::InvalidArgument("must not be negative", "before_id");
    WG_RETURN_IF_ERROR(sqlite::CheckAlarmFilter(filter));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::ListAlarms(*conn_, org, filter, before_id, limit);
  }

  Result<std::vector<AlarmRow>> OpenAlarms() override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::OpenAlarms(*conn_);
  }

  Result<std::int64_t> MaxAlarmId() override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::MaxAlarmId(*conn_);
  }

  Status AppendReadingBlocks(core::OrgId org, const std::vector<ReadingBlockRow>& blocks,
                             const std::vector<int>& fact_index,
                             const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(sqlite::CheckReadingBlocks(blocks, fact_index, org, facts.size()));
    if (blocks.empty() && facts.empty()) return Status::Ok();
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    // The facts go first: their seqs, assigned here, are what the blocks point at.
    WG_ASSIGN_OR_RETURN(std::int64_t first_seq,
                        sqlite::InsertFactsAt(*conn_, org, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(sqlite::InsertReadingBlocks(*conn_, blocks, fact_index, first_seq));
    return txn.Commit();
  }

  Result<std::vector<ReadingBlockRow>> ReadingBlocks(core::OrgId org, const std::string& point,
                                                     core::Timestamp from, core::Timestamp to,
                                                     int limit) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPointId(point, "point"));
    WG_RETURN_IF_ERROR(sqlite::CheckLimit(limit, kMaxBlocksLimit));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::ReadingBlocks(*conn_, org, point, from, to, limit);
  }

  // ---- People on site (schema v6); the statements are in presence.cc.

  Result<PresenceObjectRow> PutPresenceObject(const PresenceObjectRow& row,
                                              std::int64_t expected_version,
                                              const FactDrafts& facts) override {
    if (expected_version < 0 || expected_version == std::numeric_limits<std::int64_t>::max()) {
      return Status::InvalidArgument(
          "expected version must be 0 (create) or at least 1, got " +
              std::to_string(expected_version),
          "version");
    }
    WG_RETURN_IF_ERROR(sqlite::CheckPresenceObjectRow(row));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const core::Timestamp now = clock_->Now();
    WG_ASSIGN_OR_RETURN(PresenceObjectRow stored,
                        sqlite::PutPresenceObject(*conn_, row, expected_version, now));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, row.org_id, facts, now));
    WG_RETURN_IF_ERROR(txn.Commit());
    return stored;
  }

  Status DeletePresenceObject(core::OrgId org, const std::string& kind, const std::string& id,
                              const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPresenceKind(kind, "kind"));
    WG_RETURN_IF_ERROR(sqlite::CheckPointId(id, "id"));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const core::Timestamp now = clock_->Now();
    WG_RETURN_IF_ERROR(sqlite::DeletePresenceObject(*conn_, org, kind, id, now));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, now));
    return txn.Commit();
  }

  Result<PresenceObjectRow> GetPresenceObject(core::OrgId org, const std::string& kind,
                                              const std::string& id) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPresenceKind(kind, "kind"));
    WG_RETURN_IF_ERROR(sqlite::CheckPointId(id, "id"));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::GetPresenceObject(*conn_, org, kind, id);
  }

  Result<std::vector<PresenceObjectRow>> ListPresenceObjects(core::OrgId org,
                                                             const std::string& kind) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPresenceKind(kind, "kind"));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::ListPresenceObjects(*conn_, org, kind);
  }

  Status ScanPresenceObjects(
      const std::function<bool(const PresenceObjectRow&)>& on_row) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    CallbackMark mark(callback_thread_);
    return sqlite::ScanPresenceObjects(*conn_, on_row);
  }

  Result<TagBindingRow> AddTagBinding(const TagBindingRow& row,
                                      const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(sqlite::CheckTagBindingRow(row));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    const core::Timestamp now = clock_->Now();
    WG_ASSIGN_OR_RETURN(TagBindingRow stored, sqlite::AddTagBinding(*conn_, row, now));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, row.org_id, facts, now));
    WG_RETURN_IF_ERROR(txn.Commit());
    return stored;
  }

  Result<TagBindingRow> EndTagBinding(core::OrgId org, std::int64_t id, core::Timestamp until,
                                      const FactDrafts& facts) override {
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(TagBindingRow stored, sqlite::EndTagBinding(*conn_, org, id, until));
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, org, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(txn.Commit());
    return stored;
  }

  Result<std::vector<TagBindingRow>> ListTagBindings(core::OrgId org,
                                                     const std::string& tag) override {
    if (!tag.empty()) WG_RETURN_IF_ERROR(sqlite::CheckPointId(tag, "tag"));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::ListTagBindings(*conn_, org, tag);
  }

  Status ScanTagBindings(const std::function<bool(const TagBindingRow&)>& on_row) override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    CallbackMark mark(callback_thread_);
    return sqlite::ScanTagBindings(*conn_, on_row);
  }

  Status AppendTrajectoryBlocks(core::OrgId org, const std::vector<TrajectoryBlockRow>& blocks,
                                const std::vector<int>& fact_index,
                                const FactDrafts& facts) override {
    WG_RETURN_IF_ERROR(sqlite::CheckTrajectoryBlocks(blocks, fact_index, org, facts.size()));
    if (blocks.empty() && facts.empty()) return Status::Ok();
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    // The facts go first: their seqs, assigned here, are what the blocks point at.
    WG_ASSIGN_OR_RETURN(std::int64_t first_seq,
                        sqlite::InsertFactsAt(*conn_, org, facts, clock_->Now()));
    WG_RETURN_IF_ERROR(sqlite::InsertTrajectoryBlocks(*conn_, blocks, fact_index, first_seq));
    return txn.Commit();
  }

  Result<std::vector<TrajectoryBlockRow>> TrajectoryBlocks(core::OrgId org,
                                                           const std::string& tag,
                                                           core::Timestamp from,
                                                           core::Timestamp to,
                                                           int limit) override {
    WG_RETURN_IF_ERROR(sqlite::CheckPointId(tag, "tag"));
    WG_RETURN_IF_ERROR(sqlite::CheckLimit(limit, kMaxBlocksLimit));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::TrajectoryBlocks(*conn_, org, tag, from, to, limit);
  }

  Result<std::vector<NotificationRow>> DueNotifications(core::Timestamp now, int max_attempts,
                                                        int limit) override {
    if (max_attempts < 1) {
      return Status::InvalidArgument("must be at least 1, got " + std::to_string(max_attempts),
                                     "max_attempts");
    }
    WG_RETURN_IF_ERROR(sqlite::CheckLimit(limit, kMaxPageLimit));
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::DueNotifications(*conn_, now, max_attempts, limit);
  }

  Status MarkNotification(std::int64_t id, bool delivered, core::Timestamp now,
                          core::Timestamp next_attempt_at, const std::string& error) override {
    WG_RETURN_IF_ERROR(sqlite::CheckNotificationError(error));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_RETURN_IF_ERROR(
        sqlite::MarkNotification(*conn_, id, delivered, now, next_attempt_at, error));
    return txn.Commit();
  }

  Result<std::vector<NotificationRow>> ListNotifications(core::OrgId org, std::int64_t after_id,
                                                         int limit) override {
    WG_RETURN_IF_ERROR(sqlite::CheckLimit(limit, kMaxPageLimit));
    if (after_id < 0) return Status::InvalidArgument("must not be negative", "after_id");
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::ListNotifications(*conn_, org, after_id, limit);
  }

  Result<std::int64_t> CountPendingNotifications() override {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    return sqlite::CountPendingNotifications(*conn_);
  }

  Result<std::int64_t> CountCertificates() override {
    return Count("SELECT count(*) FROM certificates");
  }

 private:
  friend class SqliteImportSession;

  struct WriteLocks {
    std::unique_lock<std::mutex> write;
    std::unique_lock<std::mutex> conn;
  };

  static bool IsPrivate(const Connection& conn) {
    // sqlite3_db_filename is "" for ":memory:" and temporary databases: only this
    // connection can see them.
    const char* name = sqlite3_db_filename(conn.db(), "main");
    return name == nullptr || *name == '\0';
  }

  bool ImportOpenOnThisThread() const {
    return import_thread_.load() == std::this_thread::get_id();
  }

  Status CheckNotInCallback() const {
    if (callback_thread_.load() == std::this_thread::get_id()) {
      return Status::FailedPrecondition(
          "a store callback (ScanAll, ScanPermits, ScanPoints, ScanPresenceObjects, "
          "ScanTagBindings, CreatePermitWith) must not "
          "call back into the store");
    }
    return Status::Ok();
  }

  Result<std::unique_lock<std::mutex>> LockRead() {
    WG_RETURN_IF_ERROR(CheckNotInCallback());
    if (private_db_ && ImportOpenOnThisThread()) {
      return Status::FailedPrecondition(
          "this thread holds an open import session; commit or drop it first");
    }
    return std::unique_lock<std::mutex>(mu_);
  }

  Result<WriteLocks> LockWrite() {
    WG_RETURN_IF_ERROR(CheckNotInCallback());
    if (ImportOpenOnThisThread()) {
      return Status::FailedPrecondition(
          "this thread holds an open import session; commit or drop it first");
    }
    WriteLocks locks;
    locks.write = std::unique_lock<std::mutex>(write_mu_);
    locks.conn = std::unique_lock<std::mutex>(mu_);
    return locks;
  }

  Status CheckPage(const Page& page) const {
    if (page.limit < 1 || page.limit > kMaxPageLimit) {
      return Status::InvalidArgument("limit must be in 1.." + std::to_string(kMaxPageLimit),
                                     "limit");
    }
    if (page.after_id < 0) return Status::InvalidArgument("must not be negative", "after_id");
    return Status::Ok();
  }

  Result<std::int64_t> Count(const char* sql) {
    WG_ASSIGN_OR_RETURN(auto lock, LockRead());
    WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare(sql));
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Internal("count(*) returned no row");
    return st.ColumnInt(0);
  }

  // Reads the revision counter; `conn_` locked.
  Result<std::int64_t> ReadRevision() { return ReadRevisionOn(*conn_); }

  static Result<std::int64_t> ReadRevisionOn(Connection& conn) {
    WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT value FROM revision WHERE id = 1"));
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Corruption("revision counter row is missing");
    return st.ColumnInt(0);
  }

  // CreatePermit and CreatePermitWith: `facts` are recorded, and `finish` (may be null) is
  // called after the row is inserted.
  Result<PermitRow> InsertPermit(const PermitRow& row, const std::string& number_prefix,
                                 const FactDrafts& facts, const PermitFinisher* finish) {
    WG_RETURN_IF_ERROR(CheckNumberPrefix(number_prefix));
    WG_RETURN_IF_ERROR(CheckPermitColumns(row));
    WG_ASSIGN_OR_RETURN(auto locks, LockWrite());
    WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn_, Transaction::Kind::kWrite));
    WG_ASSIGN_OR_RETURN(std::string number, NextPermitNumber(row.org_id, number_prefix));
    WG_ASSIGN_OR_RETURN(std::int64_t rev, NextRevision());
    const core::Timestamp now = clock_->Now();
    const core::Timestamp created = OrNow(row.created_at, now);
    WG_ASSIGN_OR_RETURN(
        Statement st,
        conn_->Prepare("INSERT INTO permits (org_id, number, site, type, grade, state, "
                       "planned_start, planned_end, version, document, created_at, updated_at, "
                       "revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11, ?12) "
                       "RETURNING " WG_STORE_PERMIT_COLUMNS));
    st.BindInt(1, row.org_id.value);
    st.BindText(2, number);
    st.BindText(3, row.site);
    st.BindText(4, row.type);
    st.BindText(5, row.grade);
    st.BindText(6, row.state);
    st.BindTime(7, row.planned_start);
    st.BindTime(8, row.planned_end);
    st.BindText(9, row.document);
    st.BindTime(10, created);
    st.BindTime(11, OrNow(row.updated_at, created));
    st.BindInt(12, rev);
    auto r = sqlite::ReadOne(st, &sqlite::ReadPermit, "insert returned no row");
    if (!r.has_value()) {
      return Explain(st, r.error(),
                     {.duplicate = "permit number " + Quote(number) + " already exists",
                      .duplicate_field = "number",
                      .missing_parent = OrgMissing(row.org_id),
                      .missing_field = "org_id"});
    }
    st.Reset();
    FactDrafts all = facts;
    if (finish != nullptr) {
      PermitRow assigned = *r;
      Status s;
      {
        CallbackMark mark(callback_thread_);
        s = (*finish)(assigned, all);
      }
      WG_RETURN_IF_ERROR(s);
      // Only the document is taken back; the other columns were just written.
      if (assigned.document != r->document) {
        WG_RETURN_IF_ERROR(
            CheckBytes(assigned.document, 0, kMaxDocumentBytes, /*utf8=*/true, "document"));
        WG_ASSIGN_OR_RETURN(Statement up,
                            conn_->Prepare("UPDATE permits SET document = ?1 WHERE id = ?2"));
        up.BindText(1, assigned.document);
        up.BindInt(2, r->id);
        WG_RETURN_IF_ERROR(up.StepDone());
        r->document = std::move(assigned.document);
      }
    }
    WG_RETURN_IF_ERROR(sqlite::InsertFacts(*conn_, row.org_id, all, now));
    WG_RETURN_IF_ERROR(txn.Commit());
    return r;
  }

  // The next free number of (org, prefix), recorded in permit_sequences; inside a write
  // transaction on `conn_`. The sequence skips numbers already taken, which only happens
  // when one prefix extends another with digits ("A-1" + "0001" = "A-" + "10001").
  Result<std::string> NextPermitNumber(core::OrgId org, const std::string& prefix) {
    std::int64_t seq = 0;
    {
      WG_ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT last FROM permit_sequences "
                                                       "WHERE org_id = ?1 AND prefix = ?2"));
      st.BindInt(1, org.value);
      st.BindText(2, prefix);
      WG_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) seq = st.ColumnInt(0);
    }
    std::string number;
    {
      WG_ASSIGN_OR_RETURN(Statement taken, conn_->Prepare("SELECT 1 FROM permits "
                                                          "WHERE org_id = ?1 AND number = ?2"));
      while (true) {
        if (seq == std::numeric_limits<std::int64_t>::max()) {
          return Status::FailedPrecondition("permit numbers of prefix " + Quote(prefix) +
                                                " are exhausted",
                                            "number_prefix");
        }
        number = PermitNumber(prefix, ++seq);
        taken.Reset();
        taken.BindInt(1, org.value);
        taken.BindText(2, number);
        WG_ASSIGN_OR_RETURN(bool exists, taken.Step());
        if (!exists) break;
      }
    }
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("INSERT INTO permit_sequences (org_id, prefix, last) "
                                       "VALUES (?1, ?2, ?3) ON CONFLICT (org_id, prefix) "
                                       "DO UPDATE SET last = excluded.last"));
    st.BindInt(1, org.value);
    st.BindText(2, prefix);
    st.BindInt(3, seq);
    if (Status s = st.StepDone(); !s.ok()) {
      return Explain(st, s, {.missing_parent = OrgMissing(org), .missing_field = "org_id"});
    }
    return number;
  }

  // kNotFound naming "user_id" unless `user` is a user of `org`; `conn_` locked.
  Status CheckUserInOrg(core::OrgId org, core::UserId user) {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("SELECT 1 FROM users WHERE id = ?1 AND org_id = ?2"));
    st.BindInt(1, user.value);
    st.BindInt(2, org.value);
    WG_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) {
      return Status::NotFound("user " + std::to_string(user.value) + " not found", "user_id");
    }
    return Status::Ok();
  }

  // Increments the revision counter and returns the new value; inside a write
  // transaction on `conn_`.
  Result<std::int64_t> NextRevision() {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn_->Prepare("UPDATE revision SET value = value + 1 WHERE id = 1 "
                                       "RETURNING value"));
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Corruption("revision counter row is missing");
    return st.ColumnInt(0);
  }

  const SqliteOptions options_;
  core::SystemClock system_clock_;
  const core::Clock* clock_;
  const int schema_version_;
  const bool private_db_;
  std::mutex write_mu_;  // writers in this process; held by an open import session
  std::mutex mu_;        // guards conn_
  // The thread holding an open import session, and the thread inside a store callback
  // (ScanAll, ScanPermits, CreatePermitWith) (default id: none).
  std::atomic<std::thread::id> import_thread_{};
  std::atomic<std::thread::id> callback_thread_{};
  std::unique_ptr<Connection> conn_;
};

void SqliteImportSession::Release() {
  txn_.reset();       // rolls back unless committed
  importer_.reset();  // refers to the connection
  own_conn_.reset();
  if (write_lock_.owns_lock()) {
    store_->import_thread_.store(std::thread::id());
    if (conn_lock_.owns_lock()) conn_lock_.unlock();
    write_lock_.unlock();
  }
}

Result<std::unique_ptr<ImportSession>> SqliteStore::BeginImport(core::OrgId org) {
  if (options_.read_only) return Status::FailedPrecondition("the store is read-only");
  WG_ASSIGN_OR_RETURN(WriteLocks locks, LockWrite());
  std::unique_ptr<Connection> own_conn;
  Connection* conn = conn_.get();
  if (private_db_) {
    // Only conn_ sees the data: keep mu_ for the whole session.
  } else {
    locks.conn.unlock();
    WG_ASSIGN_OR_RETURN(own_conn, OpenConnection(options_, /*main=*/false, kImportCacheKib));
    conn = own_conn.get();
  }
  WG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn, Transaction::Kind::kWrite));
  {
    // Fail early, before any row is sent, when the organization does not exist.
    WG_ASSIGN_OR_RETURN(Statement st, conn->Prepare("SELECT 1 FROM organizations WHERE id = ?1"));
    st.BindInt(1, org.value);
    WG_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return Status::InvalidArgument(OrgMissing(org), "org_id");
  }
  WG_ASSIGN_OR_RETURN(std::int64_t rev, ReadRevisionOn(*conn));
  import_thread_.store(std::this_thread::get_id());
  return std::unique_ptr<ImportSession>(std::make_unique<SqliteImportSession>(
      this, std::move(locks.write), std::move(locks.conn), std::move(own_conn), conn,
      std::move(txn), sqlite::Importer(*conn, org, clock_->Now(), rev)));
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  if (options.path.empty()) {
    return Status::InvalidArgument("database path must not be empty", "path");
  }
  if (options.busy_timeout_ms < 0) {
    return Status::InvalidArgument("must not be negative", "busy_timeout_ms");
  }
  WG_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                      OpenConnection(options, /*main=*/true, kCacheKib));
  core::SystemClock system_clock;
  const core::Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  WG_ASSIGN_OR_RETURN(int version,
                      sqlite::ApplyMigrations(*conn, clock.Now(), options.read_only));
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(options, std::move(conn), version));
}

}  // namespace wg::store

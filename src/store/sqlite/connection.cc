#include "connection.h"

#include <spdlog/spdlog.h>

#include <climits>
#include <utility>

namespace wg::store::sqlite {

Status MapError(sqlite3* db, int rc, std::string_view context) {
  std::string msg(context);
  if (!msg.empty()) msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
          return Status::AlreadyExists(std::move(msg));
        default:  // FOREIGNKEY, CHECK, NOTNULL, TRIGGER, ...
          return Status::InvalidArgument(std::move(msg));
      }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(msg));
    default:
      return Status::IoError(std::move(msg));
  }
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy, StmtPtr owned)
    : db_(db), stmt_(stmt), busy_(busy), owned_(std::move(owned)) {
  if (busy_ != nullptr) *busy_ = true;
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      busy_(std::exchange(other.busy_, nullptr)),
      owned_(std::move(other.owned_)),
      bind_rc_(other.bind_rc_),
      last_error_(other.last_error_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  // sqlite3_reset returns the error of the latest step, already reported by Step.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (busy_ != nullptr) *busy_ = false;
}

void Statement::BindInt(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindDouble(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindTextOrNull(int index, std::string_view value) {
  if (value.empty()) {
    const int rc = sqlite3_bind_null(stmt_, index);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return;
  }
  BindText(index, value);
}

void Statement::BindText(int index, std::string_view value) {
  // A non-null pointer for empty strings: a null pointer would bind SQL NULL.
  const char* data = value.empty() ? "" : value.data();
  const int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindBlob(int index, std::string_view bytes) {
  // A non-null pointer for empty values: a null pointer would bind SQL NULL.
  const char* data = bytes.empty() ? "" : bytes.data();
  const int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindOptionalDate(int index, const std::optional<core::Date>& d) {
  if (d.has_value()) {
    BindDate(index, *d);
    return;
  }
  const int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::Reset() {
  // The error of the latest step, if any, was already reported by Step.
  sqlite3_reset(stmt_);
  bind_rc_ = SQLITE_OK;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    last_error_ = bind_rc_;
    return MapError(db_, bind_rc_, "binding parameters");
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  last_error_ = rc;
  return MapError(db_, rc, {});
}

Status Statement::StepDone() {
  WG_ASSIGN_OR_RETURN(bool row, Step());
  if (row) return Status::Internal("statement returned a row where none was expected");
  return Status::Ok();
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Statement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::ColumnText(int col) const {
  const auto* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  const int n = sqlite3_column_bytes(stmt_, col);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n));
}

std::string Statement::ColumnBlob(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  if (data == nullptr) return {};
  const int n = sqlite3_column_bytes(stmt_, col);
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(n));
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int flags,
                                                     int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // sqlite3_open_v2 allocates a handle even on failure; it must be closed either way.
  DbPtr db(raw);
  if (rc != SQLITE_OK) return MapError(db.get(), rc, "opening '" + path + "'");
  if (const int erc = sqlite3_extended_result_codes(db.get(), 1); erc != SQLITE_OK) {
    return MapError(db.get(), erc, "enabling extended result codes");
  }
  if (const int brc = sqlite3_busy_timeout(db.get(), busy_timeout_ms); brc != SQLITE_OK) {
    return MapError(db.get(), brc, "setting busy timeout");
  }
  return std::make_unique<Connection>(std::move(db));
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.busy) {
    return Statement(db_.get(), it->second.stmt.get(), &it->second.busy, nullptr);
  }
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
    return Status::Internal("SQL statement too long");
  }
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return MapError(db_.get(), rc, "preparing statement");
  if (!stmt) return Status::Internal("empty SQL statement");
  if (it != cache_.end()) {
    // The cached copy is in use further up the stack (a nested query of the same text):
    // this one lives only as long as the Statement.
    return Statement(db_.get(), stmt.get(), nullptr, std::move(stmt));
  }
  auto [pos, inserted] = cache_.emplace(sql, CachedStatement{std::move(stmt), false});
  (void)inserted;
  return Statement(db_.get(), pos->second.stmt.get(), &pos->second.busy, nullptr);
}

Result<Statement> Connection::PrepareBuilt(std::string sql) {
  auto it = built_sql_.find(sql);
  if (it == built_sql_.end()) it = built_sql_.insert(std::move(sql)).first;
  return Prepare(*it);
}

Status Connection::Exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  std::unique_ptr<char, decltype(&sqlite3_free)> err_owner(err, &sqlite3_free);
  if (rc != SQLITE_OK) return MapError(db_.get(), rc, {});
  return Status::Ok();
}

Result<std::string> Connection::QueryText(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return MapError(db_.get(), rc, sql);
  Statement st(db_.get(), stmt.get(), nullptr, nullptr);
  WG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal(std::string("no result from ") + sql);
  return st.ColumnText(0);
}

Result<Transaction> Transaction::Begin(Connection& conn, Kind kind) {
  WG_RETURN_IF_ERROR(conn.Exec(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(&conn);
}

Transaction::Transaction(Transaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

Transaction::~Transaction() {
  if (conn_ == nullptr) return;
  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll back by themselves; then there is
  // nothing left to undo.
  if (sqlite3_get_autocommit(conn_->db()) != 0) return;
  // Nothing to return an error to from a destructor; a failed ROLLBACK leaves SQLite to
  // roll back when the connection next begins, so it is logged, not fatal.
  if (Status s = conn_->Exec("ROLLBACK"); !s.ok()) {
    spdlog::warn("sqlite: ROLLBACK failed: {}", s.ToString());
  }
}

Status Transaction::Commit() {
  if (conn_ == nullptr) return Status::Internal("transaction already finished");
  Status s = conn_->Exec("COMMIT");
  // On failure the destructor still rolls back (COMMIT failing with BUSY leaves the
  // transaction open).
  if (s.ok()) conn_ = nullptr;
  return s;
}

}  // namespace wg::store::sqlite

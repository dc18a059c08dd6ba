#pragma once
// Connection: one SQLite database handle with a cache of prepared statements, plus the
// RAII pieces every query uses: Statement (a prepared statement in use; reset and
// unbound when it leaves scope, so no statement keeps a read transaction open) and
// Transaction (rolled back unless committed). MapError turns SQLite result codes into
// the Store's error codes. Private to the SQLite backend.
//
// Thread-safety: none. A Connection and every Statement and Transaction made from it must
// be used by one thread at a time; SqliteStore serialises all use behind its mutex.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::store::sqlite {

using core::Result;
using core::Status;

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Maps a failed SQLite call to a Status:
//   UNIQUE / PRIMARY KEY constraint  -> kAlreadyExists
//   FOREIGN KEY, CHECK, NOT NULL     -> kInvalidArgument
//   BUSY / LOCKED                    -> kUnavailable
//   CORRUPT / NOTADB                 -> kCorruption
//   anything else                    -> kIoError
// The message carries sqlite3_errmsg, which must still describe `rc` (call right away).
Status MapError(sqlite3* db, int rc, std::string_view context);

// A prepared statement in use. Bind* record the first binding error, which Step reports;
// texts are bound without copying, so bound strings must outlive the Step calls.
class Statement {
 public:
  // `busy` (may be null) is the cache's in-use flag, cleared on destruction. `owned` is
  // set when the statement is not cached (the cached one was already in use).
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy, StmtPtr owned);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  void BindInt(int index, std::int64_t value);
  void BindBool(int index, bool value) { BindInt(index, value ? 1 : 0); }
  void BindText(int index, std::string_view value);
  void BindText(int index, std::string&&) = delete;  // would dangle
  // Binds SQL NULL for an empty value (optional unique keys), else the text.
  void BindTextOrNull(int index, std::string_view value);
  // Binds a BLOB (bytes; an empty value is a zero-length BLOB, not NULL).
  void BindBlob(int index, std::string_view bytes);
  void BindBlob(int index, std::string&&) = delete;  // would dangle
  // A double (REAL); SQLite stores NaN as NULL, so callers reject NaN first.
  void BindDouble(int index, double value);
  void BindTime(int index, core::Timestamp t) { BindInt(index, t.micros); }
  void BindDate(int index, core::Date d) { BindInt(index, d.days); }
  void BindOptionalDate(int index, const std::optional<core::Date>& d);

  // Advances: true when a row is ready, false when the statement has finished.
  Result<bool> Step();
  // Steps once and requires the statement to finish without producing a row.
  Status StepDone();

  // Rewinds for another execution (new bindings follow).
  void Reset();
  // Extended result code of the latest failed Step (SQLITE_OK if none): lets a caller
  // tell a FOREIGN KEY failure from a CHECK failure, both kInvalidArgument.
  int last_error() const { return last_error_; }

  // Columns are 0-based.
  bool IsNull(int col) const;
  std::int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  // The bytes of a BLOB (or TEXT) column; "" for NULL.
  std::string ColumnBlob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* busy_;
  StmtPtr owned_;
  int bind_rc_ = SQLITE_OK;
  int last_error_ = SQLITE_OK;
};

class Connection {
 public:
  // sqlite3_open_v2 with `flags`; extended result codes on, busy timeout set.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                  int busy_timeout_ms);

  // A cached prepared statement for `sql`, which must have static storage duration (the
  // cache keys on it). A statement already in use is prepared afresh, uncached.
  Result<Statement> Prepare(std::string_view sql);
  // Prepare for SQL built at run time from a bounded set of variants (the filter
  // combinations of a list query): the text is kept for the connection's life, so each
  // variant is prepared once and cached like a static one.
  Result<Statement> PrepareBuilt(std::string sql);
  // Runs one or more statements without results (pragmas, DDL, BEGIN/COMMIT).
  Status Exec(const char* sql);
  // Runs a statement returning one text value (e.g. "PRAGMA journal_mode=WAL").
  Result<std::string> QueryText(const char* sql);
  // Rows changed by the latest INSERT/UPDATE/DELETE.
  std::int64_t Changes() const { return sqlite3_changes64(db_.get()); }
  // False in autocommit mode, including after an error rolled a transaction back.
  bool InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }
  // Rowid of the latest successful INSERT on this connection.
  std::int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  sqlite3* db() const { return db_.get(); }

  explicit Connection(DbPtr db) : db_(std::move(db)) {}

 private:
  struct CachedStatement {
    StmtPtr stmt;
    bool busy = false;
  };
  struct SvHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  DbPtr db_;  // declared first: destroyed after the statements that use it
  // Texts of PrepareBuilt statements; a node container, so the views cache_ keys on stay
  // valid. Declared before cache_: destroyed after it.
  std::unordered_set<std::string> built_sql_;
  std::unordered_map<std::string_view, CachedStatement, SvHash, std::equal_to<>> cache_;
};

// A transaction on a Connection, rolled back on destruction unless committed. kWrite
// takes the write lock at BEGIN (BEGIN IMMEDIATE) so a writer waits for the busy timeout
// up front instead of failing on upgrade; kRead is BEGIN DEFERRED, which in WAL mode
// pins one consistent snapshot for every statement that follows.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };
  static Result<Transaction> Begin(Connection& conn, Kind kind);
  ~Transaction();
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed, rolled back or moved from
};

}  // namespace wg::store::sqlite

#pragma once
// Versioned schema migrations of the SQLite backend (docs/formats/sqlite-schema.md).
//
// Migration N is an ordered list of SQL statements. ApplyMigrations applies every
// migration newer than the database's version, each in its own write transaction that
// also records (N, applied_at) in schema_migrations, so a crash leaves the database at
// exactly some version and two processes opening the same file cannot both apply N.
// Published migrations are never edited: a schema change is a new migration appended to
// the list.

#include <span>
#include <string_view>

#include "connection.h"
#include "wg/core/time.h"

namespace wg::store::sqlite {

struct Migration {
  int version;
  std::string_view description;
  std::span<const char* const> statements;
};

// Every known migration, in version order starting at 1.
std::span<const Migration> Migrations();
// The version this binary brings a database to.
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion() and returns that version. With
// `read_only` nothing is written; a database that is not already at the latest version
// is kFailedPrecondition. A database newer than this binary is always
// kFailedPrecondition.
Result<int> ApplyMigrations(Connection& conn, core::Timestamp now, bool read_only);

}  // namespace wg::store::sqlite

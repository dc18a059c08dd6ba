#pragma once
// The fact outbox of the SQLite backend (docs/adr/0007-facts-outbox.md): inserting a
// write's facts inside the caller's open write transaction, and reading them back.

#include <cstdint>
#include <string>
#include <vector>

#include "connection.h"
#include "wg/store/store.h"

namespace wg::store::sqlite {

// Validates and inserts `facts` for `org` at the next sequence numbers, stamped `now`.
// Must run inside a write transaction on `conn` (the caller commits or rolls back).
Status InsertFacts(Connection& conn, core::OrgId org, const FactDrafts& facts,
                   core::Timestamp now);

// The same, returning the seq given to facts[0] (the next seq when `facts` is empty), so a
// write can point at the facts it recorded (ReadingBlockRow::fact_seq).
Result<std::int64_t> InsertFactsAt(Connection& conn, core::OrgId org, const FactDrafts& facts,
                                   core::Timestamp now);

Result<StoredFact> ReadFact(const Statement& st);
inline constexpr const char* kFactColumns =
    "org_id, seq, time, site, kind, actor, subject, payload";

}  // namespace wg::store::sqlite

#pragma once
// Row mapping of the SQLite backend: the column lists every query selects, readers that
// turn a result row into a domain value, and binders for the shared INSERT parameter
// layouts. A stored value that does not map back (an unknown enum name, a date out of
// range, a boolean other than 0/1) is kCorruption naming table, column and row id.
// Layouts are documented in docs/formats/sqlite-schema.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.h"
#include "wg/domain/types.h"
#include "wg/store/store.h"

// Column lists as string literals so they splice into SQL at compile time; the readers
// below depend on exactly this order.
#define WG_STORE_ORG_COLUMNS "id, code, name, created_at"
#define WG_STORE_SITE_COLUMNS "id, org_id, code, name, address, created_at"
#define WG_STORE_USER_COLUMNS \
  "id, org_id, username, display_name, role, password_hash, active, created_at"
#define WG_STORE_TOKEN_COLUMNS "token_digest, user_id, org_id, issued_at, expires_at"
#define WG_STORE_WORKER_COLUMNS                                                         \
  "id, org_id, code, name, employer, id_salt, id_digest, id_last4, phone, photo_ref, " \
  "status, created_at, updated_at, rev, id_lookup"
#define WG_STORE_CERT_COLUMNS                                                            \
  "id, org_id, worker_id, kind, category, item, number, authority, issue_date, "        \
  "expiry_date, last_review_date, practice_since, review_extension_granted, violations, " \
  "status, status_reason, created_at, updated_at, rev"
#define WG_STORE_PERMIT_COLUMNS                                                       \
  "id, org_id, number, site, type, grade, state, planned_start, planned_end, version, " \
  "document, created_at, updated_at, revision"
#define WG_STORE_USER_KEY_COLUMNS \
  "user_id, org_id, version, public_pem, sealed_private, created_at"

// INSERT parameter layouts shared by the single-row and the bulk paths: ?1..?14 and
// ?1..?18 in this order.
#define WG_STORE_WORKER_INSERT                                                           \
  "INSERT INTO workers (org_id, code, name, employer, id_salt, id_digest, id_last4, "    \
  "phone, photo_ref, status, created_at, updated_at, rev, id_lookup) "                   \
  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
#define WG_STORE_CERT_INSERT_PREFIX                                                       \
  "INSERT INTO certificates (org_id, worker_id, kind, category, item, number, authority, " \
  "issue_date, expiry_date, last_review_date, practice_since, review_extension_granted, "  \
  "violations, status, status_reason, created_at, updated_at, rev) VALUES "
#define WG_STORE_CERT_INSERT   \
  WG_STORE_CERT_INSERT_PREFIX \
  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"

namespace wg::store::sqlite {

// Parameters per row of WG_STORE_CERT_INSERT.
inline constexpr int kCertInsertParams = 18;

// Column index of `rev` in the worker and certificate column lists.
inline constexpr int kWorkerRevColumn = 13;
inline constexpr int kCertRevColumn = 18;
// Column index of `revision` in the permit column list.
inline constexpr int kPermitRevisionColumn = 13;

Result<domain::Organization> ReadOrganization(const Statement& st);
Result<domain::Site> ReadSite(const Statement& st);
Result<domain::User> ReadUser(const Statement& st);
Result<TokenRecord> ReadToken(const Statement& st);
Result<domain::Worker> ReadWorker(const Statement& st);
Result<domain::Certificate> ReadCertificate(const Statement& st);
Result<PermitRow> ReadPermit(const Statement& st);
Result<UserKeyRow> ReadUserKey(const Statement& st);

// Binds ?1..?14 of WG_STORE_WORKER_INSERT (an empty id_lookup binds NULL). Strings are bound without copying: `w` must
// outlive the statement's execution.
void BindWorkerInsert(Statement& st, const domain::Worker& w, core::OrgId org,
                      core::Timestamp created_at, core::Timestamp updated_at,
                      std::int64_t rev);
// Binds ?1..?18 of WG_STORE_CERT_INSERT, shifted by `offset` (a multi-row VALUES list
// binds row r at offset r * kCertInsertParams); same lifetime rule.
void BindCertificateInsert(Statement& st, const domain::Certificate& c, core::OrgId org,
                           core::WorkerId worker, core::Timestamp created_at,
                           core::Timestamp updated_at, std::int64_t rev, int offset = 0);

// A user-supplied value for an error message: quoted and cut to 64 bytes on a UTF-8
// character boundary.
std::string Quote(std::string_view s);

// Steps `st` expecting at most one row; reads it with `read`. Steps once more so the
// statement finishes (an autocommit write commits there, and reports failures there).
template <typename T>
Result<T> ReadOne(Statement& st, Result<T> (*read)(const Statement&), std::string not_found) {
  WG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::NotFound(std::move(not_found));
  WG_ASSIGN_OR_RETURN(T value, read(st));
  WG_ASSIGN_OR_RETURN(bool more, st.Step());
  if (more) return Status::Internal("query by unique key returned more than one row");
  return value;
}

// Steps `st` to the end, reading every row with `read`.
template <typename T>
Result<std::vector<T>> ReadAll(Statement& st, Result<T> (*read)(const Statement&)) {
  std::vector<T> out;
  while (true) {
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    WG_ASSIGN_OR_RETURN(T value, read(st));
    out.push_back(std::move(value));
  }
}

}  // namespace wg::store::sqlite

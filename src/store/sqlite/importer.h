#pragma once
// Importer: the bulk-import engine behind ImportBatch and ImportSession. It writes into
// an already open write transaction on one Connection and never commits; the caller owns
// the transaction and rolls it back when Add fails.
//
// Workers are upserted by (org, code): an existing worker gets its name, employer, ID
// digest fields, phone, photo_ref and updated_at replaced (status and created_at are
// kept). Certificates name their worker by code, resolved through a map that spans every
// Add of the import, falling back to the database for workers imported earlier; they
// are upserted by (org, kind, number) the same way. Each written row takes the next
// revision; the counter row itself is written once, by Finish.
//
// Speed: every statement is a cached prepared statement, inserts are tried first with
// ON CONFLICT DO NOTHING so the common "new row" case costs one statement, and text is
// bound without copying. Certificates go in groups of kCertGroupRows per INSERT (one
// multi-row VALUES list): the per-statement cost (opening cursors on the table and its
// three indexes) was a third of the import's CPU time. Rows of a group that hit an
// existing (org, kind, number) are then updated one by one; a group that fails a
// constraint is redone row by row so the error names the row.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "connection.h"
#include "wg/store/store.h"

namespace wg::store::sqlite {

class Importer {
 public:
  static constexpr std::size_t kCertGroupRows = 16;

  // `revision` is the counter value read inside the caller's transaction.
  Importer(Connection& conn, core::OrgId org, core::Timestamp now, std::int64_t revision)
      : conn_(conn), org_(org), now_(now), revision_(revision) {}

  // Writes one chunk. On error the message names the chunk's row ("certificates[17]")
  // and the transaction must be rolled back: rows before the failing one are written.
  Status Add(const std::vector<ImportWorker>& workers,
             const std::vector<ImportCertificate>& certs);
  // Stores the revision counter; call once, just before COMMIT.
  Status Finish();

  const ImportSummary& summary() const { return summary_; }
  core::OrgId org() const { return org_; }
  core::Timestamp now() const { return now_; }

 private:
  Status AddWorkers(const std::vector<ImportWorker>& workers);
  Status AddCertificates(const std::vector<ImportCertificate>& certs);
  // Checks row `i` and resolves its worker id.
  Result<core::WorkerId> Prepare(Statement& lookup, const std::vector<ImportCertificate>& certs,
                                 std::size_t i);
  // Writes row `i` alone with revision `rev`.
  Status AddCertificate(Statement& insert, Statement& update,
                        const std::vector<ImportCertificate>& certs, std::size_t i,
                        core::WorkerId worker, std::int64_t rev);
  // Writes rows first..first+kCertGroupRows-1 with one INSERT.
  Status AddCertificateGroup(Statement& group, Statement& insert, Statement& update,
                             Statement& lookup, const std::vector<ImportCertificate>& certs,
                             std::size_t first);
  std::string CertContext(const std::vector<ImportCertificate>& certs, std::size_t i) const;
  Result<std::int64_t> ResolveWorker(Statement& lookup, const std::string& code);
  std::string RowName(std::string_view table, std::size_t index) const;

  Connection& conn_;
  const core::OrgId org_;
  const core::Timestamp now_;
  std::int64_t revision_;
  int chunks_ = 0;
  ImportSummary summary_;
  std::unordered_map<std::string, std::int64_t> worker_ids_;  // code -> id, this import
};

}  // namespace wg::store::sqlite

#include "importer.h"

#include <array>

#include "rows.h"

namespace wg::store::sqlite {
namespace {

// No RETURNING on the hot path: SQLite buffers RETURNING rows in a temporary table on
// every execution, which doubled the cost of a worker insert. changes() and
// last_insert_rowid() say the same for free.
constexpr const char* kInsertWorker =
    WG_STORE_WORKER_INSERT " ON CONFLICT (org_id, code) DO NOTHING";
// Same parameter numbers as the insert; ?10 (status) and ?11 (created_at) are bound but
// unused, so an existing worker keeps its status and creation time.
constexpr const char* kUpdateWorker =
    "UPDATE workers SET name = ?3, employer = ?4, id_salt = ?5, id_digest = ?6, "
    "id_last4 = ?7, phone = ?8, photo_ref = ?9, updated_at = ?12, rev = ?13, id_lookup = ?14 "
    "WHERE org_id = ?1 AND code = ?2 RETURNING id";
constexpr const char* kFindWorker = "SELECT id FROM workers WHERE org_id = ?1 AND code = ?2";
constexpr const char* kInsertCert =
    WG_STORE_CERT_INSERT " ON CONFLICT (org_id, kind, number) DO NOTHING";
// ?16 (created_at) bound but unused: an existing certificate keeps its creation time.
// `rev <> ?18` skips a row this import wrote under the same revision a moment ago, which
// is how a multi-row insert tells its new rows from the conflicting ones.
constexpr const char* kUpdateCert =
    "UPDATE certificates SET worker_id = ?2, category = ?4, item = ?5, authority = ?7, "
    "issue_date = ?8, expiry_date = ?9, last_review_date = ?10, practice_since = ?11, "
    "review_extension_granted = ?12, violations = ?13, status = ?14, status_reason = ?15, "
    "updated_at = ?17, rev = ?18 WHERE org_id = ?1 AND kind = ?3 AND number = ?6 "
    "AND rev <> ?18";

// WG_STORE_CERT_INSERT with Importer::kCertGroupRows rows; static storage, as the
// statement cache requires.
const std::string& GroupInsertSql() {
  static const std::string sql = [] {
    std::string s = WG_STORE_CERT_INSERT_PREFIX;
    for (std::size_t r = 0; r < Importer::kCertGroupRows; ++r) {
      s += r == 0 ? "(" : ", (";
      for (int c = 1; c <= kCertInsertParams; ++c) {
        if (c > 1) s += ", ";
        s += '?';
        s += std::to_string(static_cast<int>(r) * kCertInsertParams + c);
      }
      s += ")";
    }
    s += " ON CONFLICT (org_id, kind, number) DO NOTHING";
    return s;
  }();
  return sql;
}

core::Timestamp OrNow(core::Timestamp t, core::Timestamp now) { return t.micros != 0 ? t : now; }

}  // namespace

std::string Importer::RowName(std::string_view table, std::size_t index) const {
  std::string name = std::string(table) + "[" + std::to_string(index) + "]";
  if (chunks_ > 1) name += " of chunk " + std::to_string(chunks_);
  return name;
}

Status Importer::Add(const std::vector<ImportWorker>& workers,
                     const std::vector<ImportCertificate>& certs) {
  ++chunks_;
  WG_RETURN_IF_ERROR(AddWorkers(workers));
  return AddCertificates(certs);
}

Status Importer::AddWorkers(const std::vector<ImportWorker>& workers) {
  if (workers.empty()) return Status::Ok();
  WG_ASSIGN_OR_RETURN(Statement insert, conn_.Prepare(kInsertWorker));
  WG_ASSIGN_OR_RETURN(Statement update, conn_.Prepare(kUpdateWorker));
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const domain::Worker& w = workers[i].worker;
    if (w.org_id.valid() && w.org_id != org_) {
      return Status::InvalidArgument(RowName("workers", i) + ": worker belongs to organization " +
                                         std::to_string(w.org_id.value) + ", import is for " +
                                         std::to_string(org_.value),
                                     "org_id");
    }
    const core::Timestamp created = OrNow(w.created_at, now_);
    const core::Timestamp updated = OrNow(w.updated_at, now_);
    const std::int64_t rev = ++revision_;

    insert.Reset();
    BindWorkerInsert(insert, w, org_, created, updated, rev);
    if (Status s = insert.StepDone(); !s.ok()) {
      return s.WithContext(RowName("workers", i) + " (code " + Quote(w.code) + ")");
    }
    std::int64_t id = 0;
    if (conn_.Changes() == 1) {
      id = conn_.LastInsertRowid();
      ++summary_.workers_created;
    } else {
      update.Reset();
      BindWorkerInsert(update, w, org_, created, updated, rev);
      auto updated_row = update.Step();
      if (!updated_row.has_value()) {
        return updated_row.error().WithContext(RowName("workers", i) + " (code " +
                                               Quote(w.code) + ")");
      }
      if (!*updated_row) {
        return Status::Internal(RowName("workers", i) + ": conflicting worker " + Quote(w.code) +
                                " vanished");
      }
      id = update.ColumnInt(0);
      ++summary_.workers_updated;
    }
    worker_ids_.insert_or_assign(w.code, id);
  }
  return Status::Ok();
}

Result<std::int64_t> Importer::ResolveWorker(Statement& lookup, const std::string& code) {
  if (auto it = worker_ids_.find(code); it != worker_ids_.end()) return it->second;
  lookup.Reset();
  lookup.BindInt(1, org_.value);
  lookup.BindText(2, code);
  WG_ASSIGN_OR_RETURN(bool found, lookup.Step());
  if (!found) {
    return Status::InvalidArgument("unknown worker_code " + Quote(code), "worker_code");
  }
  const std::int64_t id = lookup.ColumnInt(0);
  worker_ids_.emplace(code, id);
  return id;
}

std::string Importer::CertContext(const std::vector<ImportCertificate>& certs,
                                  std::size_t i) const {
  return RowName("certificates", i) + " (number " + Quote(certs[i].certificate.number) + ")";
}

Result<core::WorkerId> Importer::Prepare(Statement& lookup,
                                         const std::vector<ImportCertificate>& certs,
                                         std::size_t i) {
  const domain::Certificate& c = certs[i].certificate;
  if (c.org_id.valid() && c.org_id != org_) {
    return Status::InvalidArgument(CertContext(certs, i) + ": certificate belongs to organization " +
                                       std::to_string(c.org_id.value) + ", import is for " +
                                       std::to_string(org_.value),
                                   "org_id");
  }
  auto worker = ResolveWorker(lookup, certs[i].worker_code);
  if (!worker.has_value()) return worker.error().WithContext(CertContext(certs, i));
  return core::WorkerId{*worker};
}

Status Importer::AddCertificate(Statement& insert, Statement& update,
                                const std::vector<ImportCertificate>& certs, std::size_t i,
                                core::WorkerId worker, std::int64_t rev) {
  const domain::Certificate& c = certs[i].certificate;
  const core::Timestamp created = OrNow(c.created_at, now_);
  const core::Timestamp updated = OrNow(c.updated_at, now_);
  insert.Reset();
  BindCertificateInsert(insert, c, org_, worker, created, updated, rev);
  if (Status s = insert.StepDone(); !s.ok()) return s.WithContext(CertContext(certs, i));
  if (conn_.Changes() == 1) {
    ++summary_.certificates_created;
    return Status::Ok();
  }
  update.Reset();
  BindCertificateInsert(update, c, org_, worker, created, updated, rev);
  if (Status s = update.StepDone(); !s.ok()) return s.WithContext(CertContext(certs, i));
  if (conn_.Changes() != 1) {
    return Status::Internal(CertContext(certs, i) + ": conflicting certificate vanished");
  }
  ++summary_.certificates_updated;
  return Status::Ok();
}

Status Importer::AddCertificateGroup(Statement& group, Statement& insert, Statement& update,
                                     Statement& lookup,
                                     const std::vector<ImportCertificate>& certs,
                                     std::size_t first) {
  std::array<core::WorkerId, kCertGroupRows> workers;
  for (std::size_t r = 0; r < kCertGroupRows; ++r) {
    WG_ASSIGN_OR_RETURN(workers[r], Prepare(lookup, certs, first + r));
  }
  const std::int64_t base = revision_;
  revision_ += static_cast<std::int64_t>(kCertGroupRows);
  group.Reset();
  for (std::size_t r = 0; r < kCertGroupRows; ++r) {
    const domain::Certificate& c = certs[first + r].certificate;
    const core::Timestamp created = OrNow(c.created_at, now_);
    BindCertificateInsert(group, c, org_, workers[r], created, OrNow(c.updated_at, now_),
                          base + 1 + static_cast<std::int64_t>(r),
                          static_cast<int>(r) * kCertInsertParams);
  }
  if (Status s = group.StepDone(); !s.ok()) {
    // A constraint failure (ABORT) undoes just this statement; redoing the rows one by one
    // finds the failing row. Any other failure may have ended the transaction, and rows
    // written now would commit on their own, so it is reported as is.
    const bool constraint = s.code() == core::StatusCode::kInvalidArgument ||
                            s.code() == core::StatusCode::kAlreadyExists;
    if (!constraint || !conn_.InTransaction()) {
      return s.WithContext(RowName("certificates", first) + ".." +
                           std::to_string(first + kCertGroupRows - 1));
    }
    for (std::size_t r = 0; r < kCertGroupRows; ++r) {
      WG_RETURN_IF_ERROR(AddCertificate(insert, update, certs, first + r, workers[r],
                                        base + 1 + static_cast<std::int64_t>(r)));
    }
    return s.WithContext("certificates group at " + std::to_string(first));
  }
  const std::int64_t inserted = conn_.Changes();
  summary_.certificates_created += inserted;
  if (inserted == static_cast<std::int64_t>(kCertGroupRows)) return Status::Ok();

  // Some rows hit an existing number (or a duplicate earlier in this group): update
  // those. A row this group inserted carries its own revision and is skipped.
  std::int64_t updated = 0;
  for (std::size_t r = 0; r < kCertGroupRows; ++r) {
    const domain::Certificate& c = certs[first + r].certificate;
    const core::Timestamp created = OrNow(c.created_at, now_);
    update.Reset();
    BindCertificateInsert(update, c, org_, workers[r], created, OrNow(c.updated_at, now_),
                          base + 1 + static_cast<std::int64_t>(r));
    if (Status s = update.StepDone(); !s.ok()) return s.WithContext(CertContext(certs, first + r));
    updated += conn_.Changes();
  }
  if (inserted + updated != static_cast<std::int64_t>(kCertGroupRows)) {
    return Status::Internal(RowName("certificates", first) + ": group wrote " +
                            std::to_string(inserted) + " and updated " + std::to_string(updated) +
                            " of " + std::to_string(kCertGroupRows) + " rows");
  }
  summary_.certificates_updated += updated;
  return Status::Ok();
}

Status Importer::AddCertificates(const std::vector<ImportCertificate>& certs) {
  if (certs.empty()) return Status::Ok();
  WG_ASSIGN_OR_RETURN(Statement lookup, conn_.Prepare(kFindWorker));
  WG_ASSIGN_OR_RETURN(Statement insert, conn_.Prepare(kInsertCert));
  WG_ASSIGN_OR_RETURN(Statement update, conn_.Prepare(kUpdateCert));
  std::size_t i = 0;
  if (certs.size() >= kCertGroupRows) {
    WG_ASSIGN_OR_RETURN(Statement group, conn_.Prepare(GroupInsertSql()));
    for (; certs.size() - i >= kCertGroupRows; i += kCertGroupRows) {
      WG_RETURN_IF_ERROR(AddCertificateGroup(group, insert, update, lookup, certs, i));
    }
  }
  for (; i < certs.size(); ++i) {
    WG_ASSIGN_OR_RETURN(core::WorkerId worker, Prepare(lookup, certs, i));
    WG_RETURN_IF_ERROR(AddCertificate(insert, update, certs, i, worker, ++revision_));
  }
  return Status::Ok();
}

Status Importer::Finish() {
  WG_ASSIGN_OR_RETURN(Statement st, conn_.Prepare("UPDATE revision SET value = ?1 WHERE id = 1"));
  st.BindInt(1, revision_);
  WG_RETURN_IF_ERROR(st.StepDone());
  if (conn_.Changes() != 1) return Status::Corruption("revision counter row is missing");
  return Status::Ok();
}

}  // namespace wg::store::sqlite

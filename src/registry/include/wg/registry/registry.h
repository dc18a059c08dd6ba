#pragma once
// Registry: the worker & certificate service (capability C1). It owns the in-memory
// certificate index that answers Verify in about a microsecond, keeps it in step with
// the store (its own writes immediately; other processes' writes via CatchUp), and
// validates every input before any write.
//
// Thread-safety: all methods may be called concurrently. Verify takes a shared lock on
// the index; writes go to the store first and then to the index under an exclusive lock.
// The Store, Clock and Rulebook must outlive the Registry.

#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/crypto/crypto.h"
#include "wg/domain/types.h"
#include "wg/evidence/evidence.h"
#include "wg/registry/id_number.h"
#include "wg/registry/rulebook.h"
#include "wg/registry/verifier.h"
#include "wg/store/store.h"

namespace wg::registry {

class CertIndex;

struct NewWorker {
  std::string code;
  std::string name;
  std::string employer;
  std::string national_id;  // validated, digested, then dropped
  std::string phone;
  std::string photo_ref;
};

struct NewCertificate {
  core::WorkerId worker_id;
  domain::CertKind kind = domain::CertKind::kSpecialOperation;
  std::string category;  // code or Chinese name
  std::string item;      // code or Chinese name
  std::string number;
  std::string authority;
  core::Date issue_date;
  std::optional<core::Date> expiry_date;  // default: issue + validity of the rule set
  std::optional<core::Date> last_review_date;
  std::optional<core::Date> practice_since;
  bool review_extension_granted = false;
  int violations = 0;
};

struct Reminder {
  domain::Certificate certificate;
  std::string worker_name;
  std::string worker_code;
  std::string due_kind;  // "review" or "expiry"
  core::Date due_date;
  int days_left = 0;     // negative when overdue
  Verdict verdict = Verdict::kValid;
};

core::Json ToJson(const Reminder& r);

struct ImportOptions {
  bool skip_invalid = false;
  std::size_t max_errors_reported = 1000;
  std::size_t batch_rows = 0;  // 0: one transaction for the whole file
  std::string actor = "system";  // recorded in each row's fact
  // Called with (rows done, total bytes read, file size) every ~1% or 100k rows.
  std::function<void(std::size_t, std::size_t, std::size_t)> progress;
};

struct ImportError {
  std::size_t row = 0;  // 1-based data row (the header is row 0)
  std::string column;
  std::string reason;
};

struct ImportReport {
  std::size_t rows = 0;
  std::size_t valid_rows = 0;
  std::size_t invalid_rows = 0;
  bool imported = false;
  store::ImportSummary summary;
  std::vector<ImportError> errors;  // at most max_errors_reported
};

core::Json ToJson(const ImportReport& r);

// A signed QR payload for one certificate and its rendering.
struct CertificateQr {
  std::string payload;  // "WG1|<org>/k<n>|SM2|<org>|<cert id>|<number>|<worker id>|...|<sig b64url>"
  std::string png;      // PNG bytes
  std::string svg;
};

struct QrCheck {
  bool signature_valid = false;
  std::optional<Verification> verification;  // online re-verification when the cert exists
  std::string detail;
};

class Registry {
 public:
  // Every write records its facts in the same store transaction and then syncs them
  // into the organization's evidence log through `evidence` (see wg/evidence). QR codes
  // are signed with the organization's SM2 key from evidence.keys().
  Registry(store::Store& store, const core::Clock& clock, const Rulebook& book,
           IdDigester digester, evidence::Evidence& evidence);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Builds the index from the store (at start). Until it is called, Verify and Expiring
  // answer kFailedPrecondition: a registry opened only to write (the CLI importing) never
  // pays for an index it does not read.
  core::Status LoadIndex();
  // Applies rows written by other processes since the last load/catch-up (no-op before
  // LoadIndex).
  core::Status CatchUp();
  std::size_t indexed_workers() const;
  std::size_t indexed_certificates() const;

  core::Result<Verification> Verify(core::OrgId org, core::WorkerId worker,
                                    std::string_view operation,
                                    std::optional<core::Timestamp> at = std::nullopt,
                                    std::optional<std::string> presented_id = std::nullopt);

  // `actor` names who caused the write in its fact ("user:<name>", "cli:<user>").
  core::Result<domain::Worker> CreateWorker(core::OrgId org, const NewWorker& w,
                                            const std::string& actor = "system");
  core::Result<domain::Certificate> AddCertificate(core::OrgId org, const NewCertificate& c,
                                                   const std::string& actor = "system");
  core::Result<domain::Certificate> RevokeCertificate(core::OrgId org, core::CertificateId id,
                                                      std::string_view reason_code,
                                                      const std::string& actor = "system");
  core::Result<domain::Certificate> RecordReview(core::OrgId org, core::CertificateId id,
                                                 core::Date review_date,
                                                 const std::string& actor = "system");
  core::Status SetWorkerStatus(core::OrgId org, core::WorkerId id, domain::WorkerStatus s,
                               const std::string& actor = "system");

  // Everything due for review or expiry within `days` of `at` (and already overdue),
  // soonest first. org = nullopt lists every organization (CLI on a local data dir).
  core::Result<std::vector<Reminder>> Expiring(std::optional<core::OrgId> org, int days,
                                               std::optional<core::Timestamp> at = std::nullopt,
                                               std::size_t limit = 10000);

  // CSV import (docs/formats/certificate-csv.md). Validates the whole input first.
  core::Result<ImportReport> ImportCsv(core::OrgId org, const std::string& path,
                                       const ImportOptions& options);

  core::Result<CertificateQr> MakeQr(core::OrgId org, core::CertificateId id);
  // Verifies a scanned payload's signature; when it is valid and the certificate exists
  // in `org`, re-verifies it online for `operation` (if given).
  core::Result<QrCheck> CheckQr(core::OrgId org, std::string_view payload,
                                std::optional<std::string> operation);

  // The projection against the facts: every certificate of `org` must equal the payload
  // of the latest fact about it (kCorruption naming the first that does not: a row edited
  // behind the store's back). Certificates with no fact at all (written before the
  // evidence log existed, schema < 3) are counted, not failed.
  struct ProjectionReport {
    std::int64_t certificates = 0;
    std::int64_t unrecorded = 0;
  };
  core::Result<ProjectionReport> VerifyProjection(core::OrgId org);

  const Rulebook& rulebook() const { return book_; }
  evidence::Evidence& evidence() { return evidence_; }

 private:
  store::Store& store_;
  const core::Clock& clock_;
  const Rulebook& book_;
  IdDigester digester_;
  evidence::Evidence& evidence_;
  // Writes a changed certificate with its fact `fact_kind`, updates the index and makes
  // the fact durable (revocation, review).
  core::Result<domain::Certificate> SaveCertificateChange(core::OrgId org, domain::Certificate c,
                                                          std::string_view fact_kind,
                                                          const std::string& actor);
  mutable std::shared_mutex mu_;  // guards index_ and revision_
  std::unique_ptr<CertIndex> index_;
  std::int64_t revision_ = 0;  // store revision the index reflects
  bool index_loaded_ = false;   // guarded by mu_
};

}  // namespace wg::registry

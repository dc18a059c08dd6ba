#pragma once
// The certificate verification engine: a pure function of the rulebook, what is known
// of the worker and their certificates, the operation and the instant. No I/O and no
// clock reads; the caller passes `at`. Every verdict names the rules and clauses that
// produced it.
//
// Day rules use the Asia/Shanghai calendar date of `at`: a certificate whose expiry date
// is D is valid through D-1 and expired from D 00:00 Beijing time
// (docs/adr/0004-certificate-day-rules.md).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/domain/types.h"
#include "wg/registry/rulebook.h"

namespace wg::registry {

// Ordered from best to worst for one certificate; worker-level verdicts follow.
enum class Verdict {
  kValid,           // may work
  kExpiringSoon,    // may work; expiry within the reminder window
  kReviewDue,       // may work; review (复审) window open, apply now
  kReviewOverdue,   // may not work: review date passed without review (失效)
  kNotYetValid,     // may not work: issue date in the future
  kExpired,         // may not work
  kRevoked,         // may not work: revoked or cancelled
  kWrongCategory,   // may not work: holds no certificate that covers the operation
  kWorkerInactive,  // may not work: worker suspended or left
  kIdMismatch,      // may not work: presented ID is not this worker's (真证假用)
  kUnknownWorker,   // may not work: no such worker in this organization
};

std::string_view VerdictName(Verdict v);
bool MayWork(Verdict v);

// One rule that contributed to a verdict. `rule` and `clause` view strings owned by the
// Rulebook (or string literals), so a verification allocates only its messages; a Reason
// is valid while the Rulebook that produced it lives.
struct Reason {
  std::string_view rule;    // rule id, e.g. "mem_order_30.review_window"
  std::string_view clause;  // e.g. "安监总局令第30号 第二十二条"
  std::string message;      // English sentence with the dates involved
};

// What the engine needs to know about a certificate (a compact view of domain::Certificate).
struct CertFacts {
  std::int64_t id = 0;
  domain::CertKind kind = domain::CertKind::kSpecialOperation;
  std::string_view category;
  std::string_view item;
  std::string_view number;
  core::Date issue_date;
  core::Date expiry_date;
  std::optional<core::Date> last_review_date;
  std::optional<core::Date> practice_since;
  bool review_extension_granted = false;
  int violations = 0;
  domain::CertStatus status = domain::CertStatus::kActive;
};

struct WorkerFacts {
  std::int64_t id = 0;
  domain::WorkerStatus status = domain::WorkerStatus::kActive;
};

// Status of one certificate on one day, independent of any operation.
struct CertStanding {
  Verdict verdict = Verdict::kValid;
  std::optional<core::Date> review_due;  // next 复审 date, if the regime has reviews
  core::Date expiry_date;
  bool extension_eligible = false;  // meets the 10-year clean-practice condition
  std::string_view rule_set;        // owned by the Rulebook
  std::vector<Reason> reasons;
};

struct Verification {
  Verdict verdict = Verdict::kUnknownWorker;
  bool may_work = false;
  std::string_view operation;  // owned by the Rulebook
  std::int64_t worker_id = 0;
  std::optional<std::int64_t> certificate_id;
  std::string certificate_number;
  std::optional<core::Date> expiry_date;
  std::optional<core::Date> review_due;
  bool extension_eligible = false;
  std::string_view rule_set;  // owned by the Rulebook
  core::Date as_of;
  std::vector<Reason> reasons;
};

core::Json ToJson(const Verification& v);

// Standing of one certificate on `today` (Shanghai date).
CertStanding EvaluateCertificate(const Rulebook& book, const CertFacts& cert, core::Date today);

// Verifies that a worker may perform `operation` at `at`. `worker` is nullopt when no
// such worker exists. `id_matches` is nullopt when no ID was presented. The operation
// must exist in the rulebook (the caller validates it and reports kInvalidArgument).
Verification Verify(const Rulebook& book, const std::optional<WorkerFacts>& worker,
                    std::span<const CertFacts> certs, const OperationRule& operation,
                    core::Timestamp at, std::optional<bool> id_matches);

}  // namespace wg::registry

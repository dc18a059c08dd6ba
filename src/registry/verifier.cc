#include "wg/registry/verifier.h"

#include <algorithm>
#include <charconv>

namespace wg::registry {
namespace {

using core::Date;
using core::FormatDate;

bool Matches(const Requirement& req, const CertFacts& c) {
  return c.kind == req.kind && c.category == req.category &&
         (req.item.empty() || c.item == req.item);
}

// Builds a reason message with one allocation and no printf: verification is the hot path
// (ADR 0005), and formatting dominated its cost.
class Msg {
 public:
  Msg() { s_.reserve(160); }  // the longest common message (wrong_category) fits
  Msg& operator<<(std::string_view v) {
    s_.append(v);
    return *this;
  }
  Msg& operator<<(const char* v) { return *this << std::string_view(v); }
  Msg& operator<<(Date d) {
    int y = d.year();
    unsigned m = d.month(), day = d.day();
    char buf[10] = {static_cast<char>('0' + y / 1000 % 10), static_cast<char>('0' + y / 100 % 10),
                    static_cast<char>('0' + y / 10 % 10),   static_cast<char>('0' + y % 10),
                    '-',
                    static_cast<char>('0' + m / 10),        static_cast<char>('0' + m % 10),
                    '-',
                    static_cast<char>('0' + day / 10),      static_cast<char>('0' + day % 10)};
    s_.append(buf, sizeof buf);
    return *this;
  }
  Msg& operator<<(int n) {
    char buf[12];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    (void)ec;
    s_.append(buf, static_cast<std::size_t>(end - buf));
    return *this;
  }
  std::string str() { return std::move(s_); }  // leaves the builder empty

 private:
  std::string s_;
};

void Describe(Msg& m, domain::CertKind kind, std::string_view category, std::string_view item) {
  m << domain::CertKindName(kind) << "/" << category;
  if (!item.empty()) m << "/" << item;
}

}  // namespace

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "valid";
    case Verdict::kExpiringSoon: return "expiring_soon";
    case Verdict::kReviewDue: return "review_due";
    case Verdict::kReviewOverdue: return "review_overdue";
    case Verdict::kNotYetValid: return "not_yet_valid";
    case Verdict::kExpired: return "expired";
    case Verdict::kRevoked: return "revoked";
    case Verdict::kWrongCategory: return "wrong_category";
    case Verdict::kWorkerInactive: return "worker_inactive";
    case Verdict::kIdMismatch: return "id_mismatch";
    case Verdict::kUnknownWorker: return "unknown_worker";
  }
  return "unknown";
}

bool MayWork(Verdict v) {
  return v == Verdict::kValid || v == Verdict::kExpiringSoon || v == Verdict::kReviewDue;
}

CertStanding EvaluateCertificate(const Rulebook& book, const CertFacts& cert, Date today) {
  CertStanding out;
  out.expiry_date = cert.expiry_date;
  out.reasons.reserve(3);

  auto set_or = book.RuleSetFor(cert.kind, today);
  if (!set_or) {
    out.verdict = Verdict::kNotYetValid;
    out.reasons.push_back({"rulebook.rule_set", "", set_or.error().message()});
    return out;
  }
  const RuleSet& rs = **set_or;
  out.rule_set = rs.id;

  if (cert.status != domain::CertStatus::kActive) {
    out.verdict = Verdict::kRevoked;
    out.reasons.push_back({rs.rule_status, "安监总局令第30号 第三十条、第三十一条",
                           (Msg() << "certificate " << cert.number << " is "
                                  << domain::CertStatusName(cert.status))
                               .str()});
    return out;
  }
  if (cert.issue_date > today) {
    out.verdict = Verdict::kNotYetValid;
    out.reasons.push_back({rs.rule_validity, rs.validity_clause,
                           (Msg() << "issue date " << cert.issue_date << " is after " << today).str()});
    return out;
  }

  // The effective expiry never exceeds the regime's validity period.
  Date max_expiry = cert.issue_date.AddYears(rs.validity_years);
  Date expiry = cert.expiry_date;
  if (expiry > max_expiry) {
    expiry = max_expiry;
    out.reasons.push_back({rs.rule_validity, rs.validity_clause,
                           (Msg() << "recorded expiry " << cert.expiry_date << " exceeds the "
                                  << rs.validity_years << "-year validity; effective expiry is "
                                  << expiry)
                               .str()});
  }
  out.expiry_date = expiry;

  if (today >= expiry) {
    out.verdict = Verdict::kExpired;
    out.reasons.push_back(
        {rs.rule_validity, rs.validity_clause, (Msg() << "expired on " << expiry).str()});
    return out;
  }

  // Extension of the review interval (10+ years of continuous clean practice).
  bool eligible = rs.extended_review_interval_years > 0 && cert.practice_since &&
                  cert.practice_since->AddYears(rs.extension_min_practice_years) <= today &&
                  cert.violations <= rs.extension_max_violations;
  out.extension_eligible = eligible;
  int interval = rs.review_interval_years;
  if (cert.review_extension_granted) {
    if (eligible) {
      interval = rs.extended_review_interval_years;
    } else {
      out.reasons.push_back(
          {rs.rule_extension, rs.extension_clause,
           (Msg() << "review extension recorded but the holder does not meet "
                  << rs.extension_min_practice_years
                  << " years of continuous practice with at most " << rs.extension_max_violations
                  << " violations; the regular review interval applies")
               .str()});
    }
  }

  // Scheduled reviews: every `interval` years from issue, then the renewal review at
  // expiry. A review counts for a due date when it was passed no earlier than the
  // application window before that date.
  std::optional<Date> next_due;
  auto satisfied = [&](Date due) {
    return cert.last_review_date && *cert.last_review_date >= due.AddDays(-rs.review_window_days);
  };
  if (interval > 0) {
    for (int k = 1;; ++k) {
      Date due = cert.issue_date.AddYears(k * interval);
      if (due >= expiry) break;
      if (!satisfied(due)) {
        next_due = due;
        break;
      }
    }
  }
  if (!next_due && !satisfied(expiry)) next_due = expiry;
  out.review_due = next_due;

  if (next_due && *next_due < expiry && today >= *next_due) {
    out.verdict = Verdict::kReviewOverdue;
    out.reasons.push_back({rs.rule_missed_review, rs.missed_review_clause,
                           (Msg() << "review was due on " << *next_due
                                  << " and none is recorded; the certificate is invalid (失效)")
                               .str()});
    return out;
  }
  if (next_due && today >= next_due->AddDays(-rs.review_window_days)) {
    out.verdict = Verdict::kReviewDue;
    bool renewal = *next_due >= expiry;
    Msg m;
    m << (renewal ? "renewal review (延期复审)" : "review (复审)") << " due on " << *next_due;
    if (rs.review_application_deadline_days > 0) {
      Date apply_by = next_due->AddDays(-rs.review_application_deadline_days);
      if (today <= apply_by) {
        m << "; apply by " << apply_by;
      } else {
        m << "; the application deadline " << apply_by << " has passed: apply immediately";
      }
    } else {
      m << "; the " << rs.review_window_days << "-day application window is open";
    }
    out.reasons.push_back({rs.rule_review_window, rs.review_window_clause, m.str()});
    return out;
  }
  if (today >= expiry.AddDays(-book.expiring_soon_days())) {
    out.verdict = Verdict::kExpiringSoon;
    out.reasons.push_back({rs.rule_expiring_soon, rs.validity_clause,
                           (Msg() << "expires on " << expiry << ", within "
                                  << book.expiring_soon_days() << " days")
                               .str()});
    return out;
  }
  out.verdict = Verdict::kValid;
  Msg msg;
  msg << "valid until " << expiry;
  if (next_due) msg << "; next review due " << *next_due;
  out.reasons.push_back({rs.rule_validity, rs.validity_clause, std::move(msg).str()});
  return out;
}

Verification Verify(const Rulebook& book, const std::optional<WorkerFacts>& worker,
                    std::span<const CertFacts> certs, const OperationRule& operation,
                    core::Timestamp at, std::optional<bool> id_matches) {
  Verification v;
  v.operation = operation.code;
  v.as_of = core::ShanghaiDate(at);
  if (!worker) {
    v.verdict = Verdict::kUnknownWorker;
    v.reasons.push_back({"registry.worker_known", "",
                         "no such worker is registered in this organization"});
    return v;
  }
  v.worker_id = worker->id;
  if (id_matches && !*id_matches) {
    v.verdict = Verdict::kIdMismatch;
    v.reasons.push_back({"registry.identity", "特种作业人员持证上岗; 真证假用 (seed C1)",
                         "the presented national ID does not belong to this worker"});
    return v;
  }
  if (worker->status != domain::WorkerStatus::kActive) {
    v.verdict = Verdict::kWorkerInactive;
    v.reasons.push_back({"registry.worker_status", "",
                         (Msg() << "worker status is " << domain::WorkerStatusName(worker->status)).str()});
    return v;
  }
  if (operation.any_of.empty()) {
    v.verdict = Verdict::kValid;
    v.may_work = true;
    v.reasons.push_back({operation.rule_id, operation.clause,
                         (Msg() << "no special-operation certificate is required for "
                                << operation.code)
                             .str()});
    return v;
  }

  const CertFacts* best = nullptr;
  CertStanding best_standing;
  for (const auto& c : certs) {
    bool match = std::any_of(operation.any_of.begin(), operation.any_of.end(),
                             [&](const Requirement& r) { return Matches(r, c); });
    if (!match) continue;
    CertStanding s = EvaluateCertificate(book, c, v.as_of);
    if (!best || s.verdict < best_standing.verdict ||
        (s.verdict == best_standing.verdict && s.expiry_date > best_standing.expiry_date)) {
      best = &c;
      best_standing = std::move(s);
    }
  }
  if (!best) {
    v.verdict = Verdict::kWrongCategory;
    Msg m;
    m << operation.code << " requires ";
    for (std::size_t i = 0; i < operation.any_of.size(); ++i) {
      if (i > 0) m << " or ";
      const Requirement& r = operation.any_of[i];
      Describe(m, r.kind, r.category, r.item);
    }
    m << "; holds ";
    if (certs.empty()) m << "no certificate";
    for (std::size_t i = 0; i < certs.size(); ++i) {
      if (i > 0) m << ", ";
      Describe(m, certs[i].kind, certs[i].category, certs[i].item);
    }
    v.reasons.push_back({operation.rule_id, operation.clause, std::move(m).str()});
    return v;
  }
  v.verdict = best_standing.verdict;
  v.may_work = MayWork(v.verdict);
  v.certificate_id = best->id;
  v.certificate_number = std::string(best->number);
  v.expiry_date = best_standing.expiry_date;
  v.review_due = best_standing.review_due;
  v.extension_eligible = best_standing.extension_eligible;
  v.rule_set = best_standing.rule_set;
  v.reasons = std::move(best_standing.reasons);
  v.reasons.insert(v.reasons.begin(),
                   Reason{operation.rule_id, operation.clause,
                          (Msg() << "certificate " << best->number << " covers " << operation.code)
                              .str()});
  return v;
}

core::Json ToJson(const Verification& v) {
  core::Json j;
  j["verdict"] = VerdictName(v.verdict);
  j["may_work"] = v.may_work;
  j["operation"] = v.operation;
  j["worker_id"] = v.worker_id;
  j["as_of"] = core::FormatDate(v.as_of);
  if (v.certificate_id) {
    core::Json c;
    c["id"] = *v.certificate_id;
    c["number"] = v.certificate_number;
    if (v.expiry_date) c["expiry_date"] = core::FormatDate(*v.expiry_date);
    c["review_due"] = v.review_due ? core::Json(core::FormatDate(*v.review_due)) : core::Json();
    c["extension_eligible"] = v.extension_eligible;
    c["rule_set"] = v.rule_set;
    j["certificate"] = std::move(c);
  } else {
    j["certificate"] = nullptr;
  }
  core::Json reasons = core::Json::array();
  for (const auto& r : v.reasons) {
    reasons.push_back({{"rule", r.rule}, {"clause", r.clause}, {"message", r.message}});
  }
  j["reasons"] = std::move(reasons);
  return j;
}

}  // namespace wg::registry

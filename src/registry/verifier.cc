#include "wg/registry/verifier.h"

#include <algorithm>

namespace wg::registry {
namespace {

using core::Date;
using core::FormatDate;

bool Matches(const Requirement& req, const CertFacts& c) {
  return c.kind == req.kind && c.category == req.category &&
         (req.item.empty() || c.item == req.item);
}

std::string Describe(const Requirement& r) {
  std::string s(domain::CertKindName(r.kind));
  s += '/';
  s += r.category;
  if (!r.item.empty()) {
    s += '/';
    s += r.item;
  }
  return s;
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
    out.reasons.push_back({rs.id + ".status", "安监总局令第30号 第三十条、第三十一条",
                           "certificate " + std::string(cert.number) + " is " +
                               std::string(domain::CertStatusName(cert.status))});
    return out;
  }
  if (cert.issue_date > today) {
    out.verdict = Verdict::kNotYetValid;
    out.reasons.push_back({rs.id + ".validity", rs.validity_clause,
                           "issue date " + FormatDate(cert.issue_date) + " is after " +
                               FormatDate(today)});
    return out;
  }

  // The effective expiry never exceeds the regime's validity period.
  Date max_expiry = cert.issue_date.AddYears(rs.validity_years);
  Date expiry = cert.expiry_date;
  if (expiry > max_expiry) {
    expiry = max_expiry;
    out.reasons.push_back({rs.id + ".validity", rs.validity_clause,
                           "recorded expiry " + FormatDate(cert.expiry_date) + " exceeds the " +
                               std::to_string(rs.validity_years) +
                               "-year validity; effective expiry is " + FormatDate(expiry)});
  }
  out.expiry_date = expiry;

  if (today >= expiry) {
    out.verdict = Verdict::kExpired;
    out.reasons.push_back({rs.id + ".validity", rs.validity_clause,
                           "expired on " + FormatDate(expiry)});
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
          {rs.id + ".extension", rs.extension_clause,
           "review extension recorded but the holder does not meet " +
               std::to_string(rs.extension_min_practice_years) +
               " years of continuous practice with at most " +
               std::to_string(rs.extension_max_violations) +
               " violations; the regular review interval applies"});
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
    out.reasons.push_back({rs.id + ".missed_review", rs.missed_review_clause,
                           "review was due on " + FormatDate(*next_due) +
                               " and none is recorded; the certificate is invalid (失效)"});
    return out;
  }
  if (next_due && today >= next_due->AddDays(-rs.review_window_days)) {
    out.verdict = Verdict::kReviewDue;
    bool renewal = *next_due >= expiry;
    out.reasons.push_back(
        {rs.id + ".review_window", rs.review_window_clause,
         std::string(renewal ? "renewal review (延期复审)" : "review (复审)") + " due on " +
             FormatDate(*next_due) + "; the " + std::to_string(rs.review_window_days) +
             "-day application window is open"});
    return out;
  }
  if (today >= expiry.AddDays(-book.expiring_soon_days())) {
    out.verdict = Verdict::kExpiringSoon;
    out.reasons.push_back({rs.id + ".expiring_soon", rs.validity_clause,
                           "expires on " + FormatDate(expiry) + ", within " +
                               std::to_string(book.expiring_soon_days()) + " days"});
    return out;
  }
  out.verdict = Verdict::kValid;
  std::string msg = "valid until " + FormatDate(expiry);
  if (next_due) msg += "; next review due " + FormatDate(*next_due);
  out.reasons.push_back({rs.id + ".validity", rs.validity_clause, msg});
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
                         "worker status is " + std::string(domain::WorkerStatusName(worker->status))});
    return v;
  }
  if (operation.any_of.empty()) {
    v.verdict = Verdict::kValid;
    v.may_work = true;
    v.reasons.push_back({"operations." + operation.code, operation.clause,
                         "no special-operation certificate is required for " + operation.code});
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
    std::string required;
    for (const auto& r : operation.any_of) {
      if (!required.empty()) required += " or ";
      required += Describe(r);
    }
    std::string held;
    for (const auto& c : certs) {
      if (!held.empty()) held += ", ";
      held += std::string(domain::CertKindName(c.kind)) + "/" + std::string(c.category) + "/" +
              std::string(c.item);
    }
    v.reasons.push_back({"operations." + operation.code, operation.clause,
                         operation.code + " requires " + required + "; holds " +
                             (held.empty() ? std::string("no certificate") : held)});
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
  v.reasons.push_back({"operations." + operation.code, operation.clause,
                       "certificate " + v.certificate_number + " covers " + operation.code});
  for (auto& r : best_standing.reasons) v.reasons.push_back(std::move(r));
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

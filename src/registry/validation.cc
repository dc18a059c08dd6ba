#include "registry_internal.h"

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::registry::internal {

using core::Result;
using core::Status;

Status CheckWorkerCode(std::string_view code, std::string_view field) {
  if (code.empty()) return Status::InvalidArgument("is required", std::string(field));
  if (code.size() > 64) return Status::InvalidArgument("is longer than 64 characters", std::string(field));
  for (char c : code) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Status::InvalidArgument("may contain only letters, digits, '_', '-' and '.'",
                                     std::string(field));
    }
  }
  return Status::Ok();
}

Status CheckPhone(std::string_view phone, std::string_view field) {
  if (phone.empty()) return Status::Ok();
  if (phone.size() > 20) return Status::InvalidArgument("is longer than 20 characters", std::string(field));
  int digits = 0;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c != '+' && c != '-' && c != ' ') {
      return Status::InvalidArgument("may contain only digits, '+', '-' and spaces",
                                     std::string(field));
    }
  }
  if (digits < 5) return Status::InvalidArgument("has too few digits", std::string(field));
  return Status::Ok();
}

Status CheckCertNumber(std::string_view number, std::string_view field) {
  WG_RETURN_IF_ERROR(core::CheckText(number, field, 64));
  if (number.find('|') != std::string_view::npos) {
    return Status::InvalidArgument("must not contain '|'", std::string(field));
  }
  return Status::Ok();
}

Result<domain::Worker> ValidateWorkerWithSalt(const NewWorker& in, const IdDigester& digester,
                                              const std::string& salt_hex) {
  WG_RETURN_IF_ERROR(CheckWorkerCode(in.code));
  WG_RETURN_IF_ERROR(core::CheckText(in.name, "name", 64));
  WG_RETURN_IF_ERROR(core::CheckText(in.employer, "employer", 128));
  WG_RETURN_IF_ERROR(CheckPhone(in.phone));
  WG_RETURN_IF_ERROR(core::CheckText(in.photo_ref, "photo_ref", 512, /*required=*/false));
  WG_ASSIGN_OR_RETURN(std::string id, NormalizeResidentId(in.national_id));
  domain::Worker w;
  w.code = in.code;
  w.name = in.name;
  w.employer = in.employer;
  w.phone = in.phone;
  w.photo_ref = in.photo_ref;
  w.id_salt = salt_hex;
  WG_ASSIGN_OR_RETURN(w.id_digest, digester.Digest(salt_hex, id));
  WG_ASSIGN_OR_RETURN(w.id_lookup, digester.Lookup(id));
  w.id_last4 = id.substr(14);
  return w;
}

Result<domain::Worker> ValidateWorker(const NewWorker& in, const IdDigester& digester) {
  WG_ASSIGN_OR_RETURN(std::string salt, crypto::RandomHex(16));
  return ValidateWorkerWithSalt(in, digester, salt);
}

Result<domain::Certificate> ValidateCertificate(const Rulebook& book, const NewCertificate& in,
                                                core::Date today) {
  domain::Certificate c;
  c.kind = in.kind;
  WG_ASSIGN_OR_RETURN(auto codes, book.ResolveCategoryItem(in.kind, in.category, in.item));
  c.category = codes.first;
  c.item = codes.second;
  WG_RETURN_IF_ERROR(CheckCertNumber(in.number));
  WG_RETURN_IF_ERROR(core::CheckText(in.authority, "authority", 128));
  c.number = in.number;
  c.authority = in.authority;
  if (in.issue_date > today) {
    return Status::InvalidArgument("is in the future (" + core::FormatDate(in.issue_date) + ")",
                                   "issue_date");
  }
  c.issue_date = in.issue_date;
  // The rule set in force when the certificate was issued fixes its validity; if none
  // was (a very old certificate), today's regime is used.
  auto rs = book.RuleSetFor(in.kind, in.issue_date);
  if (!rs) rs = book.RuleSetFor(in.kind, today);
  if (!rs) return rs.error();
  const RuleSet& set = **rs;
  core::Date max_expiry = in.issue_date.AddYears(set.validity_years);
  if (in.expiry_date) {
    if (*in.expiry_date <= in.issue_date) {
      return Status::InvalidArgument("must be after issue_date", "expiry_date");
    }
    if (*in.expiry_date > max_expiry) {
      return Status::InvalidArgument(
          "exceeds the " + std::to_string(set.validity_years) + "-year validity (" +
              set.validity_clause + "); latest allowed is " + core::FormatDate(max_expiry),
          "expiry_date");
    }
    c.expiry_date = *in.expiry_date;
  } else {
    c.expiry_date = max_expiry;
  }
  if (in.last_review_date) {
    if (*in.last_review_date < in.issue_date || *in.last_review_date > today ||
        *in.last_review_date >= c.expiry_date) {
      return Status::InvalidArgument("must be on or after issue_date, not in the future and "
                                     "before expiry_date",
                                     "last_review_date");
    }
    c.last_review_date = in.last_review_date;
  }
  if (in.practice_since) {
    if (*in.practice_since > today || in.practice_since->year() < 1950) {
      return Status::InvalidArgument("must be between 1950-01-01 and today", "practice_since");
    }
    c.practice_since = in.practice_since;
  }
  if (in.violations < 0 || in.violations > 100) {
    return Status::InvalidArgument("must be between 0 and 100", "violations");
  }
  c.violations = in.violations;
  c.review_extension_granted = in.review_extension_granted;
  c.status = domain::CertStatus::kActive;
  return c;
}

}  // namespace wg::registry::internal

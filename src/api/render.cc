#include "render.h"

#include "wg/registry/verifier.h"

namespace wg::api {

namespace {

core::Json OptionalDate(const std::optional<core::Date>& d) {
  return d ? core::Json(core::FormatDate(*d)) : core::Json(nullptr);
}

core::Json ReasonsJson(const std::vector<registry::Reason>& reasons) {
  core::Json out = core::Json::array();
  for (const auto& r : reasons) {
    out.push_back({{"rule", r.rule}, {"clause", r.clause}, {"message", r.message}});
  }
  return out;
}

}  // namespace

core::Json OrganizationJson(const domain::Organization& org) {
  return {{"id", org.id.value},
          {"code", org.code},
          {"name", org.name},
          {"created_at", core::FormatTimestamp(org.created_at)}};
}

core::Json SiteJson(const domain::Site& site) {
  return {{"id", site.id.value},
          {"code", site.code},
          {"name", site.name},
          {"address", site.address},
          {"created_at", core::FormatTimestamp(site.created_at)}};
}

core::Json UserJson(const domain::User& user) {
  return {{"id", user.id.value},
          {"username", user.username},
          {"display_name", user.display_name},
          {"role", std::string(domain::RoleName(user.role))},
          {"active", user.active},
          {"created_at", core::FormatTimestamp(user.created_at)}};
}

core::Json WorkerJson(const domain::Worker& w) {
  return {{"id", w.id.value},
          {"code", w.code},
          {"name", w.name},
          {"employer", w.employer},
          {"id_last4", w.id_last4},
          {"phone", w.phone},
          {"photo_ref", w.photo_ref},
          {"status", std::string(domain::WorkerStatusName(w.status))},
          {"created_at", core::FormatTimestamp(w.created_at)},
          {"updated_at", core::FormatTimestamp(w.updated_at)}};
}

core::Json CertificateJson(const domain::Certificate& c, const registry::Rulebook& book,
                           core::Date today) {
  registry::CertFacts facts;
  facts.id = c.id.value;
  facts.kind = c.kind;
  facts.category = c.category;
  facts.item = c.item;
  facts.number = c.number;
  facts.issue_date = c.issue_date;
  facts.expiry_date = c.expiry_date;
  facts.last_review_date = c.last_review_date;
  facts.practice_since = c.practice_since;
  facts.review_extension_granted = c.review_extension_granted;
  facts.violations = c.violations;
  facts.status = c.status;
  const registry::CertStanding standing = registry::EvaluateCertificate(book, facts, today);

  return {{"id", c.id.value},
          {"worker_id", c.worker_id.value},
          {"kind", std::string(domain::CertKindName(c.kind))},
          {"category", c.category},
          {"item", c.item},
          {"number", c.number},
          {"authority", c.authority},
          {"issue_date", core::FormatDate(c.issue_date)},
          {"expiry_date", core::FormatDate(c.expiry_date)},
          {"last_review_date", OptionalDate(c.last_review_date)},
          {"practice_since", OptionalDate(c.practice_since)},
          {"review_extension_granted", c.review_extension_granted},
          {"violations", c.violations},
          {"status", std::string(domain::CertStatusName(c.status))},
          {"status_reason", c.status_reason},
          {"created_at", core::FormatTimestamp(c.created_at)},
          {"updated_at", core::FormatTimestamp(c.updated_at)},
          {"standing",
           {{"as_of", core::FormatDate(today)},
            {"verdict", std::string(registry::VerdictName(standing.verdict))},
            {"may_work", registry::MayWork(standing.verdict)},
            {"review_due", OptionalDate(standing.review_due)},
            {"extension_eligible", standing.extension_eligible},
            {"rule_set", standing.rule_set},
            {"reasons", ReasonsJson(standing.reasons)}}}};
}

core::Json QrCheckJson(const registry::QrCheck& check) {
  return {{"signature_valid", check.signature_valid},
          {"detail", check.detail},
          {"verification",
           check.verification ? registry::ToJson(*check.verification) : core::Json(nullptr)}};
}

core::Json CatalogJson(const registry::Rulebook& book) {
  core::Json categories = core::Json::array();
  for (const auto& cat : book.categories()) {
    core::Json items = core::Json::array();
    for (const auto& it : cat.items) {
      items.push_back({{"code", it.code}, {"name_zh", it.name_zh}, {"name_en", it.name_en}});
    }
    categories.push_back({{"kind", std::string(domain::CertKindName(cat.kind))},
                          {"code", cat.code},
                          {"name_zh", cat.name_zh},
                          {"name_en", cat.name_en},
                          {"items", std::move(items)}});
  }
  core::Json rule_sets = core::Json::array();
  for (const auto& rs : book.rule_sets()) {
    rule_sets.push_back({{"id", rs.id},
                         {"name_zh", rs.name_zh},
                         {"kind", std::string(domain::CertKindName(rs.kind))},
                         {"effective_from", core::FormatDate(rs.effective_from)},
                         {"effective_until", OptionalDate(rs.effective_until)},
                         {"validity_years", rs.validity_years},
                         {"validity_clause", rs.validity_clause},
                         {"review_interval_years", rs.review_interval_years},
                         {"review_clause", rs.review_clause},
                         {"extended_review_interval_years", rs.extended_review_interval_years},
                         {"extension_min_practice_years", rs.extension_min_practice_years},
                         {"extension_max_violations", rs.extension_max_violations},
                         {"extension_clause", rs.extension_clause},
                         {"review_window_days", rs.review_window_days},
                         {"review_window_clause", rs.review_window_clause},
                         {"missed_review_clause", rs.missed_review_clause}});
  }
  core::Json reasons = core::Json::array();
  for (const auto& r : book.revocation_reasons()) {
    reasons.push_back({{"code", r.code},
                       {"name_zh", r.name_zh},
                       {"name_en", r.name_en},
                       {"status", std::string(domain::CertStatusName(r.status))},
                       {"reapply_after_years", r.reapply_after_years},
                       {"clause", r.clause}});
  }
  return {{"version", book.version()},
          {"source", book.catalog_source()},
          {"expiring_soon_days", book.expiring_soon_days()},
          {"categories", std::move(categories)},
          {"rule_sets", std::move(rule_sets)},
          {"revocation_reasons", std::move(reasons)}};
}

core::Json OperationsJson(const registry::Rulebook& book) {
  core::Json ops = core::Json::array();
  for (const auto& op : book.operations()) {
    core::Json any_of = core::Json::array();
    for (const auto& req : op.any_of) {
      any_of.push_back({{"kind", std::string(domain::CertKindName(req.kind))},
                        {"category", req.category},
                        {"item", req.item.empty() ? core::Json(nullptr) : core::Json(req.item)}});
    }
    ops.push_back({{"code", op.code},
                   {"name_zh", op.name_zh},
                   {"name_en", op.name_en},
                   {"any_of", std::move(any_of)},
                   {"clause", op.clause},
                   {"note", op.note}});
  }
  return {{"version", book.version()}, {"operations", std::move(ops)}};
}

}  // namespace wg::api

#pragma once
// Rulebook: the certificate catalog, the validity/review rule sets and the
// operation -> required-certificate mapping, all loaded from versioned JSON data files
// (docs/formats/rules.md) with the clause reference of every rule. Nothing here is
// hard-coded: the defaults ship embedded in the binary and are written to
// DATA/rules/ on first start, where a safety manager may edit them; a malformed or
// inconsistent file is rejected at load with the file, path and reason.
//
// Rule sets are selected by certificate kind and the verification date, so MEM Order 19
// (in force 2026-06-01) replaces Order 30 by data alone.
//
// A Rulebook is immutable after loading and safe to share between threads.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/domain/types.h"

namespace wg::registry {

struct CatalogItem {
  std::string code;     // "fusion_welding", "Q2"
  std::string name_zh;  // "熔化焊接与热切割作业"
  std::string name_en;
};

struct CatalogCategory {
  domain::CertKind kind = domain::CertKind::kSpecialOperation;
  std::string code;     // "welding", "lifting_machinery"
  std::string name_zh;  // "焊接与热切割作业"
  std::string name_en;
  std::vector<CatalogItem> items;
};

// Validity and review rules of one regulatory regime for one certificate kind.
struct RuleSet {
  std::string id;        // "mem_order_30"
  std::string name_zh;   // "特种作业人员安全技术培训考核管理规定（原安监总局令第30号）"
  domain::CertKind kind = domain::CertKind::kSpecialOperation;
  core::Date effective_from;
  std::optional<core::Date> effective_until;  // exclusive
  int validity_years = 6;
  std::string validity_clause;
  int review_interval_years = 3;  // 0: no review between issue and expiry
  std::string review_clause;
  int extended_review_interval_years = 6;
  int extension_min_practice_years = 10;
  int extension_max_violations = 0;
  std::string extension_clause;
  int review_window_days = 60;  // application window before a review or expiry date
  // The application must be filed at least this many days before the due date
  // (TSG Z6001-2019: one month); 0 when the regime sets no such deadline.
  int review_application_deadline_days = 0;
  std::string review_window_clause;
  std::string missed_review_clause;  // "review not on time -> invalid"

  // Rule ids named in verdicts ("mem_order_30.review_window"), built once at load so a
  // verification can point at them instead of allocating.
  std::string rule_status, rule_validity, rule_expiring_soon, rule_review_window,
      rule_missed_review, rule_extension;
};

struct RevocationReason {
  std::string code;  // "accident_responsibility"
  std::string name_zh;
  std::string name_en;
  domain::CertStatus status = domain::CertStatus::kRevoked;  // revoked or cancelled
  int reapply_after_years = 0;
  std::string clause;
};

// One acceptable certificate: kind + category, optionally a specific item.
struct Requirement {
  domain::CertKind kind = domain::CertKind::kSpecialOperation;
  std::string category;
  std::string item;  // empty: any item of the category
};

struct OperationRule {
  std::string code;  // "hot_work"
  std::string name_zh;
  std::string name_en;
  // Any one of these satisfies the operation. Empty: no special certificate required
  // (the worker must still be known and active).
  std::vector<Requirement> any_of;
  std::string clause;
  std::string note;
  std::string rule_id;  // "operations.hot_work", built at load
};

class Rulebook {
 public:
  // Parses the three documents; every error names the document and JSON path.
  static core::Result<Rulebook> FromJson(const core::Json& catalog, const core::Json& rules,
                                         const core::Json& operations);
  // Loads catalog.json, certificate_rules.json and operations.json from `dir`.
  static core::Result<Rulebook> LoadDirectory(const std::string& dir);
  // The copies compiled into the binary.
  static core::Result<Rulebook> LoadEmbedded();
  // Writes the embedded defaults into `dir` (creating it) without overwriting files.
  static core::Status InstallDefaults(const std::string& dir);

  const std::vector<CatalogCategory>& categories() const { return categories_; }
  const std::vector<OperationRule>& operations() const { return operations_; }
  const std::vector<RuleSet>& rule_sets() const { return rule_sets_; }
  const std::vector<RevocationReason>& revocation_reasons() const { return reasons_; }
  int expiring_soon_days() const { return expiring_soon_days_; }
  const std::string& catalog_source() const { return catalog_source_; }
  const std::string& version() const { return version_; }

  const CatalogCategory* FindCategory(domain::CertKind kind, std::string_view code) const;
  const CatalogItem* FindItem(domain::CertKind kind, std::string_view category,
                              std::string_view item) const;
  // Resolves user text (a code or the Chinese name) to category and item codes.
  core::Result<std::pair<std::string, std::string>> ResolveCategoryItem(
      domain::CertKind kind, std::string_view category, std::string_view item) const;
  const OperationRule* FindOperation(std::string_view code) const;
  const RevocationReason* FindReason(std::string_view code) const;
  // The rule set in force for `kind` on `date`; kFailedPrecondition when none is.
  core::Result<const RuleSet*> RuleSetFor(domain::CertKind kind, core::Date date) const;

  // Dense small integers for category and item codes, used by the compact index.
  std::uint16_t CategoryIndex(domain::CertKind kind, std::string_view code) const;  // 0 = none
  std::uint16_t ItemIndex(domain::CertKind kind, std::string_view category,
                          std::string_view item) const;  // 0 = none

 private:
  std::string version_;
  std::string catalog_source_;
  int expiring_soon_days_ = 30;
  std::vector<CatalogCategory> categories_;
  std::vector<RuleSet> rule_sets_;
  std::vector<RevocationReason> reasons_;
  std::vector<OperationRule> operations_;
  std::map<std::string, std::uint16_t, std::less<>> category_index_;  // "kind/category"
  std::map<std::string, std::uint16_t, std::less<>> item_index_;      // "kind/category/item"
};

}  // namespace wg::registry

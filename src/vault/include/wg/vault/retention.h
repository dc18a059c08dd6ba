#pragma once
// RetentionBook: how long each class of vault object is kept, as rule data
// (data/rules/retention.json, format "workguard.retention/1", docs/formats/vault.md). Every
// class names its source and clause: a regulatory floor (`minimum_days`, e.g. GB 30871-2022
// Appendix B.3: permits at least one year, work-process video at least one month) and a
// default (`retention_days`, a number of days or "permanent", e.g. the seed's 180 days for
// process video).
//
// Guarantees: a book never holds a class whose retention is shorter than its own minimum
// or than the minimum the built-in (embedded) rules set for the same code. An installation
// may therefore lengthen any class, add classes, or lower a default down to the floor, but
// an edited file that shortens a class below the regulation (or lowers the stated minimum)
// is rejected at load with the file, JSON path and reason. Unknown members, duplicate
// codes and malformed values are rejected the same way.
//
// A RetentionBook is an immutable value after loading: safe to copy and to share between
// threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::vault {

// Longest finite retention a file may state (100 years); longer means "permanent".
inline constexpr int kMaxRetentionDays = 36'500;

struct RetentionClass {
  std::string code;     // "process_video": [a-z0-9_]{1,64}
  std::string name_zh;  // "作业过程影像（视频）"
  std::string name_en;  // "Work-process video"
  // Days an object is kept after it is stored; nullopt: permanent.
  std::optional<int> retention_days;
  std::string source;  // of the default: "seed C6", "GB 30871-2022", "workguard policy"
  std::string clause;  // "过程视频保留180天"
  // The regulatory floor, where a rule sets one; retention_days never goes below it.
  std::optional<int> minimum_days;
  std::string minimum_source;  // "GB 30871-2022"
  std::string minimum_clause;  // "附录B.3 作业过程影像记录应至少留存一个月"
  // Media types an object of this class may have ("video/*", "application/pdf"); empty:
  // any.
  std::vector<std::string> media_types;
  std::string note;

  bool permanent() const { return !retention_days.has_value(); }
  // The instant an object stored at `stored_at` expires; nullopt for a permanent class.
  std::optional<core::Timestamp> ExpiryFor(core::Timestamp stored_at) const;
  // Whether `media_type` (lower-case "type/subtype") matches media_types.
  bool AllowsMediaType(std::string_view media_type) const;
  // "180 days" or "permanent".
  std::string RetentionText() const;
};

class RetentionBook {
 public:
  // Parses one "workguard.retention/1" document and checks it against the built-in floor.
  // `file` prefixes every error's field: "retention.json: classes[4].retention_days".
  static core::Result<RetentionBook> FromJson(const core::Json& doc,
                                              std::string_view file = "retention.json");
  // The same from text (at most 1 MiB).
  static core::Result<RetentionBook> Parse(std::string_view text,
                                           std::string_view file = "retention.json");
  // The copy compiled into the binary (data/rules/retention.json).
  static core::Result<RetentionBook> LoadEmbedded();
  // An installation's copy, e.g. DATA/rules/retention.json.
  static core::Result<RetentionBook> LoadFile(const std::string& path);
  // Writes the embedded default to `path` (creating its directory) unless a file is there.
  static core::Status InstallDefault(const std::string& path);

  const std::string& version() const { return version_; }
  const std::vector<RetentionClass>& classes() const { return classes_; }
  // nullptr when no class has that code.
  const RetentionClass* Find(std::string_view code) const;

 private:
  std::string version_;
  std::vector<RetentionClass> classes_;
};

}  // namespace wg::vault

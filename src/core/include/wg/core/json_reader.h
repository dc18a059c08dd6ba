#pragma once
// JsonReader: reads typed members of one JSON object and remembers the first error with
// its path ("catalog.json: categories[3].items[0].code: is required").
//
// Used by the rule-data loaders (registry, permit, monitor). Each accessor returns a usable
// default on failure; the caller reads everything it needs, then checks status() once.
// Only the first failure is kept, so a document's errors are reported in reading order.
//
// The loaders historically worded a few errors differently; Options keeps each wording:
//   require_object            the constructor fails with "expected an object" (at the path
//                             without its trailing ": " / ".") when the value is no object
//   int_missing_is_required   a missing required integer reads "is required" rather than
//                             "expected an integer"
//   array_missing_is_required a missing required array reads "is required" rather than
//                             "expected an array"
//   max_string_bytes          Str() rejects longer strings ("longer than N bytes"); 0 = no cap
//   format_number             how Number/OptNumber print their bounds (default: printf %g)

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::core {

class JsonReader {
 public:
  struct Options {
    bool require_object = false;
    bool int_missing_is_required = false;
    bool array_missing_is_required = true;
    std::size_t max_string_bytes = 0;
    std::string (*format_number)(double) = nullptr;
  };

  // `path` prefixes every error's field ("file.json: items[2]." + key). `j` must outlive
  // the reader.
  JsonReader(const Json& j, std::string path);
  JsonReader(const Json& j, std::string path, const Options& options);

  // Rejects members outside `allowed` ("unknown member").
  void Only(std::initializer_list<std::string_view> allowed);
  // True when the member exists and is not null.
  bool Has(std::string_view key) const;

  // A string; when `required`, missing/null is "is required" and "" is "must not be empty".
  std::string Str(std::string_view key, bool required = true);
  // An integer in [min, max]; missing/null yields `fallback` when given.
  int Int(std::string_view key, int min, int max, std::optional<int> fallback = std::nullopt);
  std::int64_t Int64(std::string_view key, std::int64_t min, std::int64_t max,
                     std::optional<std::int64_t> fallback = std::nullopt);
  // A finite number in [min, max]; nullopt when missing/null or invalid.
  std::optional<double> OptNumber(std::string_view key, double min, double max);
  // Like OptNumber; missing/null yields `fallback`, or "is required" without one.
  // Returns `min` on failure.
  double Number(std::string_view key, double min, double max, std::optional<double> fallback);
  // true/false; missing/null yields `fallback`.
  bool Bool(std::string_view key, bool fallback = false);
  // A required "YYYY-MM-DD" string (ParseDate's message on a bad date).
  core::Date Date(std::string_view key);
  // Like Date, but missing/null is nullopt.
  std::optional<core::Date> OptDate(std::string_view key);
  // An array of non-empty strings; missing/null is empty unless `required`.
  std::vector<std::string> Strings(std::string_view key, bool required = false);
  // An array/object member; missing/null is an empty one (an error when `required`).
  const Json& Array(std::string_view key, bool required = true);
  const Json& Object(std::string_view key, bool required = true);

  // Records `msg` at path + key unless an error is already recorded.
  void Fail(std::string_view key, std::string msg);
  // Records `s` unless it is Ok or an error is already recorded.
  void Absorb(const Status& s);

  const Status& status() const { return status_; }
  const std::string& path() const { return path_; }
  const Options& options() const { return options_; }

  // "base[i]".
  static std::string Index(std::string_view base, std::size_t i);

 private:
  std::string FormatNumber(double v) const;

  const Json& j_;
  std::string path_;
  Options options_;
  Status status_;
};

}  // namespace wg::core

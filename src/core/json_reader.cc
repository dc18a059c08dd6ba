#include "wg/core/json_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace wg::core {

JsonReader::JsonReader(const Json& j, std::string path)
    : JsonReader(j, std::move(path), Options{}) {}

JsonReader::JsonReader(const Json& j, std::string path, const Options& options)
    : j_(j), path_(std::move(path)), options_(options) {
  if (options_.require_object && !j_.is_object()) {
    std::string p = path_;
    while (!p.empty() && (p.back() == '.' || p.back() == ' ' || p.back() == ':')) p.pop_back();
    status_ = Status::InvalidArgument("expected an object", std::move(p));
  }
}

void JsonReader::Only(std::initializer_list<std::string_view> allowed) {
  if (!j_.is_object()) return;
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      Fail(it.key(), "unknown member");
      return;
    }
  }
}

bool JsonReader::Has(std::string_view key) const {
  if (!j_.is_object()) return false;
  auto it = j_.find(key);
  return it != j_.end() && !it->is_null();
}

std::string JsonReader::Str(std::string_view key, bool required) {
  if (!Has(key)) {
    if (required) Fail(key, "is required");
    return {};
  }
  const Json& v = *j_.find(key);
  if (!v.is_string()) {
    Fail(key, "expected a string");
    return {};
  }
  auto s = v.get<std::string>();
  if (required && s.empty()) Fail(key, "must not be empty");
  if (options_.max_string_bytes != 0 && s.size() > options_.max_string_bytes) {
    Fail(key, "longer than " + std::to_string(options_.max_string_bytes) + " bytes");
  }
  return s;
}

int JsonReader::Int(std::string_view key, int min, int max, std::optional<int> fallback) {
  std::optional<std::int64_t> fb;
  if (fallback) fb = *fallback;
  return static_cast<int>(Int64(key, min, max, fb));
}

std::int64_t JsonReader::Int64(std::string_view key, std::int64_t min, std::int64_t max,
                               std::optional<std::int64_t> fallback) {
  if (!Has(key)) {
    if (fallback) return *fallback;
    Fail(key, options_.int_missing_is_required ? "is required" : "expected an integer");
    return min;
  }
  const Json& v = *j_.find(key);
  if (!v.is_number_integer()) {
    Fail(key, "expected an integer");
    return min;
  }
  auto x = v.get<std::int64_t>();
  if (x < min || x > max) {
    Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return min;
  }
  return x;
}

std::optional<double> JsonReader::OptNumber(std::string_view key, double min, double max) {
  if (!Has(key)) return std::nullopt;
  const Json& v = *j_.find(key);
  if (!v.is_number()) {
    Fail(key, "expected a number");
    return std::nullopt;
  }
  double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    Fail(key, "must be between " + FormatNumber(min) + " and " + FormatNumber(max));
    return std::nullopt;
  }
  return x;
}

double JsonReader::Number(std::string_view key, double min, double max,
                          std::optional<double> fallback) {
  if (!Has(key)) {
    if (fallback) return *fallback;
    Fail(key, "is required");
    return min;
  }
  return OptNumber(key, min, max).value_or(min);
}

bool JsonReader::Bool(std::string_view key, bool fallback) {
  if (!Has(key)) return fallback;
  const Json& v = *j_.find(key);
  if (!v.is_boolean()) {
    Fail(key, "expected true or false");
    return fallback;
  }
  return v.get<bool>();
}

core::Date JsonReader::Date(std::string_view key) {
  auto s = Str(key);
  if (s.empty()) return {};
  auto d = ParseDate(s, key);
  if (!d) {
    Fail(key, d.error().message());
    return {};
  }
  return *d;
}

std::optional<core::Date> JsonReader::OptDate(std::string_view key) {
  if (!Has(key)) return std::nullopt;
  return Date(key);
}

std::vector<std::string> JsonReader::Strings(std::string_view key, bool required) {
  std::vector<std::string> out;
  if (!Has(key)) {
    if (required) Fail(key, "is required");
    return out;
  }
  const Json& a = *j_.find(key);
  if (!a.is_array()) {
    Fail(key, "expected an array of strings");
    return out;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string() || a[i].get<std::string>().empty()) {
      Fail(Index(key, i), "expected a non-empty string");
      return out;
    }
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

const Json& JsonReader::Array(std::string_view key, bool required) {
  static const Json kEmpty = Json::array();
  if (!Has(key)) {
    if (required) {
      Fail(key, options_.array_missing_is_required ? "is required" : "expected an array");
    }
    return kEmpty;
  }
  const Json& a = *j_.find(key);
  if (!a.is_array()) {
    Fail(key, "expected an array");
    return kEmpty;
  }
  return a;
}

const Json& JsonReader::Object(std::string_view key, bool required) {
  static const Json kEmpty = Json::object();
  if (!Has(key)) {
    if (required) Fail(key, "is required");
    return kEmpty;
  }
  const Json& o = *j_.find(key);
  if (!o.is_object()) {
    Fail(key, "expected an object");
    return kEmpty;
  }
  return o;
}

void JsonReader::Fail(std::string_view key, std::string msg) {
  if (status_.ok()) status_ = Status::InvalidArgument(std::move(msg), path_ + std::string(key));
}

void JsonReader::Absorb(const Status& s) {
  if (status_.ok() && !s.ok()) status_ = s;
}

std::string JsonReader::Index(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

std::string JsonReader::FormatNumber(double v) const {
  if (options_.format_number != nullptr) return options_.format_number(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace wg::core

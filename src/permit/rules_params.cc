// Shared parameter and message helpers of the general and people check kinds.
#include "rules_params.h"

#include "wg/core/strings.h"

namespace wg::permit::internal {

using core::Json;
using core::Status;

std::string Field(std::string_view key) { return "params." + std::string(key); }

Status CheckKeys(const Json& p, std::initializer_list<std::string_view> allowed) {
  if (!p.is_object()) return Status::InvalidArgument("expected an object", "params");
  return core::RejectUnknownMembers(p, allowed, "params.");
}

Status CheckNumber(const Json& p, std::string_view key, bool required, double min, double max) {
  auto it = p.find(key);
  if (it == p.end()) {
    return required ? Status::InvalidArgument("required", Field(key)) : Status::Ok();
  }
  if (!it->is_number()) return Status::InvalidArgument("expected a number", Field(key));
  const double v = it->get<double>();
  if (!(v >= min && v <= max)) {
    return Status::InvalidArgument(
        "out of range [" + FormatNumber(min) + ", " + FormatNumber(max) + "]", Field(key));
  }
  return Status::Ok();
}

Status CheckBool(const Json& p, std::string_view key) {
  auto it = p.find(key);
  if (it != p.end() && !it->is_boolean()) {
    return Status::InvalidArgument("expected true or false", Field(key));
  }
  return Status::Ok();
}

double Num(const Json& p, std::string_view key, double fallback) {
  auto it = p.find(key);
  return it != p.end() && it->is_number() ? it->get<double>() : fallback;
}

bool Bool(const Json& p, std::string_view key, bool fallback) {
  auto it = p.find(key);
  return it != p.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::vector<std::string> Strings(const Json& p, std::string_view key) {
  std::vector<std::string> out;
  auto it = p.find(key);
  if (it == p.end() || !it->is_array()) return out;
  for (const Json& e : *it) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& s : parts) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string Indexed(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

Vars Reason(std::string en, std::string zh, Vars extra) {
  extra["reason"] = std::move(en);
  extra["reason_zh"] = std::move(zh);
  return extra;
}

}  // namespace wg::permit::internal

#pragma once
// Parameter and message helpers shared by the general and people check kinds
// (rules_general.cc, rules_people.cc): params are validated at load with the Check*
// functions and read at evaluation without throwing.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "rules_internal.h"

namespace wg::permit::internal {

// "params.<key>", the field named by a params error.
std::string Field(std::string_view key);
core::Status CheckKeys(const core::Json& p, std::initializer_list<std::string_view> allowed);
core::Status CheckNumber(const core::Json& p, std::string_view key, bool required, double min,
                         double max);
core::Status CheckBool(const core::Json& p, std::string_view key);
double Num(const core::Json& p, std::string_view key, double fallback);
bool Bool(const core::Json& p, std::string_view key, bool fallback);
std::vector<std::string> Strings(const core::Json& p, std::string_view key);
bool Contains(const std::vector<std::string>& list, std::string_view v);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// "base[i]".
std::string Indexed(std::string_view base, std::size_t i);
// Vars carrying the English and Chinese reason ("reason", "reason_zh") plus `extra`.
Vars Reason(std::string en, std::string zh, Vars extra = {});

}  // namespace wg::permit::internal

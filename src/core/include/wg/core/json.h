#pragma once
// JSON helpers over nlohmann::json that never throw across the boundary.
//
// ParseJson enforces a byte limit and a nesting-depth limit before building the document
// (a deep or huge body is rejected with a field-naming error, not a stack overflow).
// The Get* accessors read one member with its expected type and report the field name
// on every failure: "body.expiry_date: expected a string".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wg/core/status.h"

namespace wg::core {

using Json = nlohmann::json;

struct JsonLimits {
  std::size_t max_bytes = 1 << 20;
  int max_depth = 32;
};

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits = {},
                       std::string_view field = "body");

// Requires `obj` to be an object; returns InvalidArgument naming `field` otherwise.
Status RequireObject(const Json& obj, std::string_view field);
// Rejects members not in `allowed` (catches typos such as "expiry" for "expiry_date").
Status RejectUnknownMembers(const Json& obj, std::initializer_list<std::string_view> allowed,
                            std::string_view prefix = "");

Result<std::string> GetString(const Json& obj, std::string_view key, std::size_t max_chars = 200);
Result<std::optional<std::string>> GetOptionalString(const Json& obj, std::string_view key,
                                                     std::size_t max_chars = 200);
Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::int64_t min,
                            std::int64_t max);
Result<std::optional<std::int64_t>> GetOptionalInt(const Json& obj, std::string_view key,
                                                   std::int64_t min, std::int64_t max);
Result<std::optional<bool>> GetOptionalBool(const Json& obj, std::string_view key);

// Serialises compactly with invalid UTF-8 replaced (never throws).
std::string DumpJson(const Json& j, int indent = -1);

}  // namespace wg::core

#include "wg/core/json.h"

#include "wg/core/strings.h"

namespace wg::core {

namespace {

// Scans the raw text for the maximum bracket nesting outside strings, so a hostile body
// never reaches the recursive parser.
int MaxDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

std::string Field(std::string_view key) { return std::string(key); }

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits, std::string_view field) {
  if (text.size() > limits.max_bytes) {
    return Status::ResourceExhausted("JSON document is " + std::to_string(text.size()) +
                                         " bytes; the limit is " +
                                         std::to_string(limits.max_bytes),
                                     std::string(field));
  }
  if (MaxDepth(text) > limits.max_depth) {
    return Status::InvalidArgument(
        "JSON nesting deeper than " + std::to_string(limits.max_depth) + " levels",
        std::string(field));
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to obtain the position for the message.
    std::string where;
    try {
      Json ignored = Json::parse(text.begin(), text.end());
      (void)ignored;
    } catch (const Json::parse_error& e) {
      where = " at byte " + std::to_string(e.byte);
    } catch (const Json::exception& e) {
      // e.g. out_of_range for a number such as 2e771 (found by json_parse_fuzz).
      where = ": " + std::string(e.what());
    }
    return Status::InvalidArgument("malformed JSON" + where, std::string(field));
  }
  return j;
}

Status RequireObject(const Json& obj, std::string_view field) {
  if (!obj.is_object()) return Status::InvalidArgument("expected a JSON object", Field(field));
  return Status::Ok();
}

Status RejectUnknownMembers(const Json& obj, std::initializer_list<std::string_view> allowed,
                            std::string_view prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (auto a : allowed) {
      if (a == it.key()) known = true;
    }
    if (!known) {
      return Status::InvalidArgument("unknown member", std::string(prefix) + it.key());
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> GetOptionalString(const Json& obj, std::string_view key,
                                                     std::size_t max_chars) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Status::InvalidArgument("expected a string", Field(key));
  const auto& s = it->get_ref<const std::string&>();
  WG_RETURN_IF_ERROR(CheckText(s, key, max_chars, /*required=*/false));
  return std::optional<std::string>(s);
}

Result<std::string> GetString(const Json& obj, std::string_view key, std::size_t max_chars) {
  WG_ASSIGN_OR_RETURN(auto v, GetOptionalString(obj, key, max_chars));
  if (!v || v->empty()) return Status::InvalidArgument("is required", Field(key));
  return *v;
}

Result<std::optional<std::int64_t>> GetOptionalInt(const Json& obj, std::string_view key,
                                                   std::int64_t min, std::int64_t max) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) return Status::InvalidArgument("expected an integer", Field(key));
  std::int64_t v = 0;
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) {
      return Status::InvalidArgument("must be at most " + std::to_string(max), Field(key));
    }
    v = static_cast<std::int64_t>(u);
  } else {
    v = it->get<std::int64_t>();
  }
  if (v < min || v > max) {
    return Status::InvalidArgument(
        "must be between " + std::to_string(min) + " and " + std::to_string(max), Field(key));
  }
  return std::optional<std::int64_t>(v);
}

Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::int64_t min,
                            std::int64_t max) {
  WG_ASSIGN_OR_RETURN(auto v, GetOptionalInt(obj, key, min, max));
  if (!v) return Status::InvalidArgument("is required", Field(key));
  return *v;
}

Result<std::optional<bool>> GetOptionalBool(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return Status::InvalidArgument("expected true or false", Field(key));
  return std::optional<bool>(it->get<bool>());
}

std::string DumpJson(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wg::core

#pragma once
// Private to wg_vault: the syntax of the names the vault puts in paths and metadata
// (organization codes, object ids, media types). Not part of the public interface.

#include <string_view>

namespace wg::vault::internal {

inline bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Organization code as in wg::domain::Organization: [a-z0-9-]{2,32}. It names a directory,
// so nothing else (no '.', no '/') is ever allowed.
inline bool IsOrgCode(std::string_view s) {
  if (s.size() < 2 || s.size() > 32) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// Object id: 32 lower-case hex digits.
inline bool IsObjectId(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// One RFC 6838 restricted-name token, lower case only so that one spelling is stored.
inline bool IsMediaToken(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && std::string_view("!#$&^_.+-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// "video/mp4" (no parameters).
inline bool IsMediaType(std::string_view s) {
  auto slash = s.find('/');
  return slash != std::string_view::npos && IsMediaToken(s.substr(0, slash)) &&
         IsMediaToken(s.substr(slash + 1));
}

// "video/*" or a media type.
inline bool IsMediaPattern(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  auto sub = s.substr(slash + 1);
  return IsMediaToken(s.substr(0, slash)) && (sub == "*" || IsMediaToken(sub));
}

}  // namespace wg::vault::internal

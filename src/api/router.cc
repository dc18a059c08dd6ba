#include "router.h"

#include <algorithm>
#include <cassert>
#include <climits>

namespace wg::api {

Method ParseMethod(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "HEAD") return Method::kHead;
  if (m == "PATCH") return Method::kPatch;
  if (m == "DELETE") return Method::kDelete;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

bool SplitPath(std::string_view path, std::vector<std::string_view>* segments) {
  segments->clear();
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return true;  // "/"
  std::size_t start = 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return false;
    segments->push_back(seg);
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

PathPattern::PathPattern(std::string_view pattern) : text_(pattern) {
  std::vector<std::string_view> segs;
  [[maybe_unused]] bool ok = SplitPath(pattern, &segs);
  assert(ok && "route patterns are absolute paths without empty segments");
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].size() >= 2 && segs[i].front() == '{' && segs[i].back() == '}') {
      assert(param_index_ < 0 && "at most one parameter per pattern");
      param_index_ = static_cast<int>(i);
    }
    segments_.emplace_back(segs[i]);
  }
}

bool PathPattern::Match(const std::vector<std::string_view>& path, std::string_view* param) const {
  if (path.size() != segments_.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (static_cast<int>(i) == param_index_) continue;
    if (path[i] != segments_[i]) return false;
  }
  *param = param_index_ >= 0 ? path[static_cast<std::size_t>(param_index_)] : std::string_view();
  return true;
}

std::size_t Router::Add(Method method, std::string_view pattern) {
  routes_.push_back(Route{method, PathPattern(pattern)});
  return routes_.size() - 1;
}

RouteMatch Router::Match(Method method, std::string_view path) const {
  RouteMatch out;
  if (method == Method::kHead) method = Method::kGet;
  // Paths have a handful of segments; thread_local storage avoids an allocation per call.
  thread_local std::vector<std::string_view> segments;
  if (!SplitPath(path, &segments)) return out;

  // The best (fewest-parameter) shape decides between "found" and "method not allowed".
  int best_params = INT_MAX;
  for (const Route& r : routes_) {
    std::string_view param;
    if (r.pattern.Match(segments, &param))
      best_params = std::min(best_params, r.pattern.param_count());
  }
  if (best_params == INT_MAX) return out;

  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    std::string_view param;
    if (r.pattern.param_count() != best_params || !r.pattern.Match(segments, &param)) continue;
    if (r.method == method) {
      out.kind = RouteMatch::Kind::kFound;
      out.index = i;
      out.param = param;
      out.allow.clear();
      return out;
    }
    if (!out.allow.empty()) out.allow += ", ";
    out.allow += MethodName(r.method);
  }
  out.kind = RouteMatch::Kind::kMethodNotAllowed;
  return out;
}

std::vector<std::string> Router::Describe() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) {
    out.push_back(std::string(MethodName(r.method)) + " " + r.pattern.text());
  }
  return out;
}

}  // namespace wg::api

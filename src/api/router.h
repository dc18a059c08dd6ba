#pragma once
// Router: matches an HTTP method and path against the API's route patterns without
// regular expressions (the verify route is the hot path and cpp-httplib's regex dispatch
// costs microseconds per route tried).
//
// A pattern is a '/'-separated path whose segments are literals or one parameter
// written "{id}". A literal segment wins over a parameter: with "GET /certificates/{id}"
// and "POST /certificates/import" registered, "GET /certificates/import" is a 405 (the
// resource exists, the method does not), not a 400 for a non-numeric id. HEAD is matched
// as GET. The router is immutable after setup and safe to share between threads.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wg::api {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

Method ParseMethod(std::string_view method);
std::string_view MethodName(Method m);

// A compiled path pattern such as "/api/v1/workers/{id}/verify".
class PathPattern {
 public:
  explicit PathPattern(std::string_view pattern);

  // True when `path` has this shape; `*param` receives the parameter segment's text
  // (empty when the pattern has no parameter).
  bool Match(const std::vector<std::string_view>& path_segments, std::string_view* param) const;
  int param_count() const { return param_index_ >= 0 ? 1 : 0; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> segments_;
  int param_index_ = -1;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  std::size_t index = 0;   // kFound: the route's index (order of Add)
  std::string_view param;  // kFound: the {id} segment, a view into the path
  std::string allow;       // kMethodNotAllowed: "GET, POST"
};

class Router {
 public:
  // Adds a route and returns its index. A pattern holds at most one parameter.
  std::size_t Add(Method method, std::string_view pattern);

  RouteMatch Match(Method method, std::string_view path) const;

  std::size_t size() const { return routes_.size(); }
  Method method(std::size_t i) const { return routes_[i].method; }
  const PathPattern& pattern(std::size_t i) const { return routes_[i].pattern; }
  // "GET /api/v1/workers/{id}" for every route, in order of Add.
  std::vector<std::string> Describe() const;

 private:
  struct Route {
    Method method;
    PathPattern pattern;
  };
  std::vector<Route> routes_;
};

// Splits "/a/b/c" into {"a","b","c"}. Returns false for a path that is not absolute or
// has an empty segment ("//", trailing '/'), which no route matches.
bool SplitPath(std::string_view path, std::vector<std::string_view>* segments);

}  // namespace wg::api

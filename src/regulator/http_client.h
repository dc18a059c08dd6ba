#pragma once
// A blocking cpp-httplib client for a base URL ("http://host:port/prefix"), shared by the
// push client and the spot check. httplib never throws here: failures come back as its
// Result, which the callers turn into Status.

#include <httplib.h>

#include <memory>
#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::regulator::internal {

struct HttpTarget {
  std::unique_ptr<httplib::Client> client;
  std::string prefix;  // path prefix without a trailing '/', "" for none
};

// http:// or https:// only; `field` names the option in errors.
core::Result<HttpTarget> Connect(std::string_view url, int timeout_seconds, std::string_view field);

// "cannot reach URL: <httplib error>" as kUnavailable.
core::Status Unreachable(std::string_view url, const httplib::Result& r);

}  // namespace wg::regulator::internal

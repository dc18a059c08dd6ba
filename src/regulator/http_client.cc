#include "http_client.h"

namespace wg::regulator::internal {

using core::Result;
using core::Status;

Result<HttpTarget> Connect(std::string_view url, int timeout_seconds, std::string_view field) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::InvalidArgument("expected http://HOST[:PORT][/PREFIX]", std::string(field));
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("scheme must be http or https", std::string(field));
  }
  const std::size_t path_start = url.find('/', scheme_end + 3);
  const std::string_view authority = url.substr(0, path_start);
  if (authority.size() <= scheme_end + 3) {
    return Status::InvalidArgument("has no host", std::string(field));
  }
  HttpTarget t;
  if (path_start != std::string_view::npos) {
    std::string_view prefix = url.substr(path_start);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    t.prefix = std::string(prefix);
  }
  t.client = std::make_unique<httplib::Client>(std::string(authority));
  if (!t.client->is_valid()) {
    return Status::InvalidArgument("cannot make a client for it", std::string(field));
  }
  const time_t secs = timeout_seconds > 0 ? timeout_seconds : 10;
  t.client->set_connection_timeout(secs, 0);
  t.client->set_read_timeout(secs, 0);
  t.client->set_write_timeout(secs, 0);
  return t;
}

Status Unreachable(std::string_view url, const httplib::Result& r) {
  return Status::Unavailable("cannot reach " + std::string(url) + ": " +
                             httplib::to_string(r.error()));
}

}  // namespace wg::regulator::internal

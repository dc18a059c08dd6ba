#include "wg/core/http_error.h"

namespace wg::core {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    // The request is well-formed but conflicts with the resource's current state
    // (revoking a revoked certificate, no rule set in force). 422 is reserved for an
    // import refused because of invalid rows, whose body is the import report.
    case StatusCode::kFailedPrecondition:
      return 409;
    // Used for size limits (body, import file); there is no rate limiter yet.
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

Json ErrorJson(std::string_view code, std::string_view message, std::string_view field) {
  Json err = Json::object();
  err["code"] = std::string(code);
  err["message"] = std::string(message);
  if (!field.empty()) err["field"] = std::string(field);
  Json body = Json::object();
  body["error"] = std::move(err);
  return body;
}

Json ErrorJson(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInternal:
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
      return ErrorJson(StatusCodeName(status.code()),
                       "internal error; the server log has the details", "");
    default:
      return ErrorJson(StatusCodeName(status.code()), status.message(), status.field());
  }
}

}  // namespace wg::core

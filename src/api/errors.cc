#include "errors.h"

#include "wg/api/server.h"
#include "wg/core/json.h"

namespace wg::api {

int HttpStatusFor(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kOk:
      return 200;
    case core::StatusCode::kInvalidArgument:
      return 400;
    case core::StatusCode::kUnauthenticated:
      return 401;
    case core::StatusCode::kPermissionDenied:
      return 403;
    case core::StatusCode::kNotFound:
      return 404;
    case core::StatusCode::kAlreadyExists:
      return 409;
    // The request is well-formed but conflicts with the resource's current state
    // (revoking a revoked certificate, no rule set in force). 422 is reserved for an
    // import refused because of invalid rows, whose body is the import report.
    case core::StatusCode::kFailedPrecondition:
      return 409;
    // Used for size limits (body, import file); this API has no rate limiter yet.
    case core::StatusCode::kResourceExhausted:
      return 413;
    case core::StatusCode::kUnavailable:
      return 503;
    case core::StatusCode::kCorruption:
    case core::StatusCode::kIoError:
    case core::StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string ErrorBody(std::string_view code, std::string_view message, std::string_view field) {
  core::Json err = core::Json::object();
  err["code"] = std::string(code);
  err["message"] = std::string(message);
  if (!field.empty()) err["field"] = std::string(field);
  core::Json body = core::Json::object();
  body["error"] = std::move(err);
  return core::DumpJson(body);
}

std::string ErrorBody(const core::Status& status) {
  switch (status.code()) {
    case core::StatusCode::kInternal:
    case core::StatusCode::kIoError:
    case core::StatusCode::kCorruption:
      return ErrorBody(core::StatusCodeName(status.code()),
                       "internal error; the server log has the details", "");
    default:
      return ErrorBody(core::StatusCodeName(status.code()), status.message(), status.field());
  }
}

std::string_view ErrorCodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 401:
      return core::StatusCodeName(core::StatusCode::kUnauthenticated);
    case 403:
      return core::StatusCodeName(core::StatusCode::kPermissionDenied);
    case 404:
      return core::StatusCodeName(core::StatusCode::kNotFound);
    case 405:
      return kMethodNotAllowedCode;
    case 409:
      return core::StatusCodeName(core::StatusCode::kAlreadyExists);
    case 413:
    case 414:
    case 431:
      return core::StatusCodeName(core::StatusCode::kResourceExhausted);
    case 503:
      return core::StatusCodeName(core::StatusCode::kUnavailable);
    default:
      return http_status >= 500 ? core::StatusCodeName(core::StatusCode::kInternal)
                                : core::StatusCodeName(core::StatusCode::kInvalidArgument);
  }
}

}  // namespace wg::api

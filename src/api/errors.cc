#include "errors.h"

#include "wg/api/server.h"
#include "wg/core/http_error.h"
#include "wg/core/json.h"

namespace wg::api {

std::string ErrorBody(std::string_view code, std::string_view message, std::string_view field) {
  return core::DumpJson(core::ErrorJson(code, message, field));
}

std::string ErrorBody(const core::Status& status) { return core::DumpJson(core::ErrorJson(status)); }

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

#pragma once
// The API's error body: {"error":{"code":"INVALID_ARGUMENT","message":"...","field":"..."}}
// ("field" is omitted when empty), serialised from core::ErrorJson; the HTTP status comes
// from core::HttpStatusFor (wg/core/http_error.h), the single Status -> HTTP mapping.

#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::api {

// Error codes that have no core::StatusCode because they are about HTTP itself.
inline constexpr std::string_view kMethodNotAllowedCode = "METHOD_NOT_ALLOWED";

std::string ErrorBody(std::string_view code, std::string_view message, std::string_view field);

// The body for a non-OK status. Server-side failures (kInternal, kIoError, kCorruption)
// get a generic message: their detail goes to the log, not to the client.
std::string ErrorBody(const core::Status& status);

// The error code for a status that cpp-httplib produced on its own (a malformed request
// line, a body over the transport limit, ...), used to give those responses the same
// JSON shape.
std::string_view ErrorCodeForHttpStatus(int http_status);

}  // namespace wg::api

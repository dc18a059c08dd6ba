#pragma once
// The one mapping from Status to HTTP, shared by every HTTP server of the project (the
// enterprise API and the regulator's node): the status code, and the error body
//   {"error":{"code":"INVALID_ARGUMENT","message":"...","field":"..."}}
// ("field" omitted when empty).

#include <string_view>

#include "wg/core/json.h"
#include "wg/core/status.h"

namespace wg::core {

int HttpStatusFor(StatusCode code);

Json ErrorJson(std::string_view code, std::string_view message, std::string_view field);
// The body for a non-OK status. Server-side failures (kInternal, kIoError, kCorruption)
// get a generic message: their detail goes to the log, not to the client.
Json ErrorJson(const Status& status);

}  // namespace wg::core

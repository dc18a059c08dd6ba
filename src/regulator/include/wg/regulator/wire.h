#pragma once
// The regulator's HTTP wire format (docs/formats/regulator.md): submissions pushed by
// enterprises, the decision returned, and the admin views. Shared by RegulatorServer and
// the push client so both sides read and write one definition. Hashes travel as 64
// lowercase hex digits; notes as JSON strings; times as RFC 3339 UTC.
//
//   submission  {"checkpoint": note, "old_size": n, "consistency": [hex...],
//                "leaves": {"from": n, "hashes": [hex...]}}
//   decision    {"decision": "ACCEPTED", "detail": "...", "checkpoint": cosigned note,
//                "accepted_size": n, "leaves_held": n}           (200)
//   refusal     {"error": {"code", "message", "field"}, "decision": "FORK",
//                "accepted_size": n, "leaves_held": n, "alert_id": n}   (4xx)
//
// Parsing is strict (unknown members rejected, each error names its field) and never
// throws.

#include <cstdint>
#include <string>
#include <string_view>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/regulator/supervision.h"

namespace wg::regulator {

core::Json SubmissionToJson(const Submission& s);
// `max_bytes` bounds the body; fields are named "checkpoint", "old_size", "consistency[3]",
// "leaves.from", "leaves.hashes[17]".
core::Result<Submission> ParseSubmission(std::string_view body, std::size_t max_bytes);

core::Json DecisionToJson(const Decision& d);  // both forms above, without "error"
core::Result<Reason> ParseReason(std::string_view s);
// Reads a decision or refusal body (either form) back into a Decision.
core::Result<Decision> ParseDecision(std::string_view body);

core::Json AlertToJson(const Alert& a);
core::Json EnterpriseToJson(const EnterpriseView& e);

// The status code a refusal is reported with (core::StatusCode, mapped to HTTP by the
// server): kFailedPrecondition for alerts and state conflicts, kPermissionDenied for
// signature and origin problems, kInvalidArgument for malformed input.
core::StatusCode StatusCodeFor(Reason r);

// Percent-encodes a string for one URL path segment (RFC 3986 unreserved kept).
std::string EncodePathSegment(std::string_view s);

}  // namespace wg::regulator

#pragma once
// Internals of wg_live shared between service.cc and notifier.cc (not installed).

#include <chrono>
#include <cstdint>
#include <string>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::live::internal {

// Monotonic nanoseconds (std::chrono::steady_clock), comparable across threads of one
// process: what the benchmarks compare with their own steady_clock readings.
inline std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The shortest decimal text that reads back as `v` (facts admit no floats).
std::string NumberText(double v);

// One HTTP POST of a JSON body with libcurl (2 s timeouts, TCP_NODELAY). OK for a 2xx
// answer; kUnavailable naming the HTTP status or the transport error otherwise.
core::Status PostJson(const std::string& url, const std::string& body);

// Back-off after `attempts` failed attempts: 1 s, 2 s, 4 s, ... capped at 5 min.
core::Duration RetryDelay(int attempts);

}  // namespace wg::live::internal

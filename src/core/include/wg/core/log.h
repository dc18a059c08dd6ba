#pragma once
// Logging: spdlog behind one setup call. Libraries log through wg::core::Logger() so the
// application decides the sink and level once ("info" by default, WG_LOG_LEVEL overrides).

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace wg::core {

// Configures the process-wide logger (stderr, "[time] [level] message"). Safe to call
// more than once; the last level wins.
void SetupLogging(std::string_view level);

}  // namespace wg::core

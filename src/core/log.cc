#include "wg/core/log.h"

#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace wg::core {

void SetupLogging(std::string_view level) {
  std::string lvl(level);
  if (const char* env = std::getenv("WG_LOG_LEVEL")) lvl = env;
  static auto logger = spdlog::stderr_color_mt("workguard");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%Y-%m-%dT%H:%M:%S.%e%z] [%l] %v");
  spdlog::set_level(spdlog::level::from_str(lvl));
}

}  // namespace wg::core

#include "wg/core/clock.h"

#include <chrono>

namespace wg::core {

Timestamp SystemClock::Now() const {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(d).count()};
}

}  // namespace wg::core

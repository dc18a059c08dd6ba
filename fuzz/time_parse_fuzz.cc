// libFuzzer target: date and timestamp parsers accept only what they can format back.
#include <cstdint>
#include <cstdlib>

#include "wg/core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = wg::core::ParseDate(text)) {
    if (wg::core::FormatDate(*d) != text) std::abort();  // round trip is exact
  }
  if (auto t = wg::core::ParseTimestamp(text)) {
    auto again = wg::core::ParseTimestamp(wg::core::FormatTimestamp(*t));
    if (!again || *again != *t) std::abort();
  }
  return 0;
}

// libFuzzer target: bounded JSON parsing never throws and enforces the depth limit.
#include <cstdint>
#include <cstdlib>

#include "wg/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = wg::core::ParseJson(text, {.max_bytes = 4096, .max_depth = 8});
  if (j && size > 4096) std::abort();
  if (j) (void)wg::core::DumpJson(*j);
  return 0;
}

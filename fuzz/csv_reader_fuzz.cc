// libFuzzer target: the streaming CSV reader must never crash, hang or exceed its limits
// on any input, and every field it returns must respect the configured bounds.
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "wg/core/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  wg::core::CsvLimits limits{.max_field_bytes = 256, .max_fields = 16};
  wg::core::CsvReader reader(in, limits);
  std::vector<std::string> fields;
  for (int i = 0; i < 10000; ++i) {
    auto more = reader.Next(&fields);
    if (!more || !*more) break;
    if (fields.size() > limits.max_fields) std::abort();
    for (const auto& f : fields) {
      if (f.size() > limits.max_field_bytes) std::abort();
    }
  }
  return 0;
}

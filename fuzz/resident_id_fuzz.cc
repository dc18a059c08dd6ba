// libFuzzer target: resident-ID validation never crashes and accepts only 18-character
// numbers whose check character it would compute itself.
#include <cstdint>
#include <cstdlib>

#include "wg/registry/id_number.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = wg::registry::NormalizeResidentId(text)) {
    if (id->size() != 18 || wg::registry::ResidentIdCheckChar(*id) != (*id)[17]) std::abort();
  }
  return 0;
}

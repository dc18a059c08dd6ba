// libFuzzer target: fact decoding and evidence-bundle parsing never crash; a decoded fact
// re-encodes to exactly the input (the encoding is canonical).
#include <cstdint>
#include <cstdlib>

#include "wg/evidence/bundle.h"
#include "wg/evidence/fact.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto fact = wg::evidence::DecodeFact(bytes);
  if (fact && wg::evidence::EncodeFact(*fact) != bytes) std::abort();
  auto bundle = wg::evidence::ParseBundle(bytes);
  if (bundle) (void)wg::evidence::VerifyBundle(*bundle, std::nullopt);
  return 0;
}

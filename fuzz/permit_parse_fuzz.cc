// libFuzzer target: the permit parser never crashes on any input; a document it accepts
// writes back to a document that parses to the same permit (the format round-trips), and
// the checker runs on it without crashing (no directory, no conflicts).
#include <cstdint>
#include <cstdlib>

#include "wg/permit/check.h"
#include "wg/permit/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto book = wg::permit::PermitRulebook::LoadEmbedded();
  if (!book) std::abort();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool service_fields : {false, true}) {
    auto p = wg::permit::ParsePermitText(text, service_fields);
    if (!p) continue;
    auto again = wg::permit::ParsePermit(wg::permit::ToJson(*p), /*service_fields=*/true);
    if (!again || !(*again == *p)) std::abort();
    wg::permit::CheckOptions o;
    o.at = p->planned_start;
    (void)wg::permit::Check(*book, *p, o);
    (void)wg::permit::ContentDigest(*p);
  }
  return 0;
}

// libFuzzer target: the monitoring-point parser (wg::monitor::ParsePoint) never crashes on
// any JSON document (parsed with the bounded core::ParseJson), and a point it accepts
// round-trips: ToJson -> ParsePoint succeeds and gives the same ToJson, both directly and
// through the serialized text (ToJson(...).dump() -> ParseJson -> ParsePoint).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wg/core/json.h"
#include "wg/monitor/model.h"
#include "wg/monitor/rulebook.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto book = wg::monitor::MonitorRulebook::LoadEmbedded();
  if (!book) std::abort();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = wg::core::ParseJson(text, wg::core::JsonLimits{64 * 1024, 32});
  if (!doc) return 0;
  const wg::core::OrgId org{7};
  auto p = wg::monitor::ParsePoint(**book, org, *doc);
  if (!p) return 0;
  const wg::core::Json j = wg::monitor::ToJson(*p);
  auto again = wg::monitor::ParsePoint(**book, org, j);
  if (!again) std::abort();
  if (wg::monitor::ToJson(*again) != j) std::abort();
  if (again->org.value != org.value) std::abort();
  // Through the text form, as a stored point is read back.
  const std::string dumped = j.dump();
  auto reparsed = wg::core::ParseJson(dumped, wg::core::JsonLimits{1 << 20, 32});
  if (!reparsed) std::abort();
  auto third = wg::monitor::ParsePoint(**book, org, *reparsed);
  if (!third) std::abort();
  if (wg::monitor::ToJson(*third).dump() != dumped) std::abort();
  return 0;
}

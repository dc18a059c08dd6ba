#pragma once
// Helpers shared by the registry tests.

#include <gtest/gtest.h>

#include "wg/core/time.h"
#include "wg/registry/rulebook.h"

namespace wg::registry::testing {

inline const Rulebook& DefaultBook() {
  static const Rulebook* book = [] {
    auto b = Rulebook::LoadEmbedded();
    if (!b) {
      ADD_FAILURE() << b.error().ToString();
      std::abort();
    }
    return new Rulebook(std::move(b).value());
  }();
  return *book;
}

inline core::Date D(const char* s) {
  auto d = core::ParseDate(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or(core::Date{});
}

// Noon in Beijing on the given day.
inline core::Timestamp AtNoon(const char* s) {
  return core::ShanghaiStartOfDay(D(s)) + core::Duration::Hours(12);
}

}  // namespace wg::registry::testing

// CRC-32C known answers (RFC 3720 §B.4 and the "123456789" check value) for both the
// SSE4.2 and the table implementation, and agreement between them on random input.

#include "crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace wg::ledger::internal {
namespace {

struct KnownAnswer {
  std::string data;
  std::uint32_t crc;
};

std::vector<KnownAnswer> KnownAnswers() {
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  return {
      {"", 0x00000000},
      {"123456789", 0xE3069283},
      {std::string(32, '\0'), 0x8A9136AA},
      {std::string(32, '\xff'), 0x62A8AB43},
      {ascending, 0x46DD794E},
      {descending, 0x113FDB5C},
  };
}

TEST(Crc32cTest, KnownAnswersPortable) {
  for (const auto& ka : KnownAnswers()) {
    EXPECT_EQ(Crc32cPortable(0, ka.data.data(), ka.data.size()), ka.crc) << ka.data.size();
  }
}

TEST(Crc32cTest, KnownAnswersHardware) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const auto& ka : KnownAnswers()) {
    EXPECT_EQ(Crc32cHardware(0, ka.data.data(), ka.data.size()), ka.crc) << ka.data.size();
  }
}

TEST(Crc32cTest, DispatchedMatchesKnownAnswer) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32cTest, ImplementationsAgreeAndExtendComposes) {
  std::mt19937 rng(32);
  for (int round = 0; round < 200; ++round) {
    std::string data(rng() % 300, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const std::size_t cut = data.empty() ? 0 : rng() % data.size();
    const std::uint32_t whole = Crc32cPortable(0, data.data(), data.size());
    const std::uint32_t head = Crc32cPortable(0, data.data(), cut);
    EXPECT_EQ(Crc32cPortable(head, data.data() + cut, data.size() - cut), whole);
    if (Crc32cHardwareAvailable()) {
      EXPECT_EQ(Crc32cHardware(0, data.data(), data.size()), whole);
      // Unaligned starts exercise the 8-byte loads.
      EXPECT_EQ(
          Crc32cHardware(Crc32cHardware(0, data.data(), cut), data.data() + cut, data.size() - cut),
          whole);
    }
    EXPECT_EQ(Crc32c(data), whole);
  }
}

}  // namespace
}  // namespace wg::ledger::internal

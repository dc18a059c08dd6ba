#include "wg/core/csv.h"

#include <gtest/gtest.h>

#include <sstream>

namespace wg::core {
namespace {

std::vector<std::vector<std::string>> ReadAll(const std::string& text, Status* error = nullptr,
                                              CsvLimits limits = {}) {
  std::istringstream in(text);
  CsvReader r(in, limits);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> f;
  while (true) {
    auto n = r.Next(&f);
    if (!n) {
      if (error) *error = n.error();
      break;
    }
    if (!*n) break;
    out.push_back(f);
  }
  return out;
}

TEST(CsvReaderTest, QuotesEscapesCrlfBomAndBlankLines) {
  auto rows = ReadAll("\xEF\xBB\xBF" "a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\r\n\n\"multi\nline\",2,3");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x,1", "he said \"hi\"", ""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"multi\nline", "2", "3"}));
}

TEST(CsvReaderTest, RejectsUnterminatedQuoteAndTextAfterQuote) {
  Status err;
  ReadAll("a,\"b\nc", &err);
  EXPECT_EQ(err.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(err.message().find("unterminated"), std::string::npos);
  ReadAll("a,\"b\"x,c\n", &err);
  EXPECT_NE(err.message().find("after a closing quote"), std::string::npos);
}

TEST(CsvReaderTest, EnforcesLimits) {
  Status err;
  ReadAll(std::string(100, 'x') + "\n", &err, {.max_field_bytes = 10, .max_fields = 5});
  EXPECT_NE(err.message().find("exceeds"), std::string::npos);
  ReadAll("1,2,3,4,5,6\n", &err, {.max_field_bytes = 10, .max_fields = 5});
  EXPECT_NE(err.message().find("more than 5"), std::string::npos);
}

}  // namespace
}  // namespace wg::core

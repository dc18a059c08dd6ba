#pragma once
// CsvReader: a streaming RFC 4180 reader (comma separator, double-quote quoting with ""
// escapes, CRLF or LF line ends, a UTF-8 byte-order mark skipped at the start). It never
// loads the whole input and bounds every record, so a hostile file cannot exhaust memory:
// a field over `max_field_bytes` or a record over `max_fields` is an error naming the
// record. The istream must outlive the reader.

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "wg/core/status.h"

namespace wg::core {

struct CsvLimits {
  std::size_t max_field_bytes = 64 * 1024;
  std::size_t max_fields = 256;
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in, CsvLimits limits = {}) : in_(in), limits_(limits) {}

  // Reads the next record into `fields`. Returns true on a record, false at end of input;
  // an error for malformed input (unterminated quote, text after a closing quote, limits).
  // Blank lines are skipped.
  Result<bool> Next(std::vector<std::string>* fields);

  // 1-based physical line where the last record started.
  std::size_t line() const { return record_line_; }
  std::size_t bytes_read() const { return bytes_; }

 private:
  int Get();
  int Peek();
  bool Fill();

  std::istream& in_;
  std::string buf_;  // read-ahead buffer: istream::get per byte is ~10x slower
  std::size_t pos_ = 0;
  CsvLimits limits_;
  std::size_t line_ = 1;
  std::size_t record_line_ = 0;
  std::size_t bytes_ = 0;
  bool started_ = false;
};

}  // namespace wg::core

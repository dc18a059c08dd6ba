#include "wg/core/csv.h"

namespace wg::core {

bool CsvReader::Fill() {
  if (pos_ < buf_.size()) return true;
  buf_.resize(1 << 16);
  in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.resize(static_cast<std::size_t>(in_.gcount()));
  pos_ = 0;
  return !buf_.empty();
}

int CsvReader::Get() {
  if (!Fill()) return EOF;
  int c = static_cast<unsigned char>(buf_[pos_++]);
  ++bytes_;
  if (c == '\n') ++line_;
  return c;
}

int CsvReader::Peek() {
  if (!Fill()) return EOF;
  return static_cast<unsigned char>(buf_[pos_]);
}

Result<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  if (!started_) {
    started_ = true;
    if (Fill() && buf_.compare(pos_, 3, "\xEF\xBB\xBF") == 0) {
      pos_ += 3;
      bytes_ += 3;
    }
  }
  // Skip blank lines.
  while (Peek() == '\r' || Peek() == '\n') Get();
  if (Peek() == EOF) return false;
  record_line_ = line_;

  std::string field;
  auto too_long = [&]() {
    return Status::InvalidArgument("field " + std::to_string(fields->size() + 1) + " exceeds " +
                                       std::to_string(limits_.max_field_bytes) + " bytes",
                                   "line " + std::to_string(record_line_));
  };
  auto push = [&]() -> Status {
    if (fields->size() >= limits_.max_fields) {
      return Status::InvalidArgument(
          "more than " + std::to_string(limits_.max_fields) + " fields",
          "line " + std::to_string(record_line_));
    }
    fields->push_back(std::move(field));
    field.clear();
    return Status::Ok();
  };

  while (true) {
    int c = Get();
    if (c == '"' && field.empty()) {
      // Quoted field.
      while (true) {
        int q = Get();
        if (q == EOF) {
          return Status::InvalidArgument("unterminated quoted field",
                                         "line " + std::to_string(record_line_));
        }
        if (q == '"') {
          if (Peek() == '"') {
            Get();
            field.push_back('"');
            continue;
          }
          break;
        }
        field.push_back(static_cast<char>(q));
        if (field.size() > limits_.max_field_bytes) return too_long();
      }
      int after = Peek();
      if (after != ',' && after != '\n' && after != '\r' && after != EOF) {
        return Status::InvalidArgument("text after a closing quote in field " +
                                           std::to_string(fields->size() + 1),
                                       "line " + std::to_string(line_));
      }
      continue;
    }
    if (c == ',') {
      WG_RETURN_IF_ERROR(push());
      continue;
    }
    if (c == '\r' && Peek() == '\n') continue;
    if (c == '\n' || c == '\r' || c == EOF) {
      WG_RETURN_IF_ERROR(push());
      return true;
    }
    field.push_back(static_cast<char>(c));
    if (field.size() > limits_.max_field_bytes) return too_long();
  }
}

}  // namespace wg::core

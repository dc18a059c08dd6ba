#pragma once
// Status and Result<T>: errors as values.
//
// A Status is either OK or carries one code from a closed set, a human message and,
// where the error is about one input field, that field's name ("expiry_date",
// "body.password"). Result<T> holds a T or a non-OK Status; its member names follow
// std::expected (has_value, value, error, operator*, operator->) so a later move to
// std::expected is mechanical. Both are cheap to move and are [[nodiscard]]: every
// caller checks them. No exception crosses a library boundary; a throwing third-party
// call is caught where it is made and turned into a Status.
//
// Codes map to HTTP statuses in exactly one place (wg::api::HttpStatusFor).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wg::core {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kResourceExhausted,
  kCorruption,
  kUnavailable,
  kIoError,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string field = {}) {
    return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(field));
  }
  static Status NotFound(std::string msg, std::string field = {}) {
    return Status(StatusCode::kNotFound, std::move(msg), std::move(field));
  }
  static Status AlreadyExists(std::string msg, std::string field = {}) {
    return Status(StatusCode::kAlreadyExists, std::move(msg), std::move(field));
  }
  static Status PermissionDenied(std::string msg) {
    return Status(StatusCode::kPermissionDenied, std::move(msg), {});
  }
  static Status Unauthenticated(std::string msg) {
    return Status(StatusCode::kUnauthenticated, std::move(msg), {});
  }
  static Status FailedPrecondition(std::string msg, std::string field = {}) {
    return Status(StatusCode::kFailedPrecondition, std::move(msg), std::move(field));
  }
  static Status ResourceExhausted(std::string msg, std::string field = {}) {
    return Status(StatusCode::kResourceExhausted, std::move(msg), std::move(field));
  }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg), {});
  }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg), {});
  }
  static Status IoError(std::string msg) { return Status(StatusCode::kIoError, std::move(msg), {}); }
  static Status Internal(std::string msg) {
    return Status(StatusCode::kInternal, std::move(msg), {});
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }

  // "INVALID_ARGUMENT: expiry_date: must not be before issue_date"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with context ("row 12: ...").
  Status WithContext(std::string_view context) const;

 private:
  Status(StatusCode code, std::string msg, std::string field)
      : code_(code), message_(std::move(msg)), field_(std::move(field)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// Result<T>: a T, or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}     // NOLINT: implicit by design

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; OK when a value is present.
  Status error() const { return has_value() ? Status::Ok() : std::get<1>(v_); }
  Status status() const { return error(); }

  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace wg::core

// Propagation helpers: return early with the error.
#define WG_CONCAT_INNER(a, b) a##b
#define WG_CONCAT(a, b) WG_CONCAT_INNER(a, b)

#define WG_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::wg::core::Status wg_status__ = (expr);     \
    if (!wg_status__.ok()) return wg_status__;   \
  } while (false)

#define WG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.has_value()) return tmp.error();      \
  lhs = std::move(tmp).value()

#define WG_ASSIGN_OR_RETURN(lhs, expr) \
  WG_ASSIGN_OR_RETURN_IMPL(WG_CONCAT(wg_result__, __LINE__), lhs, expr)

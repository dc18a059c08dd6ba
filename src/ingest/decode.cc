// Sensor payload decoding: a small strict JSON reader for exactly the two message shapes
// of docs/formats/mqtt-topics.md. Hand-written because it runs once per reading on the
// ingest hot path (a 100-reading batch decodes in a few microseconds; a generic DOM
// parser allocates per member and is an order of magnitude slower).

#include "wg/ingest/decode.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#include "wg/core/strings.h"

namespace wg::ingest {
namespace {

using core::Result;
using core::Status;
using core::Timestamp;

constexpr std::size_t kMaxIdBytes = 64;
constexpr std::size_t kMaxUnitBytes = 16;
constexpr int kMaxDepth = 32;  // nesting allowed inside skipped (unknown) values
constexpr std::int64_t kMaxEpochMs = (std::int64_t{1} << 53);

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdBytes) return false;
  for (char c : s) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

// Outcome of reading one JSON token.
enum class Tok { kOk, kSyntax };

// A JSON value as seen by the decoder: its kind and, for strings and numbers, its text.
struct Value {
  enum class Kind { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray } kind;
  std::string_view text;  // number text, or string contents when no escapes
  std::string decoded;    // string contents when escapes were present
  bool escaped = false;
  std::string_view str() const { return escaped ? std::string_view(decoded) : text; }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : p_(s.data()), end_(s.data() + s.size()), begin_(s.data()) {}

  void Ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool AtEnd() const { return p_ >= end_; }
  bool Peek(char c) const { return p_ < end_ && *p_ == c; }
  bool Eat(char c) {
    Ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }

  // Reads a string (the opening quote must be next). On success `out` holds it.
  bool String(Value& out) {
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    const char* start = p_;
    // Fast path: no escapes.
    while (p_ < end_) {
      const char c = *p_;
      if (c == '"') {
        out.kind = Value::Kind::kString;
        out.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
        out.escaped = false;
        ++p_;
        return true;
      }
      if (c == '\\') break;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      ++p_;
    }
    if (p_ >= end_) return false;
    out.decoded.assign(start, static_cast<std::size_t>(p_ - start));
    while (p_ < end_) {
      const char c = *p_++;
      if (c == '"') {
        out.kind = Value::Kind::kString;
        out.escaped = true;
        out.text = {};
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.decoded.push_back(c);
        continue;
      }
      if (p_ >= end_) return false;
      const char e = *p_++;
      switch (e) {
        case '"': out.decoded.push_back('"'); break;
        case '\\': out.decoded.push_back('\\'); break;
        case '/': out.decoded.push_back('/'); break;
        case 'b': out.decoded.push_back('\b'); break;
        case 'f': out.decoded.push_back('\f'); break;
        case 'n': out.decoded.push_back('\n'); break;
        case 'r': out.decoded.push_back('\r'); break;
        case 't': out.decoded.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!Hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          AppendUtf8(cp, out.decoded);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // Reads a JSON number (RFC 8259 grammar) and returns its text.
  bool Number(Value& out, bool& is_integer) {
    const char* start = p_;
    is_integer = true;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      is_integer = false;
      ++p_;
      const char* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_integer = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) return false;
    }
    out.kind = Value::Kind::kNumber;
    out.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  bool Literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // Reads a scalar value, or skips (validating) an object/array, recording its kind.
  bool AnyValue(Value& out, int depth) {
    Ws();
    if (p_ >= end_) return false;
    switch (*p_) {
      case '"':
        return String(out);
      case '{':
        out.kind = Value::Kind::kObject;
        return SkipObject(depth + 1);
      case '[':
        out.kind = Value::Kind::kArray;
        return SkipArray(depth + 1);
      case 't':
        out.kind = Value::Kind::kTrue;
        return Literal("true");
      case 'f':
        out.kind = Value::Kind::kFalse;
        return Literal("false");
      case 'n':
        out.kind = Value::Kind::kNull;
        return Literal("null");
      default: {
        bool integer = false;
        return Number(out, integer);
      }
    }
  }

  bool SkipObject(int depth) {
    if (depth > kMaxDepth || !Eat('{')) return false;
    if (Eat('}')) return true;
    Value scratch;
    while (true) {
      Ws();
      if (!String(scratch) || !Eat(':') || !AnyValue(scratch, depth)) return false;
      if (Eat(',')) continue;
      return Eat('}');
    }
  }

  bool SkipArray(int depth) {
    if (depth > kMaxDepth || !Eat('[')) return false;
    if (Eat(']')) return true;
    Value scratch;
    while (true) {
      if (!AnyValue(scratch, depth)) return false;
      if (Eat(',')) continue;
      return Eat(']');
    }
  }

 private:
  bool Hex4(std::uint32_t& cp) {
    if (end_ - p_ < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      cp <<= 4;
      if (c >= '0' && c <= '9') {
        cp |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  static void AppendUtf8(std::uint32_t cp, std::string& s) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  const char* p_;
  const char* end_;
  const char* begin_;
};

// The first problem found in one reading; the reading is still parsed to its end so the
// rest of a batch can be decoded.
struct Problem {
  bool set = false;
  std::string reason;
  std::string field;
  std::string message;
  void Set(std::string_view r, std::string f, std::string m) {
    if (set) return;
    set = true;
    reason = r;
    field = std::move(f);
    message = std::move(m);
  }
};

// Epoch milliseconds, 0 < ms < 2^53.
bool EpochMs(std::string_view digits, Timestamp& out) {
  std::int64_t ms = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  if (ms <= 0 || ms >= kMaxEpochMs) return false;
  out = Timestamp{ms * 1000};
  return true;
}

Result<Timestamp> Rfc3339(std::string_view s, std::string_view field) {
  // core::ParseTimestamp also reads a bare date as Shanghai midnight; a reading needs an
  // instant with an explicit zone.
  if (s.size() < 20) {
    return Status::InvalidArgument(
        "expected RFC 3339 with a zone (2026-11-29T08:00:00.250Z) or epoch milliseconds, got '" +
            std::string(s.substr(0, 40)) + "'",
        std::string(field));
  }
  return core::ParseTimestamp(s, field);
}

// Member keys of a reading (single message or batch element).
enum class Key { kP, kT, kV, kU, kOther };
Key KeyOf(std::string_view k) {
  if (k.size() != 1) return Key::kOther;
  switch (k[0]) {
    case 'p': return Key::kP;
    case 't': return Key::kT;
    case 'v': return Key::kV;
    case 'u': return Key::kU;
    default: return Key::kOther;
  }
}

std::string Shorten(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  }
  return out;
}

// Parses one reading object (`{` next). `with_point` is true in a batch, where element
// `index` is named "readings[index]" and "p" is expected. Returns false on
// a JSON syntax error (the message is then rejected as a whole); otherwise a semantic
// problem, if any, is in `problem` and `r` is complete when there is none.
// The field name of a reading member: "v" or "readings[3].v" (built only on errors).
std::string ReadingField(std::size_t index, bool in_batch, std::string_view name) {
  if (!in_batch) return std::string(name);
  std::string f = "readings[" + std::to_string(index) + "]";
  if (!name.empty()) f.append(".").append(name);
  return f;
}

bool ParseReading(Parser& ps, std::size_t index, bool with_point, RawReading& r,
                  Problem& problem, Value& key, Value& val) {
  if (!ps.Eat('{')) return false;
  bool seen_p = false, seen_t = false, seen_v = false, seen_u = false;
  auto field = [&](std::string_view name) { return ReadingField(index, with_point, name); };
  if (!ps.Eat('}')) {
    while (true) {
      ps.Ws();
      if (!ps.String(key)) return false;
      if (!ps.Eat(':')) return false;
      const std::string_view k = key.str();
      const Key which = KeyOf(k);
      ps.Ws();
      if (!ps.AnyValue(val, 0)) return false;
      bool* seen = nullptr;
      switch (which) {
        case Key::kP: seen = with_point ? &seen_p : nullptr; break;
        case Key::kT: seen = &seen_t; break;
        case Key::kV: seen = &seen_v; break;
        case Key::kU: seen = &seen_u; break;
        case Key::kOther: break;
      }
      if (seen == nullptr) {
        problem.Set("bad_field", field(Shorten(k)), "unknown member '" + Shorten(k) + "'");
      } else if (*seen) {
        problem.Set("bad_field", field(k), "duplicate member");
      } else if (!problem.set) {
        *seen = true;
        switch (which) {
          case Key::kP: {
            if (val.kind != Value::Kind::kString) {
              problem.Set("bad_field", field("p"), "point must be a string");
            } else if (!IsValidId(val.str())) {
              problem.Set("bad_field", field("p"),
                          "point id must be 1-64 of [A-Za-z0-9._-], got '" +
                              Shorten(val.str()) + "'");
            } else {
              r.point.assign(val.str());
            }
            break;
          }
          case Key::kT: {
            if (val.kind == Value::Kind::kNumber) {
              if (!EpochMs(val.text, r.time)) {
                problem.Set("bad_time", field("t"),
                            "epoch milliseconds must be an integer in (0, 2^53), got " +
                                Shorten(val.text));
              }
            } else if (val.kind == Value::Kind::kString) {
              auto t = Rfc3339(val.str(), field("t"));
              if (t) {
                r.time = *t;
              } else {
                problem.Set("bad_time", field("t"), t.error().message());
              }
            } else {
              problem.Set("bad_time", field("t"),
                          "time must be epoch milliseconds or an RFC 3339 string");
            }
            break;
          }
          case Key::kV: {
            if (val.kind != Value::Kind::kNumber) {
              problem.Set("bad_value", field("v"), "value must be a number");
            } else {
              double d = 0;
              auto [ptr, ec] =
                  std::from_chars(val.text.data(), val.text.data() + val.text.size(), d);
              if (ec != std::errc() || ptr != val.text.data() + val.text.size() ||
                  !std::isfinite(d)) {
                problem.Set("bad_value", field("v"),
                            "value out of range: " + Shorten(val.text));
              } else {
                r.value = d;
              }
            }
            break;
          }
          case Key::kU: {
            if (val.kind != Value::Kind::kString) {
              problem.Set("bad_field", field("u"), "unit must be a string");
            } else {
              const std::string_view u = val.str();
              bool ok = u.size() <= kMaxUnitBytes && core::IsValidUtf8(u);
              for (char c : u) {
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ok = false;
              }
              if (!ok) {
                problem.Set("bad_field", field("u"),
                            "unit must be valid UTF-8 text of at most 16 bytes");
              } else {
                r.unit.assign(u);
              }
            }
            break;
          }
          case Key::kOther:
            break;
        }
      }
      if (ps.Eat(',')) continue;
      if (ps.Eat('}')) break;
      return false;
    }
  }
  if (!problem.set) {
    if (with_point && !seen_p) {
      problem.Set("bad_field", field("p"), "missing member 'p'");
    } else if (!seen_t) {
      problem.Set("bad_time", field("t"), "missing member 't'");
    } else if (!seen_v) {
      problem.Set("bad_value", field("v"), "missing member 'v'");
    }
  }
  return true;
}

void RejectMessage(Decoded& out, std::size_t readings_before, std::size_t rejected_before,
                   std::string reason, std::string field, std::string message) {
  out.readings.resize(readings_before);
  out.rejected.resize(rejected_before);
  out.rejected.push_back(Rejection{std::move(reason), std::move(field), std::move(message)});
}

std::string SyntaxMessage(const Parser& ps) {
  return "malformed JSON near byte " + std::to_string(ps.offset());
}

void DecodeSingle(const TopicInfo& topic, std::string_view payload, Decoded& out) {
  const std::size_t r0 = out.readings.size(), j0 = out.rejected.size();
  Parser ps(payload);
  ps.Ws();
  if (!ps.Peek('{')) {
    RejectMessage(out, r0, j0, "bad_json", "payload", "payload must be a JSON object");
    return;
  }
  RawReading r;
  Problem problem;
  Value key, val;
  if (!ParseReading(ps, 0, /*with_point=*/false, r, problem, key, val)) {
    RejectMessage(out, r0, j0, "bad_json", "payload", SyntaxMessage(ps));
    return;
  }
  ps.Ws();
  if (!ps.AtEnd()) {
    RejectMessage(out, r0, j0, "bad_json", "payload", "trailing characters after the object");
    return;
  }
  if (problem.set) {
    out.rejected.push_back(
        Rejection{std::move(problem.reason), std::move(problem.field), std::move(problem.message)});
    return;
  }
  r.point = topic.point;
  out.readings.push_back(std::move(r));
}

void DecodeBatch(std::string_view payload, Decoded& out) {
  const std::size_t r0 = out.readings.size(), j0 = out.rejected.size();
  Parser ps(payload);
  auto syntax = [&] { RejectMessage(out, r0, j0, "bad_json", "payload", SyntaxMessage(ps)); };
  if (!ps.Eat('{')) {
    ps.Ws();
    if (ps.AtEnd() || !ps.Peek('[')) {
      RejectMessage(out, r0, j0, "bad_json", "payload", "payload must be a JSON object");
    } else {
      RejectMessage(out, r0, j0, "bad_json", "payload",
                    "payload must be an object {\"readings\": [...]}");
    }
    return;
  }
  bool seen_readings = false;
  bool top_problem = false;  // a member name may be "" itself
  std::string top_problem_field, top_problem_msg;
  Value key, val;
  if (!ps.Eat('}')) {
    while (true) {
      ps.Ws();
      if (!ps.String(key) || !ps.Eat(':')) return syntax();
      const std::string_view k = key.str();
      if (k != "readings" || seen_readings) {
        if (!top_problem) {
          top_problem = true;
          top_problem_field = k.empty() ? std::string("\"\"") : Shorten(k);
          top_problem_msg =
              seen_readings && k == "readings" ? "duplicate member" : "unknown member '" + Shorten(k) + "'";
        }
        if (!ps.AnyValue(val, 0)) return syntax();
      } else {
        seen_readings = true;
        ps.Ws();
        if (!ps.Peek('[')) {
          if (!ps.AnyValue(val, 0)) return syntax();
          if (!top_problem) {
            top_problem = true;
            top_problem_field = "readings";
            top_problem_msg = "readings must be an array";
          }
        } else {
          ps.Eat('[');
          if (!ps.Eat(']')) {
            std::size_t i = 0;
            while (true) {
              if (i >= kMaxBatchReadings) {
                RejectMessage(out, r0, j0, "too_large", "readings",
                              "more than " + std::to_string(kMaxBatchReadings) +
                                  " readings in one batch");
                return;
              }
              ps.Ws();
              if (ps.Peek('{')) {
                RawReading r;
                Problem problem;
                if (!ParseReading(ps, i, /*with_point=*/true, r, problem, key, val)) {
                  return syntax();
                }
                if (problem.set) {
                  out.rejected.push_back(Rejection{std::move(problem.reason),
                                                   std::move(problem.field),
                                                   std::move(problem.message)});
                } else {
                  out.readings.push_back(std::move(r));
                }
              } else {
                if (!ps.AnyValue(val, 0)) return syntax();
                out.rejected.push_back(Rejection{"bad_field", ReadingField(i, true, ""),
                                                 "a reading must be an object"});
              }
              ++i;
              if (ps.Eat(',')) continue;
              if (ps.Eat(']')) break;
              return syntax();
            }
          }
        }
      }
      if (ps.Eat(',')) continue;
      if (ps.Eat('}')) break;
      return syntax();
    }
  }
  ps.Ws();
  if (!ps.AtEnd()) {
    RejectMessage(out, r0, j0, "bad_json", "payload", "trailing characters after the object");
    return;
  }
  if (top_problem) {
    RejectMessage(out, r0, j0, "bad_field", top_problem_field, top_problem_msg);
    return;
  }
  if (!seen_readings) {
    RejectMessage(out, r0, j0, "bad_field", "readings", "missing member 'readings'");
  }
}

}  // namespace

core::Result<TopicInfo> ParseTopic(std::string_view topic) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(why) + ": '" + Shorten(topic) +
                                       "' (expected wg/v1/<org>/<site>/points/<point> or "
                                       "wg/v1/<org>/<site>/batch)",
                                   "topic");
  };
  constexpr std::string_view kPrefix = "wg/v1/";
  if (topic.substr(0, kPrefix.size()) != kPrefix) return bad("unknown topic");
  std::string_view rest = topic.substr(kPrefix.size());
  std::string_view parts[5];
  std::size_t n = 0;
  while (true) {
    const std::size_t slash = rest.find('/');
    if (n == 4) {
      if (slash != std::string_view::npos) return bad("too many levels");
      parts[n++] = rest;
      break;
    }
    parts[n++] = rest.substr(0, slash);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  TopicInfo info;
  if (n == 3 && parts[2] == "batch") {
    info.kind = TopicInfo::Kind::kBatch;
  } else if (n == 4 && parts[2] == "points") {
    info.kind = TopicInfo::Kind::kSingle;
    if (!IsValidId(parts[3])) return bad("bad point id");
    info.point.assign(parts[3]);
  } else {
    return bad("unknown topic");
  }
  if (!IsValidId(parts[0])) return bad("bad organization id");
  if (!IsValidId(parts[1])) return bad("bad site id");
  info.org.assign(parts[0]);
  info.site.assign(parts[1]);
  return info;
}

std::string ReadingTopic(std::string_view org, std::string_view site, std::string_view point) {
  std::string t = "wg/v1/";
  t.append(org).append("/").append(site).append("/points/").append(point);
  return t;
}

std::string BatchTopic(std::string_view org, std::string_view site) {
  std::string t = "wg/v1/";
  t.append(org).append("/").append(site).append("/batch");
  return t;
}

std::string CommandTopic(std::string_view org, std::string_view site, std::string_view zone,
                         std::string_view command) {
  std::string t = "wg/v1/";
  t.append(org).append("/").append(site).append("/actuators/").append(zone).append("/").append(
      command);
  return t;
}

void DecodePayload(const TopicInfo& topic, std::string_view payload, Decoded& out) {
  if (payload.size() > kMaxPayloadBytes) {
    out.rejected.push_back(Rejection{"too_large", "payload",
                                     "payload of " + std::to_string(payload.size()) +
                                         " bytes exceeds " + std::to_string(kMaxPayloadBytes)});
    return;
  }
  if (topic.kind == TopicInfo::Kind::kSingle) {
    DecodeSingle(topic, payload, out);
  } else {
    DecodeBatch(payload, out);
  }
}

void DecodeMessage(std::string_view topic, std::string_view payload, Decoded& out) {
  auto info = ParseTopic(topic);
  if (!info) {
    out.rejected.push_back(Rejection{"bad_topic", "topic", info.error().message()});
    return;
  }
  DecodePayload(*info, payload, out);
}

core::Result<core::Timestamp> ParseReadingTime(std::string_view text_or_number,
                                               std::string_view field) {
  const std::string_view s = text_or_number;
  bool all_digits = !s.empty();
  for (char c : s) {
    if (c < '0' || c > '9') all_digits = false;
  }
  if (all_digits) {
    Timestamp t;
    if (s.size() > 1 && s[0] == '0') {
      return Status::InvalidArgument("epoch milliseconds must not have leading zeros",
                                     std::string(field));
    }
    if (!EpochMs(s, t)) {
      return Status::InvalidArgument(
          "epoch milliseconds must be an integer in (0, 2^53), got " + Shorten(s),
          std::string(field));
    }
    return t;
  }
  return Rfc3339(s, field);
}

}  // namespace wg::ingest

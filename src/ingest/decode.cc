// Sensor payload decoding: a small strict JSON reader for exactly the message shapes of
// docs/formats/mqtt-topics.md (readings and tag positions, single and batched). Hand-written because it runs once per reading on the
// ingest hot path (a 100-reading batch decodes in a few microseconds; a generic DOM
// parser allocates per member and is an order of magnitude slower).

#include "wg/ingest/decode.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

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

std::string Shorten(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  }
  return out;
}

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

// Reads a time member ("t" of a reading or a position): integer epoch milliseconds or an
// RFC 3339 string with a zone. `field()` names it (called only on errors and for strings).
template <typename FieldFn>
void ReadTime(const Value& val, FieldFn&& field, Timestamp& out, Problem& problem) {
  if (val.kind == Value::Kind::kNumber) {
    if (!EpochMs(val.text, out)) {
      problem.Set("bad_time", field(),
                  "epoch milliseconds must be an integer in (0, 2^53), got " + Shorten(val.text));
    }
  } else if (val.kind == Value::Kind::kString) {
    std::string f = field();
    auto t = Rfc3339(val.str(), f);
    if (t) {
      out = *t;
    } else {
      problem.Set("bad_time", std::move(f), t.error().message());
    }
  } else {
    problem.Set("bad_time", field(), "time must be epoch milliseconds or an RFC 3339 string");
  }
}

// A JSON number that is a finite double; false when `val` is not a number.
// `out_of_range` tells the two failures apart.
bool FiniteNumber(const Value& val, double& out, bool& out_of_range) {
  out_of_range = false;
  if (val.kind != Value::Kind::kNumber) return false;
  double d = 0;
  auto [ptr, ec] = std::from_chars(val.text.data(), val.text.data() + val.text.size(), d);
  if (ec != std::errc() || ptr != val.text.data() + val.text.size() || !std::isfinite(d)) {
    out_of_range = true;
    return false;
  }
  out = d;
  return true;
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

// The field name of an element member: "v" or "readings[3].v" (built only on errors).
std::string ElementField(std::string_view array, std::size_t index, bool in_batch,
                         std::string_view name) {
  if (!in_batch) return std::string(name);
  std::string f(array);
  f.append("[").append(std::to_string(index)).append("]");
  if (!name.empty()) f.append(".").append(name);
  return f;
}

std::string ReadingField(std::size_t index, bool in_batch, std::string_view name) {
  return ElementField("readings", index, in_batch, name);
}

// Parses one reading object (`{` next). `with_point` is true in a batch, where element
// `index` is named "readings[index]" and "p" is expected. Returns false on
// a JSON syntax error (the message is then rejected as a whole); otherwise a semantic
// problem, if any, is in `problem` and `r` is complete when there is none.

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
          case Key::kT:
            ReadTime(val, [&] { return field("t"); }, r.time, problem);
            break;
          case Key::kV: {
            bool out_of_range = false;
            if (!FiniteNumber(val, r.value, out_of_range)) {
              problem.Set("bad_value", field("v"),
                          out_of_range ? "value out of range: " + Shorten(val.text)
                                       : std::string("value must be a number"));
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

// Rolls back what one message appended and adds one rejection for the message as a whole.
template <typename Item>
void RejectWhole(std::vector<Item>& items, std::vector<Rejection>& rejected,
                 std::size_t items_before, std::size_t rejected_before, std::string reason,
                 std::string field, std::string message) {
  items.resize(items_before);
  rejected.resize(rejected_before);
  rejected.push_back(Rejection{std::move(reason), std::move(field), std::move(message)});
}

std::string SyntaxMessage(const Parser& ps) {
  return "malformed JSON near byte " + std::to_string(ps.offset());
}

// Rejects a payload over kMaxPayloadBytes ("too_large", "payload"); true when it did.
bool TooLarge(std::string_view payload, std::vector<Rejection>& rejected) {
  if (payload.size() <= kMaxPayloadBytes) return false;
  rejected.push_back(Rejection{"too_large", "payload",
                               "payload of " + std::to_string(payload.size()) +
                                   " bytes exceeds " + std::to_string(kMaxPayloadBytes)});
  return true;
}

// A message that is one object: `parse(ps, item, problem, key, val)` reads it into `item`
// (which arrives with what the topic says, e.g. the point or tag) and returns false on a
// JSON syntax error. Appends one item or one rejection.
template <typename Item, typename ParseObject>
void DecodeObjectMessage(std::string_view payload, Item item, std::vector<Item>& items,
                         std::vector<Rejection>& rejected, ParseObject&& parse) {
  const std::size_t r0 = items.size(), j0 = rejected.size();
  auto reject = [&](std::string message) {
    RejectWhole(items, rejected, r0, j0, "bad_json", "payload", std::move(message));
  };
  Parser ps(payload);
  ps.Ws();
  if (!ps.Peek('{')) return reject("payload must be a JSON object");
  Problem problem;
  Value key, val;
  if (!parse(ps, item, problem, key, val)) return reject(SyntaxMessage(ps));
  ps.Ws();
  if (!ps.AtEnd()) return reject("trailing characters after the object");
  if (problem.set) {
    rejected.push_back(
        Rejection{std::move(problem.reason), std::move(problem.field), std::move(problem.message)});
    return;
  }
  items.push_back(std::move(item));
}

// A batch message {"<member>": [<object>, ...]}: `parse(ps, index, item, problem, key,
// val)` reads element `index` (false on a JSON syntax error). Each good element is
// appended to `items`, each bad one adds a rejection naming it ("readings[3].v"); a
// problem with the message as a whole (syntax, shape, unknown member, more than
// `max_items` elements) rolls back what it appended and adds one rejection.
template <typename Item, typename ParseElement>
void DecodeArrayMessage(std::string_view payload, std::string_view member,
                        std::size_t max_items, std::string_view noun, std::vector<Item>& items,
                        std::vector<Rejection>& rejected, ParseElement&& parse) {
  const std::size_t r0 = items.size(), j0 = rejected.size();
  Parser ps(payload);
  auto reject = [&](std::string reason, std::string field, std::string message) {
    RejectWhole(items, rejected, r0, j0, std::move(reason), std::move(field), std::move(message));
  };
  auto syntax = [&] { reject("bad_json", "payload", SyntaxMessage(ps)); };
  if (!ps.Eat('{')) {
    ps.Ws();
    if (ps.AtEnd() || !ps.Peek('[')) {
      reject("bad_json", "payload", "payload must be a JSON object");
    } else {
      reject("bad_json", "payload",
             "payload must be an object {\"" + std::string(member) + "\": [...]}");
    }
    return;
  }
  bool seen_member = false;
  bool top_problem = false;  // a member name may be "" itself
  std::string top_problem_field, top_problem_msg;
  Value key, val;
  if (!ps.Eat('}')) {
    while (true) {
      ps.Ws();
      if (!ps.String(key) || !ps.Eat(':')) return syntax();
      const std::string_view k = key.str();
      if (k != member || seen_member) {
        if (!top_problem) {
          top_problem = true;
          top_problem_field = k.empty() ? std::string("\"\"") : Shorten(k);
          top_problem_msg = seen_member && k == member ? "duplicate member"
                                                       : "unknown member '" + Shorten(k) + "'";
        }
        if (!ps.AnyValue(val, 0)) return syntax();
      } else {
        seen_member = true;
        ps.Ws();
        if (!ps.Peek('[')) {
          if (!ps.AnyValue(val, 0)) return syntax();
          if (!top_problem) {
            top_problem = true;
            top_problem_field = std::string(member);
            top_problem_msg = std::string(member) + " must be an array";
          }
        } else {
          ps.Eat('[');
          if (!ps.Eat(']')) {
            std::size_t i = 0;
            while (true) {
              if (i >= max_items) {
                reject("too_large", std::string(member),
                       "more than " + std::to_string(max_items) + " " + std::string(member) +
                           " in one batch");
                return;
              }
              ps.Ws();
              if (ps.Peek('{')) {
                Item item;
                Problem problem;
                if (!parse(ps, i, item, problem, key, val)) return syntax();
                if (problem.set) {
                  rejected.push_back(Rejection{std::move(problem.reason),
                                               std::move(problem.field),
                                               std::move(problem.message)});
                } else {
                  items.push_back(std::move(item));
                }
              } else {
                if (!ps.AnyValue(val, 0)) return syntax();
                rejected.push_back(Rejection{"bad_field", ElementField(member, i, true, ""),
                                             "a " + std::string(noun) + " must be an object"});
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
    reject("bad_json", "payload", "trailing characters after the object");
    return;
  }
  if (top_problem) {
    reject("bad_field", top_problem_field, top_problem_msg);
    return;
  }
  if (!seen_member) {
    reject("bad_field", std::string(member), "missing member '" + std::string(member) + "'");
  }
}

void DecodeSingle(const TopicInfo& topic, std::string_view payload, Decoded& out) {
  RawReading proto;
  proto.point = topic.point;
  DecodeObjectMessage(payload, std::move(proto), out.readings, out.rejected,
                      [](Parser& ps, RawReading& r, Problem& problem, Value& key, Value& val) {
                        return ParseReading(ps, 0, /*with_point=*/false, r, problem, key, val);
                      });
}

void DecodeBatch(std::string_view payload, Decoded& out) {
  DecodeArrayMessage(payload, "readings", kMaxBatchReadings, "reading", out.readings,
                     out.rejected,
                     [](Parser& ps, std::size_t i, RawReading& r, Problem& problem, Value& key,
                        Value& val) {
                       return ParseReading(ps, i, /*with_point=*/true, r, problem, key, val);
                     });
}

// --- positions ----------------------------------------------------------------------------

constexpr double kMaxAccuracyM = 10000;

// Member keys of a position fix (single message or batch element).
enum class FixKey : std::uint8_t { kTag, kT, kX, kY, kZ, kLat, kLon, kAlt, kAcc, kOther };
FixKey FixKeyOf(std::string_view k) {
  if (k == "t") return FixKey::kT;
  if (k == "x") return FixKey::kX;
  if (k == "y") return FixKey::kY;
  if (k == "z") return FixKey::kZ;
  if (k == "lat") return FixKey::kLat;
  if (k == "lon") return FixKey::kLon;
  if (k == "alt") return FixKey::kAlt;
  if (k == "acc") return FixKey::kAcc;
  if (k == "tag") return FixKey::kTag;
  return FixKey::kOther;
}

// Which frame a coordinate member belongs to (none for t, tag, acc).
enum class FixFrame : std::uint8_t { kNone, kLocal, kWgs84 };
FixFrame FrameOf(FixKey k) {
  switch (k) {
    case FixKey::kX:
    case FixKey::kY:
    case FixKey::kZ:
      return FixFrame::kLocal;
    case FixKey::kLat:
    case FixKey::kLon:
    case FixKey::kAlt:
      return FixFrame::kWgs84;
    default:
      return FixFrame::kNone;
  }
}

std::string PositionField(std::size_t index, bool in_batch, std::string_view name) {
  return ElementField("positions", index, in_batch, name);
}

// Parses one fix object (`{` next), like ParseReading: `in_batch` names members
// "positions[index].lat" and expects "tag"; false on a JSON syntax error, otherwise the
// first semantic problem, if any, is in `problem` and `f` is complete when there is none.
bool ParseFix(Parser& ps, std::size_t index, bool in_batch, presence::PositionFix& f,
              Problem& problem, Value& key, Value& val) {
  if (!ps.Eat('{')) return false;
  std::uint32_t seen = 0;
  FixFrame frame = FixFrame::kNone;
  auto field = [&](std::string_view name) { return PositionField(index, in_batch, name); };
  auto has = [&](FixKey k) { return (seen & (1u << static_cast<unsigned>(k))) != 0; };
  if (!ps.Eat('}')) {
    while (true) {
      ps.Ws();
      if (!ps.String(key)) return false;
      if (!ps.Eat(':')) return false;
      const std::string_view k = key.str();
      FixKey which = FixKeyOf(k);
      if (which == FixKey::kTag && !in_batch) which = FixKey::kOther;  // the topic's
      ps.Ws();
      if (!ps.AnyValue(val, 0)) return false;
      if (which == FixKey::kOther) {
        const std::string name = k.empty() ? std::string("\"\"") : Shorten(k);
        problem.Set("bad_field", field(name), "unknown member '" + Shorten(k) + "'");
      } else if (has(which)) {
        problem.Set("bad_field", field(k), "duplicate member");
      } else {
        seen |= 1u << static_cast<unsigned>(which);
        const FixFrame member_frame = FrameOf(which);
        if (member_frame != FixFrame::kNone) {
          if (frame != FixFrame::kNone && frame != member_frame) {
            problem.Set("bad_field", field(k),
                        "mixes UWB (x, y, z) and GPS (lat, lon, alt) members");
          }
          frame = member_frame;
        }
        if (!problem.set) {
          double d = 0;
          bool out_of_range = false;
          auto number = [&](std::string_view name) {
            if (FiniteNumber(val, d, out_of_range)) return true;
            problem.Set("bad_value", field(name),
                        out_of_range ? "number out of range: " + Shorten(val.text)
                                     : "'" + std::string(name) + "' must be a number");
            return false;
          };
          switch (which) {
            case FixKey::kTag:
              if (val.kind != Value::Kind::kString) {
                problem.Set("bad_field", field("tag"), "tag must be a string");
              } else if (!IsValidId(val.str())) {
                problem.Set("bad_field", field("tag"),
                            "tag id must be 1-64 of [A-Za-z0-9._-], got '" +
                                Shorten(val.str()) + "'");
              } else {
                f.tag.assign(val.str());
              }
              break;
            case FixKey::kT:
              ReadTime(val, [&] { return field("t"); }, f.time, problem);
              break;
            case FixKey::kX:
              if (number("x")) f.x = d;
              break;
            case FixKey::kY:
              if (number("y")) f.y = d;
              break;
            case FixKey::kZ:
              if (number("z")) f.z = d;
              break;
            case FixKey::kAlt:
              if (number("alt")) f.z = d;
              break;
            case FixKey::kLat:
              if (!number("lat")) break;
              if (!(d >= -90 && d <= 90)) {
                problem.Set("bad_value", field("lat"),
                            "latitude must be within [-90, 90] degrees, got " + Shorten(val.text));
              } else {
                f.x = d;
              }
              break;
            case FixKey::kLon:
              if (!number("lon")) break;
              if (!(d >= -180 && d <= 180)) {
                problem.Set("bad_value", field("lon"),
                            "longitude must be within [-180, 180] degrees, got " +
                                Shorten(val.text));
              } else {
                f.y = d;
              }
              break;
            case FixKey::kAcc:
              if (!number("acc")) break;
              if (!(d > 0 && d <= kMaxAccuracyM)) {
                problem.Set("bad_value", field("acc"),
                            "accuracy must be > 0 and <= 10000 metres, got " + Shorten(val.text));
              } else {
                f.accuracy_m = d;
              }
              break;
            case FixKey::kOther:
              break;
          }
        }
      }
      if (ps.Eat(',')) continue;
      if (ps.Eat('}')) break;
      return false;
    }
  }
  if (!problem.set) {
    if (in_batch && !has(FixKey::kTag)) {
      problem.Set("bad_field", field("tag"), "missing member 'tag'");
    } else if (!has(FixKey::kT)) {
      problem.Set("bad_time", field("t"), "missing member 't'");
    } else if (frame == FixFrame::kNone) {
      problem.Set("bad_value", field("x"),
                  "missing position: \"x\", \"y\" (UWB metres) or \"lat\", \"lon\" (GPS degrees)");
    } else if (frame == FixFrame::kLocal && !has(FixKey::kX)) {
      problem.Set("bad_value", field("x"), "missing member 'x'");
    } else if (frame == FixFrame::kLocal && !has(FixKey::kY)) {
      problem.Set("bad_value", field("y"), "missing member 'y'");
    } else if (frame == FixFrame::kWgs84 && !has(FixKey::kLat)) {
      problem.Set("bad_value", field("lat"), "missing member 'lat'");
    } else if (frame == FixFrame::kWgs84 && !has(FixKey::kLon)) {
      problem.Set("bad_value", field("lon"), "missing member 'lon'");
    }
  }
  f.frame = frame == FixFrame::kWgs84 ? presence::PositionFix::Frame::kWgs84
                                      : presence::PositionFix::Frame::kLocal;
  return true;
}

void DecodeFixBatch(std::string_view payload, DecodedPositions& out) {
  DecodeArrayMessage(payload, "positions", kMaxBatchPositions, "position", out.fixes,
                     out.rejected,
                     [](Parser& ps, std::size_t i, presence::PositionFix& f, Problem& problem,
                        Value& key, Value& val) {
                       return ParseFix(ps, i, /*in_batch=*/true, f, problem, key, val);
                     });
}

}  // namespace

core::Result<TopicInfo> ParseTopic(std::string_view topic) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(why) + ": '" + Shorten(topic) +
                                       "' (expected wg/v1/<org>/<site>/points/<point>, "
                                       "wg/v1/<org>/<site>/batch, "
                                       "wg/v1/<org>/<site>/tags/<tag>/position or "
                                       "wg/v1/<org>/<site>/positions)",
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
  } else if (n == 3 && parts[2] == "positions") {
    info.kind = TopicInfo::Kind::kPositionBatch;
  } else if (n == 5 && parts[2] == "tags" && parts[4] == "position") {
    info.kind = TopicInfo::Kind::kPosition;
    if (!IsValidId(parts[3])) return bad("bad tag id");
    info.tag.assign(parts[3]);
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

std::string PositionTopic(std::string_view org, std::string_view site, std::string_view tag) {
  std::string t = "wg/v1/";
  t.append(org).append("/").append(site).append("/tags/").append(tag).append("/position");
  return t;
}

std::string PositionBatchTopic(std::string_view org, std::string_view site) {
  std::string t = "wg/v1/";
  t.append(org).append("/").append(site).append("/positions");
  return t;
}

std::string CommandTopic(std::string_view org, std::string_view site, std::string_view zone,
                         std::string_view command) {
  std::string t = "wg/v1/";
  t.append(org).append("/").append(site).append("/actuators/").append(zone).append("/").append(
      command);
  return t;
}

// A position topic is not a reading topic: it adds one {"bad_topic", "topic"} rejection
// (and so does DecodeMessage). Callers dispatch on TopicInfo::is_position() and give
// position messages to DecodePositions.
void DecodePayload(const TopicInfo& topic, std::string_view payload, Decoded& out) {
  if (topic.is_position()) {
    out.rejected.push_back(
        Rejection{"bad_topic", "topic", "position topic: use DecodePositions"});
    return;
  }
  if (TooLarge(payload, out.rejected)) return;
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

void DecodePositions(const TopicInfo& topic, std::string_view payload, DecodedPositions& out) {
  if (!topic.is_position()) {
    out.rejected.push_back(
        Rejection{"bad_topic", "topic", "not a position topic: use DecodePayload"});
    return;
  }
  if (TooLarge(payload, out.rejected)) return;
  if (topic.kind == TopicInfo::Kind::kPositionBatch) {
    DecodeFixBatch(payload, out);
    return;
  }
  presence::PositionFix proto;
  proto.tag = topic.tag;
  DecodeObjectMessage(
      payload, std::move(proto), out.fixes, out.rejected,
      [](Parser& ps, presence::PositionFix& f, Problem& problem, Value& key, Value& val) {
        return ParseFix(ps, 0, /*in_batch=*/false, f, problem, key, val);
      });
}

void DecodePositionBatch(std::string_view payload, DecodedPositions& out) {
  if (TooLarge(payload, out.rejected)) return;
  DecodeFixBatch(payload, out);
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

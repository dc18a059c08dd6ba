#pragma once
// Sensor message decoding (docs/formats/mqtt-topics.md): the MQTT topic scheme and the
// JSON payloads of single and batched readings, also used by the HTTP batch route and
// the CSV replay source. Decoding is strict and never throws: a malformed message or
// reading is reported with the member it is about, and the good readings of a batch are
// still delivered (each bad one is counted by reason).
//
// Topics (QoS 1):
//   wg/v1/<org>/<site>/points/<point>   one reading   {"t": <time>, "v": <number>, "u": "<unit>"}
//   wg/v1/<org>/<site>/batch            many          {"readings": [{"p": "<point>", "t", "v", "u"}, ...]}
//   <time> is integer epoch milliseconds or an RFC 3339 string with a zone
//   ("2026-11-29T08:00:00.250Z"); "u" is optional (when present it must be the point's unit).
// Positions (QoS 0 or 1; docs/formats/mqtt-topics.md#positions):
//   wg/v1/<org>/<site>/tags/<tag>/position  one fix  {"t", "x", "y", "z"?, "acc"?}  (UWB, metres)
//                                                    {"t", "lat", "lon", "alt"?, "acc"?} (GPS)
//   wg/v1/<org>/<site>/positions            many     {"positions": [{"tag", "t", ...}, ...]}
// Commands out (QoS 1, retained):
//   wg/v1/<org>/<site>/actuators/<zone>/power-lock   {"command": "lock"|"unlock", ...}
//   wg/v1/<org>/<site>/actuators/<zone>/broadcast    {"command": "evacuate"|"all_clear", ...}
// Limits: payload <= 256 KiB, <= 10,000 readings a batch, point/site/org ids
// [A-Za-z0-9._-]{1,64}, unit <= 16 bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/presence/model.h"

namespace wg::ingest {

inline constexpr std::size_t kMaxPayloadBytes = 256 * 1024;
inline constexpr std::size_t kMaxBatchReadings = 10000;

struct RawReading {
  std::string point;
  core::Timestamp time;
  double value = 0;  // may be NaN/inf only if the JSON had them (it cannot): checked later
  std::string unit;  // "" when not given
};

// Where a message came from, parsed from the topic.
struct TopicInfo {
  enum class Kind { kSingle, kBatch, kPosition, kPositionBatch } kind = Kind::kSingle;
  std::string org;    // organization code
  std::string site;   // site code
  std::string point;  // kSingle only
  std::string tag;    // kPosition only
  bool is_position() const { return kind == Kind::kPosition || kind == Kind::kPositionBatch; }
};
// kInvalidArgument naming "topic" for anything not in the scheme.
core::Result<TopicInfo> ParseTopic(std::string_view topic);
std::string ReadingTopic(std::string_view org, std::string_view site, std::string_view point);
std::string BatchTopic(std::string_view org, std::string_view site);
std::string PositionTopic(std::string_view org, std::string_view site, std::string_view tag);
std::string PositionBatchTopic(std::string_view org, std::string_view site);
std::string CommandTopic(std::string_view org, std::string_view site, std::string_view zone,
                         std::string_view command);  // "power-lock" / "broadcast"

// A rejected reading or message: `field` names the member ("readings[3].v", "t",
// "payload"), `reason` is a short machine word used as a metrics label: "bad_json",
// "too_large", "bad_field", "bad_time", "bad_value", "bad_topic".
struct Rejection {
  std::string reason;
  std::string field;
  std::string message;
};

struct Decoded {
  std::vector<RawReading> readings;
  std::vector<Rejection> rejected;  // per bad reading, or one for the whole message
};

// Decodes a payload arriving on `topic` (already parsed). Appends to `out` (so one
// Decoded can collect many messages). Never fails as a whole: a message that cannot be
// decoded at all adds one Rejection.
void DecodePayload(const TopicInfo& topic, std::string_view payload, Decoded& out);
// ParseTopic + DecodePayload: a topic outside the scheme adds one Rejection
// {"bad_topic", "topic", ...}.
void DecodeMessage(std::string_view topic, std::string_view payload, Decoded& out);

// Positions. A fix is rejected (with the member) when a member is missing, of the wrong
// type, not finite, mixes frames ("x" with "lat"), or has an accuracy <= 0 or > 10 km;
// range checks against the site frame are the engine's (PositionVerdict).
inline constexpr std::size_t kMaxBatchPositions = 10000;
struct DecodedPositions {
  std::vector<presence::PositionFix> fixes;
  std::vector<Rejection> rejected;
};
// For topic kinds kPosition / kPositionBatch (others add one "bad_topic" rejection).
void DecodePositions(const TopicInfo& topic, std::string_view payload, DecodedPositions& out);
// The HTTP body of POST /api/v1/sites/{site}/positions: {"positions": [...]} as the batch.
void DecodePositionBatch(std::string_view payload, DecodedPositions& out);

// Parses a time member: integer epoch milliseconds (0 < ms < 2^53) or RFC 3339 with a
// zone designator. kInvalidArgument naming `field`.
core::Result<core::Timestamp> ParseReadingTime(std::string_view text_or_number,
                                               std::string_view field);

}  // namespace wg::ingest

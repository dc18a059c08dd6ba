// libFuzzer target: sensor message decoding (src/ingest/include/wg/ingest/decode.h) never
// crashes on any topic / payload, and what it delivers keeps the promises of the header:
//  - ParseTopic accepts exactly the scheme: an accepted topic has valid org/site(/point or
//    /tag) ids and is rebuilt byte for byte by ReadingTopic / BatchTopic / PositionTopic /
//    PositionBatchTopic;
//  - DecodeMessage == ParseTopic + DecodePayload, and a topic outside the scheme, or a
//    position topic, adds exactly one {"bad_topic", "topic"} rejection and no reading;
//  - decoding only appends: what `out` already held is kept;
//  - every delivered reading has a point id [A-Za-z0-9._-]{1,64} (the topic's own for a
//    single reading), a finite value, a unit of at most 16 bytes, and a time from
//    epoch milliseconds in (0, 2^53) or RFC 3339 — not checked here beyond existence;
//  - every rejection has a reason from the documented set;
//  - a single-reading message gives exactly one reading or one rejection; a batch gives
//    at most kMaxBatchReadings outcomes, and none at all only for an empty batch
//    ({"readings": []}, which is well-formed JSON with that one member).
// Positions (DecodePositions / DecodePositionBatch), likewise:
//  - on a reading topic DecodePositions adds exactly one {"bad_topic", "topic"};
//  - every delivered fix has a tag id (the topic's own for a single fix), finite
//    coordinates, |lat| <= 90 and |lon| <= 180 for a GPS fix, an accuracy in (0, 10000]
//    when given; a single-fix message gives one fix or one rejection, a batch at most
//    kMaxBatchPositions outcomes (none only for {"positions": []});
//  - DecodePositionBatch == DecodePositions on a position batch topic.
// Input: topic, then '\n', then payload (no '\n': empty topic, all payload). The payload
// is also decoded as a single reading, a batch of readings, a single fix and a batch of
// fixes on fixed valid topics so that the payload decoders are exercised whatever the
// topic bytes are.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wg/core/json.h"
#include "wg/ingest/decode.h"

namespace {

using wg::ingest::Decoded;
using wg::ingest::DecodedPositions;
using wg::ingest::TopicInfo;
using wg::presence::PositionFix;

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool KnownReason(std::string_view r) {
  return r == "bad_json" || r == "too_large" || r == "bad_field" || r == "bad_time" ||
         r == "bad_value" || r == "bad_topic";
}

// An empty batch: an object whose only member is `member` ("readings" / "positions"), an
// empty array.
bool IsEmptyBatch(std::string_view payload, const char* member = "readings") {
  auto j = wg::core::ParseJson(payload, wg::core::JsonLimits{wg::ingest::kMaxPayloadBytes, 64});
  if (!j || !j->is_object() || j->size() != 1) return false;
  auto it = j->find(member);
  return it != j->end() && it->is_array() && it->empty();
}

Decoded Prefilled() {
  Decoded d;
  d.readings.push_back(wg::ingest::RawReading{"sentinel", wg::core::Timestamp{1}, 1.5, "u"});
  d.rejected.push_back(wg::ingest::Rejection{"bad_json", "sentinel", "m"});
  return d;
}

void CheckPrefix(const Decoded& d) {
  if (d.readings.empty() || d.readings[0].point != "sentinel" || d.readings[0].value != 1.5 ||
      d.readings[0].unit != "u" || d.readings[0].time.micros != 1) {
    std::abort();
  }
  if (d.rejected.empty() || d.rejected[0].field != "sentinel") std::abort();
}

// Checks the outcomes appended after the sentinel entries for `payload` on `topic`.
void CheckOutcome(const TopicInfo& topic, std::string_view payload, const Decoded& d) {
  CheckPrefix(d);
  const std::size_t readings = d.readings.size() - 1;
  const std::size_t rejected = d.rejected.size() - 1;
  for (std::size_t i = 1; i < d.readings.size(); ++i) {
    const auto& r = d.readings[i];
    if (!IsValidId(r.point)) std::abort();
    if (!std::isfinite(r.value)) std::abort();
    if (r.unit.size() > 16) std::abort();
    if (topic.kind == TopicInfo::Kind::kSingle && r.point != topic.point) std::abort();
  }
  for (std::size_t i = 1; i < d.rejected.size(); ++i) {
    const auto& j = d.rejected[i];
    if (!KnownReason(j.reason) || j.reason == "bad_topic") std::abort();
  }
  if (topic.kind == TopicInfo::Kind::kSingle) {
    if (readings + rejected != 1) std::abort();
  } else {
    if (readings + rejected > wg::ingest::kMaxBatchReadings) std::abort();
    if (readings + rejected == 0 && !IsEmptyBatch(payload)) std::abort();
  }
  if (payload.size() > wg::ingest::kMaxPayloadBytes &&
      (readings != 0 || rejected != 1 || d.rejected.back().reason != "too_large")) {
    std::abort();
  }
}

DecodedPositions PrefilledPositions() {
  DecodedPositions d;
  PositionFix f;
  f.tag = "sentinel";
  f.time = wg::core::Timestamp{1};
  f.x = 1.5;
  d.fixes.push_back(f);
  d.rejected.push_back(wg::ingest::Rejection{"bad_json", "sentinel", "m"});
  return d;
}

void CheckPrefix(const DecodedPositions& d) {
  if (d.fixes.empty() || d.fixes[0].tag != "sentinel" || d.fixes[0].x != 1.5 ||
      d.fixes[0].time.micros != 1) {
    std::abort();
  }
  if (d.rejected.empty() || d.rejected[0].field != "sentinel") std::abort();
}

bool SameOutcome(const DecodedPositions& a, const DecodedPositions& b) {
  if (a.fixes.size() != b.fixes.size() || a.rejected.size() != b.rejected.size()) return false;
  auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  for (std::size_t i = 0; i < a.fixes.size(); ++i) {
    const PositionFix& x = a.fixes[i];
    const PositionFix& y = b.fixes[i];
    if (x.tag != y.tag || x.time.micros != y.time.micros || x.frame != y.frame ||
        bits(x.x) != bits(y.x) || bits(x.y) != bits(y.y) || x.z.has_value() != y.z.has_value() ||
        (x.z && bits(*x.z) != bits(*y.z)) ||
        x.accuracy_m.has_value() != y.accuracy_m.has_value() ||
        (x.accuracy_m && bits(*x.accuracy_m) != bits(*y.accuracy_m))) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.rejected.size(); ++i) {
    if (a.rejected[i].reason != b.rejected[i].reason ||
        a.rejected[i].field != b.rejected[i].field) {
      return false;
    }
  }
  return true;
}

// Checks the position outcomes appended after the sentinel entries (`topic` is a position
// topic).
void CheckOutcome(const TopicInfo& topic, std::string_view payload, const DecodedPositions& d) {
  CheckPrefix(d);
  const std::size_t fixes = d.fixes.size() - 1;
  const std::size_t rejected = d.rejected.size() - 1;
  for (std::size_t i = 1; i < d.fixes.size(); ++i) {
    const PositionFix& f = d.fixes[i];
    if (!IsValidId(f.tag)) std::abort();
    if (topic.kind == TopicInfo::Kind::kPosition && f.tag != topic.tag) std::abort();
    if (f.time.micros <= 0) std::abort();
    if (!std::isfinite(f.x) || !std::isfinite(f.y) || (f.z && !std::isfinite(*f.z))) std::abort();
    if (f.frame == PositionFix::Frame::kWgs84 && (std::abs(f.x) > 90 || std::abs(f.y) > 180)) {
      std::abort();
    }
    if (f.accuracy_m && !(*f.accuracy_m > 0 && *f.accuracy_m <= 10000)) std::abort();
  }
  for (std::size_t i = 1; i < d.rejected.size(); ++i) {
    const auto& j = d.rejected[i];
    if (!KnownReason(j.reason) || j.reason == "bad_topic") std::abort();
  }
  if (topic.kind == TopicInfo::Kind::kPosition) {
    if (fixes + rejected != 1) std::abort();
  } else {
    if (fixes + rejected > wg::ingest::kMaxBatchPositions) std::abort();
    if (fixes + rejected == 0 && !IsEmptyBatch(payload, "positions")) std::abort();
  }
  if (payload.size() > wg::ingest::kMaxPayloadBytes &&
      (fixes != 0 || rejected != 1 || d.rejected.back().reason != "too_large")) {
    std::abort();
  }
}

// Exactly one {"bad_topic", "topic"} appended and nothing else.
template <typename D>
void CheckOneBadTopic(const D& d, std::size_t items) {
  CheckPrefix(d);
  if (items != 1 || d.rejected.size() != 2 || d.rejected[1].reason != "bad_topic" ||
      d.rejected[1].field != "topic") {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view topic = nl == std::string_view::npos ? std::string_view() : in.substr(0, nl);
  const std::string_view payload = nl == std::string_view::npos ? in : in.substr(nl + 1);

  // The topic parser and the message decoder.
  auto info = wg::ingest::ParseTopic(topic);
  Decoded via_message = Prefilled();
  wg::ingest::DecodeMessage(topic, payload, via_message);
  if (info) {
    if (!IsValidId(info->org) || !IsValidId(info->site)) std::abort();
    if (info->kind != TopicInfo::Kind::kSingle && !info->point.empty()) std::abort();
    if (info->kind != TopicInfo::Kind::kPosition && !info->tag.empty()) std::abort();
    switch (info->kind) {
      case TopicInfo::Kind::kSingle:
        if (!IsValidId(info->point)) std::abort();
        if (wg::ingest::ReadingTopic(info->org, info->site, info->point) != topic) std::abort();
        break;
      case TopicInfo::Kind::kBatch:
        if (wg::ingest::BatchTopic(info->org, info->site) != topic) std::abort();
        break;
      case TopicInfo::Kind::kPosition:
        if (!IsValidId(info->tag)) std::abort();
        if (wg::ingest::PositionTopic(info->org, info->site, info->tag) != topic) std::abort();
        break;
      case TopicInfo::Kind::kPositionBatch:
        if (wg::ingest::PositionBatchTopic(info->org, info->site) != topic) std::abort();
        break;
    }
    if (info->is_position() != (info->kind == TopicInfo::Kind::kPosition ||
                                info->kind == TopicInfo::Kind::kPositionBatch)) {
      std::abort();
    }
    Decoded via_payload = Prefilled();
    wg::ingest::DecodePayload(*info, payload, via_payload);
    if (via_payload.readings.size() != via_message.readings.size() ||
        via_payload.rejected.size() != via_message.rejected.size()) {
      std::abort();
    }
    for (std::size_t i = 0; i < via_payload.readings.size(); ++i) {
      const auto& a = via_payload.readings[i];
      const auto& b = via_message.readings[i];
      if (a.point != b.point || a.time.micros != b.time.micros || a.unit != b.unit ||
          std::bit_cast<std::uint64_t>(a.value) != std::bit_cast<std::uint64_t>(b.value)) {
        std::abort();
      }
    }
    DecodedPositions positions = PrefilledPositions();
    wg::ingest::DecodePositions(*info, payload, positions);
    if (info->is_position()) {
      CheckOneBadTopic(via_message, via_message.readings.size());
      CheckOutcome(*info, payload, positions);
    } else {
      CheckOutcome(*info, payload, via_message);
      CheckOneBadTopic(positions, positions.fixes.size());
    }
  } else {
    if (info.error().field() != "topic") std::abort();
    CheckPrefix(via_message);
    if (via_message.readings.size() != 1 || via_message.rejected.size() != 2 ||
        via_message.rejected[1].reason != "bad_topic" || via_message.rejected[1].field != "topic") {
      std::abort();
    }
  }

  // The payload on fixed valid topics of both kinds.
  TopicInfo single;
  single.kind = TopicInfo::Kind::kSingle;
  single.org = "org1";
  single.site = "S1";
  single.point = "T-101.LEL";
  TopicInfo batch;
  batch.kind = TopicInfo::Kind::kBatch;
  batch.org = "org1";
  batch.site = "S1";
  for (const TopicInfo* t : {&single, &batch}) {
    Decoded d = Prefilled();
    wg::ingest::DecodePayload(*t, payload, d);
    CheckOutcome(*t, payload, d);
  }

  // The payload as a single fix and as a batch of fixes (MQTT and HTTP).
  TopicInfo fix;
  fix.kind = TopicInfo::Kind::kPosition;
  fix.org = "org1";
  fix.site = "S1";
  fix.tag = "uwb-7";
  TopicInfo fixes;
  fixes.kind = TopicInfo::Kind::kPositionBatch;
  fixes.org = "org1";
  fixes.site = "S1";
  for (const TopicInfo* t : {&fix, &fixes}) {
    DecodedPositions d = PrefilledPositions();
    wg::ingest::DecodePositions(*t, payload, d);
    CheckOutcome(*t, payload, d);
    if (t == &fixes) {
      DecodedPositions http = PrefilledPositions();
      wg::ingest::DecodePositionBatch(payload, http);
      if (!SameOutcome(d, http)) std::abort();
    }
  }
  return 0;
}

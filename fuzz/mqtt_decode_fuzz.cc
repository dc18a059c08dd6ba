// libFuzzer target: sensor message decoding (src/ingest/include/wg/ingest/decode.h) never
// crashes on any topic / payload, and what it delivers keeps the promises of the header:
//  - ParseTopic accepts exactly the scheme: an accepted topic has valid org/site(/point)
//    ids and is rebuilt byte for byte by ReadingTopic / BatchTopic;
//  - DecodeMessage == ParseTopic + DecodePayload, and a topic outside the scheme adds
//    exactly one {"bad_topic", "topic"} rejection and no reading;
//  - decoding only appends: what `out` already held is kept;
//  - every delivered reading has a point id [A-Za-z0-9._-]{1,64} (the topic's own for a
//    single reading), a finite value, a unit of at most 16 bytes, and a time from
//    epoch milliseconds in (0, 2^53) or RFC 3339 — not checked here beyond existence;
//  - every rejection has a reason from the documented set;
//  - a single-reading message gives exactly one reading or one rejection; a batch gives
//    at most kMaxBatchReadings outcomes, and none at all only for an empty batch
//    ({"readings": []}, which is well-formed JSON with that one member).
// Input: topic, then '\n', then payload (no '\n': empty topic, all payload). The payload
// is also decoded as a single reading and as a batch of fixed valid topics so that the
// payload decoder is exercised whatever the topic bytes are.
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
using wg::ingest::TopicInfo;

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

// An empty batch: an object whose only member is "readings", an empty array.
bool IsEmptyBatch(std::string_view payload) {
  auto j = wg::core::ParseJson(payload, wg::core::JsonLimits{wg::ingest::kMaxPayloadBytes, 64});
  if (!j || !j->is_object() || j->size() != 1) return false;
  auto it = j->find("readings");
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
    if (info->kind == TopicInfo::Kind::kSingle) {
      if (!IsValidId(info->point)) std::abort();
      if (wg::ingest::ReadingTopic(info->org, info->site, info->point) != topic) std::abort();
    } else {
      if (!info->point.empty()) std::abort();
      if (wg::ingest::BatchTopic(info->org, info->site) != topic) std::abort();
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
    CheckOutcome(*info, payload, via_message);
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
  return 0;
}

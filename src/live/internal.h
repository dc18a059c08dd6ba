#pragma once
// Internals of wg_live shared between service.cc, presence_service.cc and notifier.cc
// (not installed).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/evidence/evidence.h"
#include "wg/permit/model.h"
#include "wg/store/store.h"

namespace wg::live::internal {

// Monotonic nanoseconds (std::chrono::steady_clock), comparable across threads of one
// process: what the benchmarks compare with their own steady_clock readings.
inline std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The shortest decimal text that reads back as `v` (facts admit no floats).
std::string NumberText(double v);

// One HTTP POST of a JSON body with libcurl (2 s timeouts, TCP_NODELAY). OK for a 2xx
// answer; kUnavailable naming the HTTP status or the transport error otherwise.
core::Status PostJson(const std::string& url, const std::string& body);

// Back-off after `attempts` failed attempts: 1 s, 2 s, 4 s, ... capped at 5 min.
core::Duration RetryDelay(int attempts);

// Canonical JSON of a fact payload (floats written as decimal text first).
inline core::Result<std::string> Canonical(const core::Json& j) {
  return evidence::CanonicalJson(permit::WithoutFloats(j));
}

inline core::Json StringList(const std::vector<std::string>& v) {
  core::Json a = core::Json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// The start of the UTC minute holding `t`.
inline core::Timestamp MinuteOf(core::Timestamp t) {
  constexpr std::int64_t kMin = 60'000'000;
  std::int64_t m = t.micros / kMin;
  if (t.micros < 0 && t.micros % kMin != 0) --m;
  return core::Timestamp{m * kMin};
}

// --- sealed blocks (readings and trajectories) -------------------------------------------
inline constexpr std::size_t kMaxBlocksPerFact = 500;

// The facts that record sealed block rows (ReadingBlockRow / TrajectoryBlockRow: .site,
// .minute, .part, .count, .sm3_hex): rows sorted by site, one fact of `kind` per site and
// at most kMaxBlocksPerFact blocks, subject "<prefix>:<site>", payload {"site", "blocks":
// [{<series_name>, "minute", "part", "count", "sm3"}]}; fact_index[i] = the fact listing
// row i (what Store::Append*Blocks wants).
template <typename Row, typename SeriesOf>
core::Result<store::FactDrafts> SealedBlockFacts(std::vector<Row>& rows,
                                                 std::vector<int>& fact_index,
                                                 const std::string& kind,
                                                 const std::string& prefix,
                                                 const std::string& actor,
                                                 const char* series_name, SeriesOf series_of) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.site < b.site; });
  fact_index.assign(rows.size(), 0);
  store::FactDrafts facts;
  std::size_t i = 0;
  while (i < rows.size()) {
    const std::string site = rows[i].site;
    core::Json list = core::Json::array();
    const int index = static_cast<int>(facts.size());
    std::size_t n = 0;
    for (; i < rows.size() && rows[i].site == site && n < kMaxBlocksPerFact; ++i, ++n) {
      const Row& b = rows[i];
      list.push_back({{series_name, series_of(b)},
                      {"minute", core::FormatTimestamp(b.minute)},
                      {"part", b.part},
                      {"count", b.count},
                      {"sm3", b.sm3_hex}});
      fact_index[i] = index;
    }
    WG_ASSIGN_OR_RETURN(std::string body,
                        Canonical(core::Json{{"site", site}, {"blocks", std::move(list)}}));
    facts.push_back(store::FactDraft{.kind = kind,
                                     .actor = actor,
                                     .subject = prefix + ":" + site,
                                     .site = site,
                                     .payload = std::move(body)});
  }
  return facts;
}

// The items (samples, track points) of stored sealed blocks whose time is in [from, to),
// and a reference to every block that held one (its digest and fact: the proof), plus
// the still-unsealed `pending` items; sorted by time. `decode(row.data)` returns a
// Result of the decoded block, `items_of(decoded)` its items.
template <typename Row, typename Item, typename Ref, typename Decode, typename ItemsOf>
core::Status CollectSealed(const std::vector<Row>& blocks, core::Timestamp from,
                           core::Timestamp to, Decode decode, ItemsOf items_of,
                           std::vector<Item> pending, std::vector<Item>& items,
                           std::vector<Ref>& refs, std::int64_t& unsealed) {
  for (const Row& b : blocks) {
    WG_ASSIGN_OR_RETURN(auto d, decode(b.data));
    bool any = false;
    for (const Item& it : items_of(d)) {
      if (it.time.micros >= from.micros && it.time.micros < to.micros) {
        items.push_back(it);
        any = true;
      }
    }
    if (any) {
      refs.push_back(Ref{.minute = b.minute,
                         .part = b.part,
                         .count = b.count,
                         .sm3_hex = b.sm3_hex,
                         .fact_seq = b.fact_seq});
    }
  }
  unsealed = static_cast<std::int64_t>(pending.size());
  for (auto& it : pending) items.push_back(std::move(it));
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.time.micros < b.time.micros;
  });
  return core::Status::Ok();
}

// A minute sealed before a restart got more samples: continue its part numbers.
// `stored(series, minute)` returns the stored rows of that series from that minute.
template <typename Row, typename SeriesOf, typename Stored>
void RenumberSealedParts(std::vector<Row>& rows, SeriesOf series_of, Stored stored) {
  std::map<std::pair<std::string, std::int64_t>, int> next;  // (series, minute) -> part
  for (auto& r : rows) {
    const auto key = std::make_pair(std::string(series_of(r)), r.minute.micros);
    auto it = next.find(key);
    if (it == next.end()) {
      int part = 0;
      auto existing = stored(key.first, r.minute);
      if (existing.ok()) {
        for (const auto& e : *existing) {
          if (e.minute.micros == r.minute.micros) part = std::max(part, e.part + 1);
        }
      }
      it = next.emplace(key, part).first;
    }
    r.part = it->second++;
  }
}

}  // namespace wg::live::internal

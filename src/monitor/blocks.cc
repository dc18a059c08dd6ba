// WGRB1 reading blocks and the BlockSealer (docs/formats/reading-block.md).

#include "wg/monitor/blocks.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <utility>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::monitor {
namespace {

constexpr std::string_view kMagic = "WGRB";
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 5;  // magic + version
constexpr std::size_t kCrcBytes = 4;
constexpr std::size_t kMaxPointBytes = 255;
constexpr std::int64_t kMinuteMicros = 60'000'000;
constexpr std::uint8_t kSameValue = 0x80;  // control byte: XOR is zero, no value bytes

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

using wire::PutFixed;
using wire::PutUvarint;
using wire::UnZigZag;
using wire::ZigZag;

std::int64_t MinuteOf(std::int64_t micros) {
  std::int64_t m = micros / kMinuteMicros;
  if (micros % kMinuteMicros < 0) --m;  // floor for instants before 1970
  return m * kMinuteMicros;
}

// Reads the body of a block, naming the first thing that is wrong.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::size_t left() const { return data_.size() - pos_; }

  core::Result<std::uint64_t> Uvarint(const std::string& what) {
    std::uint64_t v = 0;
    switch (wire::GetUvarint(data_, pos_, v)) {
      case wire::UvarintError::kNone:
        return v;
      case wire::UvarintError::kTruncated:
        return Corrupt(what + " is truncated");
      case wire::UvarintError::kOverflow:
        return Corrupt(what + " overflows 64 bits");
      case wire::UvarintError::kNotMinimal:
        return Corrupt(what + " is not minimally encoded");
    }
    return Corrupt(what + " is malformed");
  }

  core::Result<std::string_view> Bytes(std::size_t n, const std::string& what) {
    if (left() < n) return Corrupt(what + " is truncated");
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }

  static core::Status Corrupt(const std::string& what) {
    return core::Status::Corruption("reading block: " + what);
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

std::uint32_t BlockCrc32c(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kCrcTable[(c ^ static_cast<std::uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string EncodeBlock(std::string_view point, const std::vector<Sample>& samples) {
  std::string out;
  out.reserve(kHeaderBytes + 1 + point.size() + 10 + 8 + samples.size() * 6 + kCrcBytes);
  out.append(kMagic);
  out.push_back(static_cast<char>(kVersion));
  PutUvarint(out, point.size());
  out.append(point);
  PutUvarint(out, samples.size());
  if (!samples.empty()) {
    PutFixed(out, static_cast<std::uint64_t>(samples[0].time.micros), 8);
    for (std::size_t i = 1; i < samples.size(); ++i) {
      // Wrapping difference: any two int64 instants round-trip.
      const std::uint64_t d = static_cast<std::uint64_t>(samples[i].time.micros) -
                              static_cast<std::uint64_t>(samples[i - 1].time.micros);
      PutUvarint(out, ZigZag(static_cast<std::int64_t>(d)));
    }
    std::uint64_t prev = 0;
    for (const Sample& s : samples) {
      const auto bits = std::bit_cast<std::uint64_t>(s.value);
      const std::uint64_t x = bits ^ prev;
      prev = bits;
      if (x == 0) {
        out.push_back(static_cast<char>(kSameValue));
        continue;
      }
      const int lead = std::countl_zero(x) / 8;
      const int trail = std::countr_zero(x) / 8;
      out.push_back(static_cast<char>((lead << 4) | trail));
      for (int byte = 7 - lead; byte >= trail; --byte) {  // most significant first
        out.push_back(static_cast<char>((x >> (8 * byte)) & 0xff));
      }
    }
  }
  PutFixed(out, BlockCrc32c(out), 4);
  return out;
}

core::Result<DecodedBlock> DecodeBlock(std::string_view data) {
  if (data.size() < kHeaderBytes + 2 + kCrcBytes) {
    return Reader::Corrupt("block is " + std::to_string(data.size()) +
                           " bytes, shorter than the smallest block (" +
                           std::to_string(kHeaderBytes + 2 + kCrcBytes) + ")");
  }
  if (data.substr(0, kMagic.size()) != kMagic) return Reader::Corrupt("bad magic (not WGRB)");
  const auto version = static_cast<std::uint8_t>(data[kMagic.size()]);
  if (version != kVersion) {
    return Reader::Corrupt("unsupported version " + std::to_string(version));
  }
  const std::string_view body = data.substr(0, data.size() - kCrcBytes);
  std::uint32_t stored = 0;
  for (std::size_t i = 0; i < kCrcBytes; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[body.size() + i]))
              << (8 * i);
  }
  if (stored != BlockCrc32c(body)) {
    return Reader::Corrupt("checksum mismatch (block damaged or truncated)");
  }

  Reader r(body.substr(kHeaderBytes));
  DecodedBlock out;
  WG_ASSIGN_OR_RETURN(std::uint64_t point_len, r.Uvarint("point id length"));
  if (point_len > kMaxPointBytes) {
    return Reader::Corrupt("point id length " + std::to_string(point_len) + " is over " +
                           std::to_string(kMaxPointBytes));
  }
  WG_ASSIGN_OR_RETURN(std::string_view point, r.Bytes(point_len, "point id"));
  out.point = std::string(point);
  WG_ASSIGN_OR_RETURN(std::uint64_t count, r.Uvarint("sample count"));
  // Every sample takes at least two bytes (a delta or the first time, a control byte).
  if (count > r.left() / 2 + 1) {
    return Reader::Corrupt("sample count " + std::to_string(count) + " exceeds the block size");
  }
  if (count > 0) {
    out.samples.resize(count);
    WG_ASSIGN_OR_RETURN(std::string_view first, r.Bytes(8, "first time"));
    std::uint64_t t = 0;
    for (int i = 0; i < 8; ++i) {
      t |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(first[i])) << (8 * i);
    }
    out.samples[0].time.micros = static_cast<std::int64_t>(t);
    for (std::size_t i = 1; i < count; ++i) {
      WG_ASSIGN_OR_RETURN(std::uint64_t z, r.Uvarint("time delta " + std::to_string(i)));
      t += static_cast<std::uint64_t>(UnZigZag(z));
      out.samples[i].time.micros = static_cast<std::int64_t>(t);
    }
    std::uint64_t prev = 0;
    for (std::size_t i = 0; i < count; ++i) {
      WG_ASSIGN_OR_RETURN(std::string_view ctl, r.Bytes(1, "value " + std::to_string(i)));
      const auto c = static_cast<std::uint8_t>(ctl[0]);
      std::uint64_t x = 0;
      if (c != kSameValue) {
        const int lead = c >> 4;
        const int trail = c & 0x0f;
        if (lead + trail >= 8) {
          return Reader::Corrupt("value " + std::to_string(i) + " has a bad control byte " +
                                 std::to_string(c));
        }
        const auto n = static_cast<std::size_t>(8 - lead - trail);
        WG_ASSIGN_OR_RETURN(std::string_view bytes, r.Bytes(n, "value " + std::to_string(i)));
        if (bytes.front() == 0 || bytes.back() == 0) {
          return Reader::Corrupt("value " + std::to_string(i) + " is not minimally encoded");
        }
        for (char b : bytes) x = (x << 8) | static_cast<std::uint8_t>(b);
        x <<= 8 * trail;
      }
      prev ^= x;
      out.samples[i].value = std::bit_cast<double>(prev);
    }
  }
  if (r.left() != 0) {
    return Reader::Corrupt(std::to_string(r.left()) + " unexpected bytes after the values");
  }
  return out;
}

// ---- BlockSealer.

std::size_t BlockSealer::KeyHash::operator()(const Key& k) const noexcept {
  const std::size_t h = std::hash<std::string_view>{}(k.point);
  return h ^ (std::hash<std::int64_t>{}(k.org) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

BlockSealer::SeriesState* BlockSealer::Find(core::OrgId org, std::string_view point) const {
  auto it = index_.find(Key{org.value, point});
  return it == index_.end() ? nullptr : series_[it->second].get();
}

BlockSealer::SeriesId BlockSealer::Series(core::OrgId org, std::string_view site,
                                          std::string_view point) {
  auto it = index_.find(Key{org.value, point});
  if (it != index_.end()) {
    SeriesState& s = *series_[it->second];
    if (s.site != site) s.site = std::string(site);
    return it->second;
  }
  auto state = std::make_unique<SeriesState>();
  state->org = org;
  state->site = std::string(site);
  state->point = std::string(point);
  const auto id = static_cast<SeriesId>(series_.size());
  const Key key{org.value, state->point};  // views the owned copy
  series_.push_back(std::move(state));
  index_.emplace(key, id);
  return id;
}

void BlockSealer::Append(core::OrgId org, std::string_view site, std::string_view point,
                         core::Timestamp time, double value) {
  if (std::isnan(value)) return;
  auto it = index_.find(Key{org.value, point});
  if (it != index_.end() && series_[it->second]->site == site) {
    Append(it->second, time, value);
    return;
  }
  Append(Series(org, site, point), time, value);
}

int BlockSealer::NextPart(const SeriesState& s, std::int64_t minute) const {
  for (auto it = s.sealed.rbegin(); it != s.sealed.rend(); ++it) {
    if (it->first == minute) return it->second;
  }
  return 0;
}

void BlockSealer::Append(SeriesId series, core::Timestamp time, double value) {
  if (series >= series_.size() || std::isnan(value)) return;
  SeriesState& s = *series_[series];
  const std::int64_t minute = MinuteOf(time.micros);
  Open* open = nullptr;
  if (!s.open.empty() && s.open.back().minute == minute) {
    open = &s.open.back();
  } else {
    for (Open& o : s.open) {
      if (o.minute == minute) open = &o;
    }
    if (open == nullptr) {
      Open o;
      o.minute = minute;
      o.part = NextPart(s, minute);
      o.samples.reserve(std::max<std::size_t>(s.last_count, 8));
      // Keep the list in minute order; the newest minute is usually last.
      auto pos = std::find_if(s.open.begin(), s.open.end(),
                              [&](const Open& x) { return x.minute > minute; });
      open = &*s.open.insert(pos, std::move(o));
    }
  }
  open->samples.push_back(Sample{time, value});
  ++pending_;
}

SealedBlock BlockSealer::Seal(SeriesState& s, Open& o) {
  std::stable_sort(o.samples.begin(), o.samples.end(),
                   [](const Sample& a, const Sample& b) { return a.time < b.time; });
  SealedBlock b;
  b.org = s.org;
  b.site = s.site;
  b.point = s.point;
  b.minute = core::Timestamp{o.minute};
  b.part = o.part;
  b.first = o.samples.front().time;
  b.last = o.samples.back().time;
  b.count = static_cast<std::int64_t>(o.samples.size());
  b.min = o.samples.front().value;
  b.max = b.min;
  for (const Sample& x : o.samples) {
    b.min = std::min(b.min, x.value);
    b.max = std::max(b.max, x.value);
  }
  b.data = EncodeBlock(s.point, o.samples);
  b.sm3_hex = core::ToHex(crypto::Sm3(b.data));
  pending_ -= o.samples.size();
  s.last_count = o.samples.size();

  // Remember the next part of this minute; forget minutes far behind the newest.
  bool known = false;
  for (auto& [minute, next] : s.sealed) {
    if (minute == o.minute) {
      next = o.part + 1;
      known = true;
    }
  }
  if (!known) s.sealed.emplace_back(o.minute, o.part + 1);
  std::int64_t newest = o.minute;
  for (const auto& e : s.sealed) newest = std::max(newest, e.first);
  const std::int64_t horizon = newest - kPartMemoryMinutes * kMinuteMicros;
  std::erase_if(s.sealed, [&](const auto& e) { return e.first < horizon; });
  return b;
}

namespace {

// Oldest minute first, then organization, point and part: a stable order for the caller.
void SortBlocks(std::vector<SealedBlock>& blocks) {
  std::sort(blocks.begin(), blocks.end(), [](const SealedBlock& a, const SealedBlock& b) {
    if (a.minute != b.minute) return a.minute < b.minute;
    if (a.org != b.org) return a.org.value < b.org.value;
    if (a.point != b.point) return a.point < b.point;
    return a.part < b.part;
  });
}

}  // namespace

std::vector<SealedBlock> BlockSealer::SealDue(core::Timestamp now) {
  // Due when now - minute >= 1 minute + grace, computed without overflow.
  const std::uint64_t wait =
      static_cast<std::uint64_t>(kMinuteMicros) + static_cast<std::uint64_t>(std::max<std::int64_t>(grace_.micros, 0));
  std::vector<SealedBlock> out;
  for (auto& sp : series_) {
    SeriesState& s = *sp;
    // Open minutes are in minute order: the due ones are a prefix.
    std::size_t due = 0;
    while (due < s.open.size() && s.open[due].minute < now.micros &&
           static_cast<std::uint64_t>(now.micros) - static_cast<std::uint64_t>(s.open[due].minute) >=
               wait) {
      out.push_back(Seal(s, s.open[due]));
      ++due;
    }
    s.open.erase(s.open.begin(), s.open.begin() + static_cast<std::ptrdiff_t>(due));
  }
  SortBlocks(out);
  return out;
}

std::vector<SealedBlock> BlockSealer::SealAll() {
  std::vector<SealedBlock> out;
  for (auto& sp : series_) {
    for (Open& o : sp->open) out.push_back(Seal(*sp, o));
    sp->open.clear();
  }
  SortBlocks(out);
  return out;
}

std::vector<Sample> BlockSealer::Pending(core::OrgId org, std::string_view point,
                                         core::Timestamp from, core::Timestamp to) const {
  std::vector<Sample> out;
  const SeriesState* s = Find(org, point);
  if (s == nullptr) return out;
  for (const Open& o : s->open) {
    for (const Sample& x : o.samples) {
      if (x.time >= from && x.time < to) out.push_back(x);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Sample& a, const Sample& b) { return a.time < b.time; });
  return out;
}

}  // namespace wg::monitor

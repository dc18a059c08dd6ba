// WGTB1 trajectory blocks and the TrajectorySealer (docs/formats/trajectory-block.md).
// The CRC-32C and the varint/zig-zag helpers are the reading blocks' (wg/monitor/blocks.h).

#include "wg/presence/trajectory.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/monitor/blocks.h"

namespace wg::presence {
namespace {

namespace wire = monitor::wire;

constexpr std::string_view kMagic = "WGTB";
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 5;  // magic + version
constexpr std::size_t kCrcBytes = 4;
constexpr std::size_t kMaxTagBytes = 255;
// magic + version, tag length, count, checksum: an empty block with an empty tag.
constexpr std::size_t kMinBlockBytes = kHeaderBytes + 1 + 1 + kCrcBytes;
constexpr std::int64_t kMinuteMicros = 60'000'000;
constexpr std::int64_t kPartMemoryMinutes = 120;

// z flags: no point has z, every point has z, or mixed (a bitmap follows).
constexpr std::uint8_t kZNone = 0;
constexpr std::uint8_t kZAll = 1;
constexpr std::uint8_t kZMixed = 2;

// Times are whole milliseconds whose microseconds fit int64.
constexpr std::int64_t kMaxMillis = std::numeric_limits<std::int64_t>::max() / 1000;
constexpr std::int64_t kMinMillis = -kMaxMillis;
// Coordinates are whole centimetres within the site-frame limits (geo.h).
constexpr auto kMaxXyCm = static_cast<std::int64_t>(kMaxLocalCoordinate * 100);
constexpr auto kMaxZCm = static_cast<std::int64_t>(kMaxHeight * 100);

std::int64_t MillisOf(core::Timestamp t) {
  std::int64_t ms = t.micros / 1000;
  if (t.micros % 1000 < 0) --ms;  // floor: a fix stays in its minute
  return std::clamp(ms, kMinMillis, kMaxMillis);
}

// llround(v * 100) clamped to +-limit; NaN is 0 (the sealer never passes either).
std::int64_t CentimetresOf(double v, std::int64_t limit) {
  if (std::isnan(v)) return 0;
  const double c = v * 100;
  const auto lim = static_cast<double>(limit);
  if (c >= lim) return limit;
  if (c <= -lim) return -limit;
  return std::llround(c);
}

struct Quantum {
  std::int64_t ms = 0, x = 0, y = 0, z = 0;
  bool has_z = false;
};

Quantum QuantumOf(const TrackPoint& p) {
  Quantum q;
  q.ms = MillisOf(p.time);
  q.x = CentimetresOf(p.position.x, kMaxXyCm);
  q.y = CentimetresOf(p.position.y, kMaxXyCm);
  q.has_z = p.has_z;
  q.z = p.has_z ? CentimetresOf(p.position.z, kMaxZCm) : 0;
  return q;
}

// cm / 100.0 (a division, so a value on the grid comes back as the same double).
TrackPoint PointOf(const Quantum& q) {
  TrackPoint p;
  p.time = core::Timestamp{q.ms * 1000};
  p.position = Vec3{static_cast<double>(q.x) / 100.0, static_cast<double>(q.y) / 100.0,
                    static_cast<double>(q.z) / 100.0};
  p.has_z = q.has_z;
  return p;
}

TrackPoint Quantize(const TrackPoint& p) { return PointOf(QuantumOf(p)); }

std::int64_t MinuteOf(std::int64_t micros) {
  std::int64_t m = micros / kMinuteMicros;
  if (micros % kMinuteMicros < 0) --m;  // floor for instants before 1970
  return m * kMinuteMicros;
}

core::Status Corrupt(const std::string& what) {
  return core::Status::Corruption("trajectory block: " + what);
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

  // A zig-zag delta applied to `prev`, the result within +-limit.
  core::Result<std::int64_t> Coordinate(const std::string& what, std::int64_t prev,
                                        std::int64_t limit) {
    WG_ASSIGN_OR_RETURN(std::uint64_t z, Uvarint(what));
    const std::int64_t d = wire::UnZigZag(z);
    if (d < -2 * limit || d > 2 * limit || prev + d < -limit || prev + d > limit) {
      return Corrupt(what + " is out of range");
    }
    return prev + d;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string EncodeTrajectory(std::string_view tag, const std::vector<TrackPoint>& points) {
  tag = tag.substr(0, kMaxTagBytes);
  std::vector<Quantum> q;
  q.reserve(points.size());
  for (const TrackPoint& p : points) q.push_back(QuantumOf(p));
  // Points are written in time order (as the sealer keeps them); an unsorted input is
  // sorted (stable) so every time delta is >= 0.
  const auto by_time = [](const Quantum& a, const Quantum& b) { return a.ms < b.ms; };
  if (!std::is_sorted(q.begin(), q.end(), by_time)) std::stable_sort(q.begin(), q.end(), by_time);

  std::string out;
  out.reserve(kMinBlockBytes + tag.size() + 10 + q.size() * 6 + q.size() / 8 + 1);
  out.append(kMagic);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(tag.size()));
  out.append(tag);
  wire::PutUvarint(out, q.size());
  if (!q.empty()) {
    const auto with_z = std::count_if(q.begin(), q.end(), [](const Quantum& x) { return x.has_z; });
    if (with_z == 0) {
      out.push_back(static_cast<char>(kZNone));
    } else if (static_cast<std::size_t>(with_z) == q.size()) {
      out.push_back(static_cast<char>(kZAll));
    } else {
      out.push_back(static_cast<char>(kZMixed));
      std::string bitmap((q.size() + 7) / 8, '\0');
      for (std::size_t i = 0; i < q.size(); ++i) {
        if (q[i].has_z) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
      }
      out.append(bitmap);
    }
    std::int64_t px = 0, py = 0, pz = 0;
    for (std::size_t i = 0; i < q.size(); ++i) {
      if (i == 0) {
        wire::PutUvarint(out, wire::ZigZag(q[0].ms));
      } else {
        wire::PutUvarint(out, static_cast<std::uint64_t>(q[i].ms - q[i - 1].ms));
      }
      wire::PutUvarint(out, wire::ZigZag(q[i].x - px));
      wire::PutUvarint(out, wire::ZigZag(q[i].y - py));
      px = q[i].x;
      py = q[i].y;
      if (q[i].has_z) {
        wire::PutUvarint(out, wire::ZigZag(q[i].z - pz));
        pz = q[i].z;
      }
    }
  }
  wire::PutFixed(out, monitor::BlockCrc32c(out), kCrcBytes);
  return out;
}

core::Result<DecodedTrajectory> DecodeTrajectory(std::string_view data) {
  if (data.size() < kMinBlockBytes) {
    return Corrupt("block is " + std::to_string(data.size()) +
                   " bytes, shorter than the smallest block (" + std::to_string(kMinBlockBytes) +
                   ")");
  }
  if (data.substr(0, kMagic.size()) != kMagic) return Corrupt("bad magic (not WGTB)");
  const auto version = static_cast<std::uint8_t>(data[kMagic.size()]);
  if (version != kVersion) return Corrupt("unsupported version " + std::to_string(version));
  const std::string_view body = data.substr(0, data.size() - kCrcBytes);
  std::uint32_t stored = 0;
  for (std::size_t i = 0; i < kCrcBytes; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[body.size() + i]))
              << (8 * i);
  }
  if (stored != monitor::BlockCrc32c(body)) {
    return Corrupt("checksum mismatch (block damaged or truncated)");
  }

  Reader r(body.substr(kHeaderBytes));
  DecodedTrajectory out;
  WG_ASSIGN_OR_RETURN(std::string_view tag_len, r.Bytes(1, "tag length"));
  WG_ASSIGN_OR_RETURN(std::string_view tag,
                      r.Bytes(static_cast<std::uint8_t>(tag_len[0]), "tag"));
  out.tag = std::string(tag);
  WG_ASSIGN_OR_RETURN(std::uint64_t count, r.Uvarint("point count"));
  // Every point takes at least three bytes (its time, x and y).
  if (count > r.left() / 3) {
    return Corrupt("point count " + std::to_string(count) + " exceeds the block size");
  }
  if (count == 0) {
    if (r.left() != 0) {
      return Corrupt(std::to_string(r.left()) + " unexpected bytes after the points");
    }
    return out;
  }

  WG_ASSIGN_OR_RETURN(std::string_view flags_byte, r.Bytes(1, "z flags"));
  const auto flags = static_cast<std::uint8_t>(flags_byte[0]);
  if (flags > kZMixed) return Corrupt("z flags " + std::to_string(flags) + " is not 0, 1 or 2");
  std::string_view bitmap;
  if (flags == kZMixed) {
    WG_ASSIGN_OR_RETURN(bitmap, r.Bytes((count + 7) / 8, "z bitmap"));
    const unsigned tail_bits = count % 8;
    if (tail_bits != 0 &&
        (static_cast<std::uint8_t>(bitmap.back()) >> tail_bits) != 0) {
      return Corrupt("z bitmap has bits set past the last point");
    }
    std::size_t set = 0;
    for (char b : bitmap) {
      set += static_cast<std::size_t>(std::popcount(static_cast<std::uint8_t>(b)));
    }
    if (set == 0 || set == count) {
      return Corrupt("z bitmap marks every point alike (z flags must be 0 or 1)");
    }
  }

  out.points.reserve(count);
  Quantum q;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    if (i == 0) {
      WG_ASSIGN_OR_RETURN(std::uint64_t z, r.Uvarint("time of point 0"));
      q.ms = wire::UnZigZag(z);
      if (q.ms < kMinMillis || q.ms > kMaxMillis) return Corrupt("time of point 0 is out of range");
    } else {
      WG_ASSIGN_OR_RETURN(std::uint64_t d, r.Uvarint("time delta of point " + n));
      if (d > static_cast<std::uint64_t>(kMaxMillis - q.ms)) {
        return Corrupt("time of point " + n + " is out of range");
      }
      q.ms += static_cast<std::int64_t>(d);
    }
    WG_ASSIGN_OR_RETURN(q.x, r.Coordinate("x of point " + n, q.x, kMaxXyCm));
    WG_ASSIGN_OR_RETURN(q.y, r.Coordinate("y of point " + n, q.y, kMaxXyCm));
    q.has_z = flags == kZAll || (flags == kZMixed &&
                                 ((static_cast<std::uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1) != 0);
    Quantum emitted = q;
    if (q.has_z) {
      WG_ASSIGN_OR_RETURN(q.z, r.Coordinate("z of point " + n, q.z, kMaxZCm));
      emitted.z = q.z;
    } else {
      emitted.z = 0;
    }
    out.points.push_back(PointOf(emitted));
  }
  if (r.left() != 0) {
    return Corrupt(std::to_string(r.left()) + " unexpected bytes after the points");
  }
  return out;
}

// ---- TrajectorySealer.

namespace {

struct Open {
  std::int64_t minute = 0;  // micros
  int part = 0;
  std::string site;
  bool closed = false;  // the tag moved to another site: no more points, sealed next
  std::vector<TrackPoint> points;  // quantized, sorted by time
};

struct TagState {
  core::OrgId org;
  std::string site, tag;
  std::vector<Open> open;
  std::vector<std::pair<std::int64_t, int>> sealed;  // minute -> next part, recent only
};

struct Key {
  std::int64_t org;
  std::string tag;
};
struct KeyView {
  std::int64_t org;
  std::string_view tag;
};
struct KeyLess {
  using is_transparent = void;
  static KeyView V(const Key& k) { return {k.org, k.tag}; }
  static KeyView V(const KeyView& k) { return k; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const KeyView x = V(a), y = V(b);
    return x.org != y.org ? x.org < y.org : x.tag < y.tag;
  }
};

bool Acceptable(std::string_view tag, const TrackPoint& p) {
  if (tag.size() > kMaxTagBytes) return false;
  const Vec3& v = p.position;
  if (!std::isfinite(v.x) || !std::isfinite(v.y)) return false;
  if (std::abs(v.x) > kMaxLocalCoordinate || std::abs(v.y) > kMaxLocalCoordinate) return false;
  if (p.has_z && (!std::isfinite(v.z) || std::abs(v.z) > kMaxHeight)) return false;
  return true;
}

// Oldest minute first, then organization, tag and part.
void SortBlocks(std::vector<SealedTrajectory>& blocks) {
  std::sort(blocks.begin(), blocks.end(),
            [](const SealedTrajectory& a, const SealedTrajectory& b) {
              if (a.minute != b.minute) return a.minute < b.minute;
              if (a.org != b.org) return a.org.value < b.org.value;
              if (a.tag != b.tag) return a.tag < b.tag;
              return a.part < b.part;
            });
}

}  // namespace

struct TrajectorySealer::Impl {
  core::Duration grace;
  std::size_t pending = 0;
  std::map<Key, TagState, KeyLess> tags;

  static int NextPart(const TagState& s, std::int64_t minute) {
    int part = 0;
    for (const auto& [m, next] : s.sealed) {
      if (m == minute) part = std::max(part, next);
    }
    for (const Open& o : s.open) {
      if (o.minute == minute) part = std::max(part, o.part + 1);
    }
    return part;
  }

  SealedTrajectory Seal(TagState& s, Open& o) {
    SealedTrajectory b;
    b.org = s.org;
    b.site = o.site;
    b.tag = s.tag;
    b.minute = core::Timestamp{o.minute};
    b.part = o.part;
    b.first = o.points.front().time;
    b.last = o.points.back().time;
    b.count = static_cast<std::int64_t>(o.points.size());
    b.data = EncodeTrajectory(s.tag, o.points);
    b.sm3_hex = core::ToHex(crypto::Sm3(b.data));
    pending -= o.points.size();

    // Remember the next part of this minute; forget minutes far behind the newest.
    bool known = false;
    for (auto& [minute, next] : s.sealed) {
      if (minute == o.minute) {
        next = std::max(next, o.part + 1);
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
};

TrajectorySealer::TrajectorySealer(core::Duration grace) : impl_(std::make_unique<Impl>()) {
  impl_->grace = grace;
}

TrajectorySealer::~TrajectorySealer() = default;

void TrajectorySealer::Append(core::OrgId org, std::string_view site, std::string_view tag,
                              const TrackPoint& p) {
  if (!Acceptable(tag, p)) return;
  auto it = impl_->tags.find(KeyView{org.value, tag});
  if (it == impl_->tags.end()) {
    TagState s;
    s.org = org;
    s.site = std::string(site);
    s.tag = std::string(tag);
    it = impl_->tags.emplace(Key{org.value, std::string(tag)}, std::move(s)).first;
  }
  TagState& s = it->second;
  if (s.site != site) {
    // The tag moved: what it collected at the old site is sealed as it is.
    for (Open& o : s.open) o.closed = true;
    s.site = std::string(site);
  }
  const TrackPoint q = Quantize(p);
  const std::int64_t minute = MinuteOf(q.time.micros);
  Open* open = nullptr;
  for (Open& o : s.open) {
    if (o.minute == minute && !o.closed) open = &o;
  }
  if (open == nullptr) {
    Open o;
    o.minute = minute;
    o.part = Impl::NextPart(s, minute);
    o.site = s.site;
    open = &s.open.emplace_back(std::move(o));
  }
  auto& pts = open->points;
  if (pts.empty() || pts.back().time <= q.time) {
    pts.push_back(q);
  } else {  // a fix out of order: in place, after any of the same time
    pts.insert(std::upper_bound(pts.begin(), pts.end(), q,
                                [](const TrackPoint& a, const TrackPoint& b) {
                                  return a.time < b.time;
                                }),
               q);
  }
  ++impl_->pending;
}

std::vector<SealedTrajectory> TrajectorySealer::SealDue(core::Timestamp now) {
  // Due when now - minute >= 1 minute + grace, computed without overflow.
  const std::uint64_t wait =
      static_cast<std::uint64_t>(kMinuteMicros) +
      static_cast<std::uint64_t>(std::max<std::int64_t>(impl_->grace.micros, 0));
  const auto behind = [&](std::int64_t minute, std::uint64_t at_least) {
    return minute < now.micros &&
           static_cast<std::uint64_t>(now.micros) - static_cast<std::uint64_t>(minute) >= at_least;
  };
  std::vector<SealedTrajectory> out;
  for (auto it = impl_->tags.begin(); it != impl_->tags.end();) {
    TagState& s = it->second;
    for (Open& o : s.open) {
      if (o.closed || behind(o.minute, wait)) {
        out.push_back(impl_->Seal(s, o));
        o.points.clear();
      }
    }
    std::erase_if(s.open, [](const Open& o) { return o.points.empty(); });
    // A tag with nothing open whose newest sealed minute is past the part memory is
    // forgotten (bounded memory for tags that come and go).
    bool forget = s.open.empty();
    for (const auto& e : s.sealed) {
      if (!behind(e.first, static_cast<std::uint64_t>(kPartMemoryMinutes * kMinuteMicros) + wait)) {
        forget = false;
      }
    }
    it = forget ? impl_->tags.erase(it) : std::next(it);
  }
  SortBlocks(out);
  return out;
}

std::vector<SealedTrajectory> TrajectorySealer::SealAll() {
  std::vector<SealedTrajectory> out;
  for (auto& [key, s] : impl_->tags) {
    for (Open& o : s.open) out.push_back(impl_->Seal(s, o));
    s.open.clear();
  }
  SortBlocks(out);
  return out;
}

std::vector<TrackPoint> TrajectorySealer::Pending(core::OrgId org, std::string_view tag,
                                                  core::Timestamp from,
                                                  core::Timestamp to) const {
  std::vector<TrackPoint> out;
  auto it = impl_->tags.find(KeyView{org.value, tag});
  if (it == impl_->tags.end()) return out;
  for (const Open& o : it->second.open) {
    for (const TrackPoint& p : o.points) {
      if (p.time >= from && p.time < to) out.push_back(p);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TrackPoint& a, const TrackPoint& b) { return a.time < b.time; });
  return out;
}

std::size_t TrajectorySealer::pending_points() const { return impl_->pending; }

}  // namespace wg::presence

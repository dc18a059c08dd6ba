#pragma once
// Sealed reading blocks (docs/formats/reading-block.md): raw readings are too many to be
// a fact each, so each point's readings are kept in blocks of one minute of reading time,
// encoded compactly ("WGRB1": zig-zag varint time deltas, XOR-compressed doubles) and
// sealed: the block's SM3 digest goes into a "readings.sealed" fact of the evidence log,
// so any single reading can later be proven by decoding its block and checking the digest
// recorded in the log.
//
// BlockSealer is pure (no clock reads, not thread-safe): Append keeps readings per point
// and minute; SealDue(now) returns the blocks whose minute ended at least `grace` before
// `now`. A reading arriving for a minute already sealed starts a new block of that minute
// with the next `part` number: nothing is ever rewritten.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wg/core/ids.h"
#include "wg/core/status.h"
#include "wg/core/time.h"

namespace wg::monitor {

struct Sample {
  core::Timestamp time;
  double value = 0;
};

// Encodes samples (sorted by time, as appended) of one point into a WGRB1 block.
std::string EncodeBlock(std::string_view point, const std::vector<Sample>& samples);
// Decodes a block; kCorruption naming what is wrong for a damaged block.
struct DecodedBlock {
  std::string point;
  std::vector<Sample> samples;
};
core::Result<DecodedBlock> DecodeBlock(std::string_view data);
// CRC-32C (Castagnoli) of `data`: the block's trailing checksum (exposed for tests and
// shared with the presence trajectory blocks, WGTB1).
std::uint32_t BlockCrc32c(std::string_view data);

// Integer encodings shared by the block formats (WGRB1 here, WGTB1 in presence):
// uvarint is 7 bits a byte, least significant group first, the high bit set on every byte
// but the last, at most 10 bytes and minimally encoded; zig-zag is (v << 1) ^ (v >> 63).
namespace wire {

inline void PutUvarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// `bytes` least significant first (little-endian).
inline void PutFixed(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

enum class UvarintError { kNone, kTruncated, kOverflow, kNotMinimal };

// Reads a uvarint at data[pos], advancing pos past it; on an error `v` and `pos` are
// unspecified. Bytes after 63 bits of payload cannot continue (the 10th byte is 0 or 1).
inline UvarintError GetUvarint(std::string_view data, std::size_t& pos, std::uint64_t& v) {
  v = 0;
  for (int shift = 0;; shift += 7) {
    if (pos >= data.size()) return UvarintError::kTruncated;
    const auto b = static_cast<std::uint8_t>(data[pos++]);
    if (shift == 63 && b > 1) return UvarintError::kOverflow;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      return b == 0 && shift > 0 ? UvarintError::kNotMinimal : UvarintError::kNone;
    }
  }
}

}  // namespace wire

struct SealedBlock {
  core::OrgId org;
  std::string site;
  std::string point;
  core::Timestamp minute;       // start of the minute (UTC, whole minute)
  int part = 0;                 // 0, then 1.. for late readings of a sealed minute
  core::Timestamp first, last;  // first and last sample time
  std::int64_t count = 0;
  double min = 0, max = 0;
  std::string data;             // WGRB1 bytes
  std::string sm3_hex;          // SM3(data), 64 lowercase hex
};

class BlockSealer {
 public:
  explicit BlockSealer(core::Duration grace = core::Duration::Seconds(5)) : grace_(grace) {}
  // NaN is not a reading: it is ignored. Allocates nothing once the point's current
  // minute is open (the point is found by a heterogeneous hash lookup).
  void Append(core::OrgId org, std::string_view site, std::string_view point, core::Timestamp time,
              double value);
  // The fast path: a caller that appends many readings per point resolves the point once
  // and appends by its small id (valid for the sealer's life; the same (org, point) always
  // gets the same id; a changed `site` is taken over).
  using SeriesId = std::uint32_t;
  SeriesId Series(core::OrgId org, std::string_view site, std::string_view point);
  void Append(SeriesId series, core::Timestamp time, double value);
  // Blocks whose minute ended at least `grace` before now, oldest minute first.
  std::vector<SealedBlock> SealDue(core::Timestamp now);
  // Every block still open (shutdown).
  std::vector<SealedBlock> SealAll();
  // Unsealed samples of a point in [from, to) (the API's view of the current minute).
  std::vector<Sample> Pending(core::OrgId org, std::string_view point, core::Timestamp from,
                              core::Timestamp to) const;
  std::size_t pending_samples() const { return pending_; }

  // How long (in minutes of reading time behind a point's newest sealed minute) the
  // sealer remembers the parts it sealed. A reading later than that starts part 0 again,
  // as after a restart; the store then refuses the duplicate (kAlreadyExists).
  static constexpr std::int64_t kPartMemoryMinutes = 120;

 private:
  struct Open {
    std::int64_t minute = 0;  // micros
    int part = 0;
    std::vector<Sample> samples;
  };
  struct SeriesState {
    core::OrgId org;
    std::string site;
    std::string point;
    std::vector<Open> open;  // usually one, two around a minute boundary
    std::vector<std::pair<std::int64_t, int>> sealed;  // minute -> next part, recent only
    std::size_t last_count = 0;  // samples of the last sealed block (capacity hint)
  };
  struct Key {
    std::int64_t org;
    std::string_view point;  // views SeriesState::point (or the caller's, for lookups)
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const Key& k) const noexcept;
  };

  SeriesState* Find(core::OrgId org, std::string_view point) const;
  SealedBlock Seal(SeriesState& s, Open& o);
  int NextPart(const SeriesState& s, std::int64_t minute) const;

  core::Duration grace_;
  std::size_t pending_ = 0;
  std::vector<std::unique_ptr<SeriesState>> series_;  // by SeriesId; addresses stable
  std::unordered_map<Key, SeriesId, KeyHash> index_;
};

}  // namespace wg::monitor

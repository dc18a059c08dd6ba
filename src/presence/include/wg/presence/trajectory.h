#pragma once
// Sealed trajectory blocks (docs/formats/trajectory-block.md): each tag's accepted
// positions, one block per minute of fix time, encoded compactly ("WGTB1": varint
// millisecond time deltas, zig-zag varint deltas of centimetre-quantized x/y/z in the
// site frame) and sealed: the block's SM3 digest goes into a "trajectory.sealed" fact of
// the evidence log, exactly like reading blocks, so a replay report can prove where a tag
// was.
//
// TrajectorySealer is pure (no clock reads, not thread-safe). A fix for a minute already
// sealed starts a new part of that minute: nothing is rewritten.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/ids.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/presence/geo.h"

namespace wg::presence {

struct TrackPoint {
  core::Timestamp time;  // millisecond precision is kept
  Vec3 position;         // centimetre precision is kept
  bool has_z = false;
  friend bool operator==(const TrackPoint&, const TrackPoint&) = default;
};

std::string EncodeTrajectory(std::string_view tag, const std::vector<TrackPoint>& points);
struct DecodedTrajectory {
  std::string tag;
  std::vector<TrackPoint> points;
};
// kCorruption naming what is wrong (bad magic, truncated, CRC mismatch, trailing bytes).
core::Result<DecodedTrajectory> DecodeTrajectory(std::string_view data);

struct SealedTrajectory {
  core::OrgId org;
  std::string site, tag;
  core::Timestamp minute;
  int part = 0;
  core::Timestamp first, last;
  std::int64_t count = 0;
  std::string data;     // WGTB1
  std::string sm3_hex;  // SM3(data), lowercase hex
};

class TrajectorySealer {
 public:
  explicit TrajectorySealer(core::Duration grace = core::Duration::Seconds(5));
  ~TrajectorySealer();
  void Append(core::OrgId org, std::string_view site, std::string_view tag, const TrackPoint& p);
  std::vector<SealedTrajectory> SealDue(core::Timestamp now);  // oldest minute first
  std::vector<SealedTrajectory> SealAll();
  // Unsealed points of a tag in [from, to).
  std::vector<TrackPoint> Pending(core::OrgId org, std::string_view tag, core::Timestamp from,
                                  core::Timestamp to) const;
  std::size_t pending_points() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::presence

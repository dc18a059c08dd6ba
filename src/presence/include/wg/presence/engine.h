#pragma once
// The presence engine (pure: no clock reads, no I/O, not thread-safe; the service
// serializes calls). Positions in, fence events and alarm operations out.
//
//   Ingest(fix)  validate (finite, in range, accuracy, time window, order, plausible speed)
//                -> site frame (UWB transform / WGS-84 -> local) -> spatial index ->
//                fence transitions (entered/exited) of zone fences and permit fences ->
//                immediate rule state (unauthorized entry timers, movement anchor)
//   Tick(now)    time-driven rules: grace periods of guardian/holder presence,
//                unauthorized entry, confined-space occupancy of suspended permits,
//                lone worker, stale tags, jump bursts; raises and clears alarms
//
// Alarms are de-duplicated per (rule, subject): one AlarmOp::kRaise when a condition has
// held for its grace period, one kClear when it stops holding (or the permit closes).
// The service turns them into monitor alarms (same SOP, acknowledgement, notifications).
//
// Subjects (the alarm's "point"): "permit:<number>/<person key>" for permit-bound rules,
// "person:<person key>" for lone worker, "tag:<tag id>" for stale and jump alarms,
// "fence:<fence id>/<person key>" for restricted-area entry.
//
// A person is who a tag is bound to at the fix's time; a fix of an unbound tag updates
// the tag's position and fences but no person rule. A person with several tags is
// represented by the freshest fix.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/ids.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/monitor/model.h"
#include "wg/presence/geo.h"
#include "wg/presence/model.h"
#include "wg/presence/rulebook.h"

namespace wg::presence {

enum class PositionVerdict : std::uint8_t {
  kAccepted,
  kUnknownTag,       // no such tag in the organization (or the fix names another site)
  kDisabled,         // the tag is disabled
  kNotFinite,        // NaN / infinity in a coordinate or accuracy
  kOutOfRange,       // |x|,|y| > kMaxLocalCoordinate, |z| > kMaxHeight, bad lat/lon
  kNoSiteOrigin,     // a GPS fix for a site without a WGS-84 origin
  kPoorAccuracy,     // accuracy worse than the rulebook's max_accuracy_m
  kTooFarFuture,     // time > now + max_future
  kTooOld,           // time < now - max_age
  kOutOfOrder,       // older than the tag's last accepted fix
  kDuplicate,        // same time as the tag's last accepted fix
  kImplausibleJump,  // faster than a person can move (flagged; counted per tag)
};
std::string_view PositionVerdictName(PositionVerdict v);  // "accepted", "unknown_tag", ...

using TagIndex = std::uint32_t;

struct EngineOptions {
  core::Duration max_future = core::Duration::Seconds(60);
  core::Duration max_age = core::Duration::Hours(24);
  double grid_cell_m = 32;
  std::size_t max_tags = 1'000'000;
  std::size_t max_fences = 200'000;
};

// An open permit as the engine needs it (built by the service from the permit).
struct PermitContext {
  core::OrgId org;
  std::int64_t id = 0;
  std::string number;
  std::string site, zone;
  std::string type;        // permit type code: "hot_work", "confined_space", ...
  bool active = true;      // false: suspended (work stopped; nobody should be inside)
  Area fence;              // the work fence (the permit's polygon, or a circle round the point)
  Vec2 work_point;
  std::vector<PersonRef> guardians;
  struct Holder {
    PersonRef person;
    std::string role;                // permit role ("performer", ...)
    std::string certificate_number;  // the certificate verified on the permit
    friend bool operator==(const Holder&, const Holder&) = default;
  };
  std::vector<Holder> holders;
  std::vector<PersonRef> authorized;  // everyone with a role or signature on the permit
  core::Timestamp active_since;       // when it (last) became active
  friend bool operator==(const PermitContext&, const PermitContext&) = default;
};

struct FenceEvent {
  enum class Kind : std::uint8_t { kEntered, kExited } kind = Kind::kEntered;
  core::OrgId org;
  std::string site, zone;
  std::string fence;       // zone fence id, or "permit:<number>" for a permit's work fence
  std::string permit;      // permit number for permit fences, else ""
  bool confined = false;   // a permit fence of a confined_headcount permit type (register)
  bool hazardous = false;
  PersonRef person;        // empty for an unbound tag
  std::string tag;         // "" for a manual register entry
  std::string source = "tag";  // "tag" | "manual"
  std::vector<std::string> tools;  // manual register: tools declared in / brought out
  core::Timestamp at;
  Vec3 position;
  core::Duration dwell{};  // kExited: time inside
};
std::string_view FenceEventKindName(FenceEvent::Kind k);  // "entered" / "exited"

struct AlarmOp {
  enum class Op : std::uint8_t { kRaise, kClear } op = Op::kRaise;
  core::OrgId org;
  std::string site, zone;
  std::string subject;   // see the header comment
  std::string rule, clause;
  Check check = Check::kGuardianPresence;
  monitor::Level level = monitor::Level::kYellow;
  std::vector<std::string> actions;   // the rule's actions
  std::vector<std::string> permits;   // the permit it concerns ("" none)
  PersonRef person;
  std::string message_zh, message_en;
  core::Json evidence = core::Json::object();  // positions, distances, certificate, times
  double value = 0;      // what was measured: metres, seconds, m/s ...
  std::string unit;      // "m", "s", "m/s", "people"
  core::Timestamp at;
};

struct Output {
  std::vector<FenceEvent> events;
  std::vector<AlarmOp> alarms;
  void clear() { events.clear(); alarms.clear(); }
  bool empty() const { return events.empty() && alarms.empty(); }
};

// A tag's last accepted position, in the site frame (and WGS-84 when the site has an
// origin).
struct TagState {
  core::OrgId org;
  std::string tag, site;
  TagKind kind = TagKind::kUwb;
  PersonRef person;                 // bound now (empty: unbound)
  std::optional<core::Timestamp> time;
  Vec3 position;
  bool has_z = false;
  std::optional<double> accuracy_m;
  std::optional<LatLon> wgs84;
  bool stale = false;               // no fix for the stale_tag rule's `after`
  std::vector<std::string> fences;  // fences it is inside (zone ids and "permit:<n>")
};

struct Occupant {
  PersonRef person;
  std::string tag;     // "" when registered manually
  core::Timestamp since;
  std::string source;  // "tag" | "manual"
  std::vector<std::string> tools;
};

struct EngineStats {
  std::uint64_t fixes = 0;       // Ingest calls
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> rejected;  // verdict name -> count
  std::uint64_t fence_checks = 0;  // exact point-in-area tests made
  std::uint64_t events = 0;
  std::uint64_t alarms_raised = 0;
};

class Engine {
 public:
  explicit Engine(const PresenceRulebook& book, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- configuration --------------------------------------------------------------------
  // Adds or replaces a tag (by org + id); keeps its index and last position (a changed
  // site forgets the position).
  core::Result<TagIndex> UpsertTag(const Tag& tag);
  core::Status RemoveTag(core::OrgId org, std::string_view id);  // disables; index kept
  std::optional<TagIndex> FindTag(core::OrgId org, std::string_view id) const;
  // Replaces every binding of the tag (the service passes the tag's full history).
  core::Status SetBindings(core::OrgId org, std::string_view tag, std::vector<Binding> bindings);
  core::Status UpsertFence(const Fence& fence);  // ValidateArea'd; replaces by org + id
  core::Status RemoveFence(core::OrgId org, std::string_view id);
  void SetSiteFrame(core::OrgId org, std::string_view site, const SiteFrame& frame);
  std::optional<SiteFrame> GetSiteFrame(core::OrgId org, std::string_view site) const;
  // Replaces the organization's open permits (active and suspended). A permit that is
  // gone closes its alarms (kClear) and its occupancy; a permit that became active again
  // restarts its grace periods from `now`. People already inside a new permit's fence
  // are entered at once (events).
  void SetPermits(core::OrgId org, std::vector<PermitContext> permits, core::Timestamp now,
                  Output& out);

  // --- intake ---------------------------------------------------------------------------
  // `site` must be the tag's site ("" = the tag's own). Never throws, never crashes on any
  // input; a rejected fix changes nothing but the counters (and the jump record).
  PositionVerdict Ingest(core::OrgId org, std::string_view site, const PositionFix& fix,
                         core::Timestamp now, Output& out);
  PositionVerdict Ingest(TagIndex tag, const PositionFix& fix, core::Timestamp now, Output& out);
  void Tick(core::Timestamp now, Output& out);

  // Manual confined-space register (the guardian's phone, for people without a tag):
  // kNotFound for an unknown permit, kFailedPrecondition when entering twice / exiting
  // when not inside, kInvalidArgument for a permit type without a register.
  core::Status ManualEntry(core::OrgId org, std::string_view permit, const PersonRef& person,
                           bool entering, std::vector<std::string> tools, core::Timestamp at,
                           Output& out);
  // Restores a permit's occupants after a restart (from the register facts).
  void RestoreOccupants(core::OrgId org, std::string_view permit, std::vector<Occupant> occupants,
                        std::map<std::string, int> tools_inside);

  // --- queries --------------------------------------------------------------------------
  std::optional<TagState> Tag(TagIndex i, core::Timestamp now) const;
  // The person's freshest position (across their tags bound at that time).
  std::optional<TagState> LastPosition(core::OrgId org, const PersonRef& person,
                                       core::Timestamp now) const;
  // Tags of the organization with a position ("" site = every site).
  std::vector<TagState> Positions(core::OrgId org, std::string_view site, core::Timestamp now) const;
  std::vector<Occupant> Occupants(core::OrgId org, std::string_view permit) const;
  // Declared tools not yet brought out: tool -> count.
  std::map<std::string, int> ToolsInside(core::OrgId org, std::string_view permit) const;
  std::vector<AlarmOp> OpenAlarms(core::OrgId org) const;  // the raise ops still open
  const EngineStats& stats() const;
  std::size_t tag_count() const;
  std::size_t fence_count() const;

  const PresenceRulebook& rulebook() const { return book_; }

 private:
  const PresenceRulebook& book_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::presence
